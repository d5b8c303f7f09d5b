import { z } from 'zod';
import { Timestamp, dictionary, emptyDictionary } from '../normalize';

/**
 * Bounds of every variable-sized part of a {@link DlqRecord}. Together they keep an encoded DLQ
 * record far below MAX_MESSAGE_BYTES (512 KiB) whatever the rejected record looked like (even
 * with every string made of characters JSON escapes as six bytes), so a DLQ write never fails
 * because of what it carries. A value larger than `valuePrefixBytes` is kept as a prefix plus
 * its size and sha256; the whole record stays at sourceTopic/sourcePartition/sourceOffset.
 */
export const DLQ_LIMITS = {
  valuePrefixBytes: 128 * 1024,
  keyPrefixBytes: 1024,
  headers: 32,
  headerNameChars: 128,
  headerValueChars: 512,
  messageChars: 4096,
  issues: 20,
  issueChars: 256,
} as const;

/** The parts a DLQ record may have shortened or left out; listed in `truncated`. */
export const DLQ_TRUNCATABLE = ['key', 'value', 'headers', 'issues', 'message'] as const;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 hex');

/** `<topic>.dlq` (key: the source key). Everything needed to understand a rejected message, and to find and replay it. */
export const DlqRecord = z.object({
  type: z.literal('dlq'),
  sourceTopic: z.string().min(1).max(249),
  sourcePartition: z.number().int().nonnegative(),
  /** Kafka offsets are int64: kept as a decimal string. */
  sourceOffset: z.string().regex(/^\d+$/),
  consumerGroup: z.string().max(255),
  /**
   * Original key and value bytes, base64 (null when absent): the whole of them up to
   * `DLQ_LIMITS.keyPrefixBytes` / `valuePrefixBytes`, the first that many bytes beyond (see
   * `truncated`). Null also when a broker refused even the bounded record (a minimal one was written).
   */
  key: z.string().nullable(),
  value: z.string().nullable(),
  /** Size in bytes and sha256 (hex) of the original key/value (null when absent). Missing in records written before they existed. */
  keyBytes: z.number().int().nonnegative().nullable().optional(),
  keySha256: sha256.nullable().optional(),
  valueBytes: z.number().int().nonnegative().nullable().optional(),
  valueSha256: sha256.nullable().optional(),
  /** What was shortened or left out to keep the record bounded; empty when it is complete. */
  truncated: z.array(z.enum(DLQ_TRUNCATABLE)).default([]),
  headers: dictionary(z.string(), z.string()).default(emptyDictionary),
  errorClass: z.string().max(128),
  errorCode: z.string().max(64),
  message: z.string().max(DLQ_LIMITS.messageChars),
  /** Validation issues, when the error was a schema failure. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).max(50).default([]),
  firstSeenAt: Timestamp,
  attempts: z.number().int().min(1),
});
export type DlqRecord = z.output<typeof DlqRecord>;
