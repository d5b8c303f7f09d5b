import { z } from 'zod';
import { Timestamp } from '../normalize';

/** `<topic>.dlq` (key: the source key). Everything needed to understand and replay a rejected message. */
export const DlqRecord = z.object({
  type: z.literal('dlq'),
  sourceTopic: z.string().min(1).max(249),
  sourcePartition: z.number().int().nonnegative(),
  /** Kafka offsets are int64: kept as a decimal string. */
  sourceOffset: z.string().regex(/^\d+$/),
  consumerGroup: z.string().max(255),
  /** Original key and value bytes, base64 (null when absent). */
  key: z.string().nullable(),
  value: z.string().nullable(),
  headers: z.record(z.string(), z.string()).default({}),
  errorClass: z.string().max(128),
  errorCode: z.string().max(64),
  message: z.string().max(4096),
  /** Validation issues, when the error was a schema failure. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).max(50).default([]),
  firstSeenAt: Timestamp,
  attempts: z.number().int().min(1),
});
export type DlqRecord = z.output<typeof DlqRecord>;
