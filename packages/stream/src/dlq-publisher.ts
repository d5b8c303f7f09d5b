import { type AffinityError, DLQ_LIMITS, type DLQ_TRUNCATABLE, type DlqRecord, ValidationError, dlqName, sha256Hex } from '@affinity/contracts';
import type { KafkaMessage } from 'kafkajs';
import type { EventProducer, OutgoingRecord } from './event-producer';
import { headersToStrings } from './internal/headers';

/** A message that could not be handled, with why. */
export interface RejectedMessage {
  topic: string;
  partition: number;
  message: KafkaMessage;
  error: AffinityError;
  attempts: number;
}

type Truncatable = (typeof DLQ_TRUNCATABLE)[number];

/** The message a minimal record keeps: enough to say why, in a record that fits almost any broker limit. */
const MINIMAL_MESSAGE_CHARS = 256;

/** The first `max` UTF-16 units of `s`, never ending in half a surrogate pair. */
function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  const end = /[\uD800-\uDBFF]/.test(s[max - 1]!) ? max - 1 : max;
  return s.slice(0, end);
}

/** Base64 of at most `prefixBytes` of `bytes` (none when `prefixBytes` is 0), with the full size and digest. */
function excerpt(bytes: Buffer | null, prefixBytes: number): { data: string | null; size: number | null; sha256: string | null; cut: boolean } {
  if (bytes === null) return { data: null, size: null, sha256: null, cut: false };
  const kept = bytes.subarray(0, prefixBytes);
  return { data: prefixBytes > 0 ? kept.toString('base64') : null, size: bytes.length, sha256: sha256Hex(bytes), cut: kept.length < bytes.length };
}

/**
 * Builds {@link DlqRecord}s and produces them to `<topic>.dlq`, keyed like the source.
 * Every part of a record is bounded ({@link DLQ_LIMITS}), so a record always encodes within the
 * message limit however large or hostile the rejected message was.
 */
export class DlqPublisher {
  constructor(
    private readonly producer: EventProducer,
    private readonly consumerGroup: string,
  ) {}

  /**
   * `minimal`: no value bytes, headers or issues and a short message — for a broker that refused
   * the bounded record (a DLQ topic with a small max.message.bytes).
   */
  static toRecord(r: RejectedMessage, consumerGroup: string, now: number = Date.now(), minimal = false): DlqRecord {
    const truncated = new Set<Truncatable>();
    const key = excerpt(r.message.key, DLQ_LIMITS.keyPrefixBytes);
    const value = excerpt(r.message.value, minimal ? 0 : DLQ_LIMITS.valuePrefixBytes);
    if (key.cut) truncated.add('key');
    if (value.cut) truncated.add('value');

    const headers: Record<string, string> = Object.create(null) as Record<string, string>;
    const allHeaders = Object.entries(headersToStrings(r.message.headers));
    for (const [name, v] of minimal ? [] : allHeaders.slice(0, DLQ_LIMITS.headers)) {
      headers[cut(name, DLQ_LIMITS.headerNameChars)] = cut(v, DLQ_LIMITS.headerValueChars);
      if (name.length > DLQ_LIMITS.headerNameChars || v.length > DLQ_LIMITS.headerValueChars) truncated.add('headers');
    }
    if (allHeaders.length > Object.keys(headers).length) truncated.add('headers');

    const allIssues = r.error instanceof ValidationError ? r.error.issues : [];
    const issues = (minimal ? [] : allIssues.slice(0, DLQ_LIMITS.issues)).map((i) => ({ path: cut(i.path, DLQ_LIMITS.issueChars), message: cut(i.message, DLQ_LIMITS.issueChars) }));
    if (issues.length < allIssues.length || issues.some((i, n) => i.path !== allIssues[n]!.path || i.message !== allIssues[n]!.message)) truncated.add('issues');

    const message = cut(r.error.message, minimal ? MINIMAL_MESSAGE_CHARS : DLQ_LIMITS.messageChars);
    if (message.length < r.error.message.length) truncated.add('message');

    return {
      type: 'dlq',
      sourceTopic: r.topic,
      sourcePartition: r.partition,
      sourceOffset: r.message.offset,
      consumerGroup,
      key: key.data,
      value: value.data,
      keyBytes: key.size,
      keySha256: key.sha256,
      valueBytes: value.size,
      valueSha256: value.sha256,
      truncated: [...truncated],
      headers,
      errorClass: cut(r.error.name, 128),
      errorCode: cut(r.error.code, 64),
      message,
      issues,
      firstSeenAt: now,
      attempts: r.attempts,
    };
  }

  async publish(rejected: readonly RejectedMessage[], options: { minimal?: boolean } = {}): Promise<void> {
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const r of rejected) {
      const topic = dlqName(r.topic);
      const list = byTopic.get(topic) ?? [];
      const record = DlqPublisher.toRecord(r, this.consumerGroup, Date.now(), options.minimal);
      list.push({
        key: r.message.key === null ? '' : r.message.key.subarray(0, DLQ_LIMITS.keyPrefixBytes).toString('utf8'),
        value: record,
        headers: { 'error-code': record.errorCode, 'source-offset': r.message.offset },
      });
      byTopic.set(topic, list);
    }
    // send() splits into requests of ~1 MiB: many large DLQ records never make one oversized batch.
    for (const [topic, records] of byTopic) await this.producer.send(topic, records);
  }
}
