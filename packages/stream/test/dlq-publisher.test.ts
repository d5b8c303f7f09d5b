import { createHash } from 'node:crypto';
import { DLQ_LIMITS, DlqRecord, MAX_MESSAGE_BYTES, ValidationError, encodeJson, parseWith } from '@affinity/contracts';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { DlqPublisher, type RejectedMessage } from '../src';

function rejected(message: Partial<KafkaMessage>, error = new ValidationError('bad', [{ path: 'title', message: 'must not be empty' }])): RejectedMessage {
  return {
    topic: 'catalog.products.v1',
    partition: 3,
    message: { key: null, value: null, timestamp: '1700000000000', attributes: 0, offset: '42', headers: {}, ...message } as KafkaMessage,
    error,
    attempts: 1,
  };
}

describe('DLQ records are bounded', () => {
  it('keeps a small message whole, with its size and digest', () => {
    const value = Buffer.from('{"type":"product.upsert"}');
    const rec = DlqPublisher.toRecord(rejected({ key: Buffer.from('p1'), value, headers: { trace: 'abc' } }), 'g', 1_700_000_000_000);
    expect(rec).toMatchObject({ value: value.toString('base64'), valueBytes: value.length, key: Buffer.from('p1').toString('base64'), keyBytes: 2, headers: { trace: 'abc' }, truncated: [] });
    expect(rec.valueSha256).toBe(createHash('sha256').update(value).digest('hex'));
  });

  it('the worst a producer can send still encodes below the message limit and parses back', () => {
    // Every string made of characters JSON escapes as six bytes (\u0001), every part far above its bound.
    const nasty = (n: number) => '\u0001'.repeat(n);
    const headers = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`${i}${nasty(1000)}`, nasty(50_000)]));
    const issues = Array.from({ length: 500 }, () => ({ path: nasty(10_000), message: nasty(10_000) }));
    const value = Buffer.alloc(4 * 1024 * 1024, 7);
    const key = Buffer.alloc(200 * 1024, 1);
    const r = rejected({ key, value, headers }, new ValidationError(nasty(1_000_000), issues));
    const rec = DlqPublisher.toRecord(r, 'g'.repeat(255), 1_700_000_000_000);
    const encoded = encodeJson(rec); // throws above MAX_MESSAGE_BYTES
    expect(encoded.length).toBeLessThan(MAX_MESSAGE_BYTES);
    const back = parseWith(DlqRecord, JSON.parse(encoded.toString('utf8')));
    expect(back.truncated).toEqual(['key', 'value', 'headers', 'issues', 'message']);
    expect(back.valueBytes).toBe(value.length);
    expect(Buffer.from(back.value!, 'base64').length).toBe(DLQ_LIMITS.valuePrefixBytes);
    expect(back.keyBytes).toBe(key.length);
    expect(Object.keys(back.headers)).toHaveLength(DLQ_LIMITS.headers);
    expect(back.issues).toHaveLength(DLQ_LIMITS.issues);
  });

  it('a minimal record drops the payload, headers and issues but keeps where the message is and what it was', () => {
    const value = Buffer.alloc(300 * 1024, 9);
    const rec = DlqPublisher.toRecord(rejected({ key: Buffer.from('p1'), value, headers: { trace: 'abc' } }, new ValidationError('x'.repeat(1000), [{ path: 'a', message: 'b' }])), 'g', 1_700_000_000_000, true);
    expect(rec).toMatchObject({ sourceTopic: 'catalog.products.v1', sourcePartition: 3, sourceOffset: '42', value: null, valueBytes: value.length, headers: {}, issues: [] });
    expect(rec.valueSha256).toBe(createHash('sha256').update(value).digest('hex'));
    expect(rec.truncated).toEqual(['value', 'headers', 'issues', 'message']);
    expect(encodeJson(rec).length).toBeLessThan(1024);
  });

  it('keeps header names that are Object.prototype members', () => {
    const headers = JSON.parse('{"__proto__":"p","constructor":"c"}') as Record<string, string>;
    const rec = DlqPublisher.toRecord(rejected({ headers }), 'g', 1_700_000_000_000);
    expect(Object.entries(rec.headers)).toEqual([
      ['__proto__', 'p'],
      ['constructor', 'c'],
    ]);
  });

  it('never splits a surrogate pair when it shortens text', () => {
    const message = `${'a'.repeat(DLQ_LIMITS.messageChars - 1)}😀tail`;
    const rec = DlqPublisher.toRecord(rejected({}, new ValidationError(message)), 'g', 1_700_000_000_000);
    expect(rec.message).toBe('a'.repeat(DLQ_LIMITS.messageChars - 1));
    expect(rec.message).not.toMatch(/[\uD800-\uDBFF]$/);
  });
});
