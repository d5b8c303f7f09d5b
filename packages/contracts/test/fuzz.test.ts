import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECODERS, ValidationError, encodeJson, type RawMessage } from '../src';
import { interaction, product } from './fixtures';

const decoders = Object.entries(DECODERS);

function outcome(decode: (m: RawMessage) => unknown, m: RawMessage): 'ok' | 'validation' {
  try {
    decode(m);
    return 'ok';
  } catch (err) {
    if (err instanceof ValidationError) return 'validation';
    throw err;
  }
}

const raw = (key: Uint8Array | null, value: Uint8Array | null): RawMessage => ({
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  timestamp: '1700000000000',
});

describe('decoders never throw anything but ValidationError', () => {
  it.each(decoders)('%s: arbitrary bytes', (_name, decode) => {
    fc.assert(
      fc.property(fc.option(fc.uint8Array({ maxLength: 64 })), fc.option(fc.uint8Array({ maxLength: 2048 })), (k, v) => {
        outcome(decode, raw(k, v));
      }),
      { numRuns: 500 },
    );
  });

  it.each(decoders)('%s: arbitrary JSON', (_name, decode) => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        outcome(decode, raw(Buffer.from('k'), Buffer.from(JSON.stringify(value))));
      }),
      { numRuns: 500 },
    );
  });

  it('catalog: mutations of a valid product either parse or fail validation', () => {
    const valid = product() as Record<string, unknown>;
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(valid)), fc.jsonValue({ maxDepth: 3 }), (field, value) => {
        const mutated = { ...valid, [field]: value };
        outcome(DECODERS.catalog, raw(Buffer.from('85123A'), encodeJson(mutated)));
      }),
      { numRuns: 1000 },
    );
  });

  it('interaction: mutations of a valid event either parse or fail validation', () => {
    const valid = interaction() as Record<string, unknown>;
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(valid)), fc.jsonValue({ maxDepth: 3 }), (field, value) => {
        outcome(DECODERS.interactions, raw(Buffer.from('u17850'), encodeJson({ ...valid, [field]: value })));
      }),
      { numRuns: 1000 },
    );
  });

  it('deeply nested JSON is a validation error, not a stack overflow', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(outcome(DECODERS.catalog, raw(Buffer.from('k'), Buffer.from(deep)))).toBe('validation');
  });

  it('oversized messages are rejected before parsing', () => {
    const big = Buffer.alloc(600 * 1024, 0x20);
    expect(outcome(DECODERS.interactions, raw(Buffer.from('k'), big))).toBe('validation');
  });
});
