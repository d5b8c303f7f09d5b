import { encodeJson } from '@affinity/contracts';
import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import type { StreamMetrics } from './metrics';

/** A record to produce; `value: null` is a tombstone. Values are serialized with `encodeJson`. */
export interface OutgoingRecord {
  key: string;
  value: unknown;
  headers?: Record<string, string>;
  /** Epoch ms; defaults to now. */
  timestamp?: number;
}

export interface EventProducerOptions {
  kafka: Kafka;
  metrics?: StreamMetrics;
  /** Compress batches. LZ4/ZSTD need extra codecs in kafkajs; GZIP ships with it. @defaultValue false */
  gzip?: boolean;
}

/**
 * An idempotent producer (enable.idempotence, acks=all, one request in flight): broker-side
 * sequence numbers drop duplicates from kafkajs' own retries, and ordering per partition holds.
 * Duplicates from a producer *restart* are caught downstream by event ids.
 */
export class EventProducer {
  private readonly producer: Producer;
  private readonly metrics: StreamMetrics | undefined;
  private readonly compression: CompressionTypes;
  private connected: Promise<void> | undefined;
  private closed: Promise<void> | undefined;

  constructor(options: EventProducerOptions) {
    this.producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    this.metrics = options.metrics;
    this.compression = options.gzip ? CompressionTypes.GZIP : CompressionTypes.None;
  }

  connect(): Promise<void> {
    this.connected ??= this.producer.connect();
    return this.connected;
  }

  /**
   * Sends records to one topic and resolves when every one is acknowledged by all in-sync
   * replicas. Large sends go out as several requests of at most ~1 MiB, in order.
   */
  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.connect();
    for (const messages of chunkBySize(records.map(toMessage))) {
      await this.producer.send({ topic, acks: -1, compression: this.compression, messages });
    }
    this.metrics?.produced.inc({ topic }, records.length);
  }

  /** Several topics in one request per broker. */
  async sendBatch(batches: readonly { topic: string; records: readonly OutgoingRecord[] }[]): Promise<void> {
    const topicMessages = batches.filter((b) => b.records.length > 0).map((b) => ({ topic: b.topic, messages: b.records.map(toMessage) }));
    if (topicMessages.length === 0) return;
    await this.connect();
    await this.producer.sendBatch({ acks: -1, compression: this.compression, topicMessages });
    for (const b of batches) this.metrics?.produced.inc({ topic: b.topic }, b.records.length);
  }

  /** Idempotent. */
  close(): Promise<void> {
    this.closed ??= this.producer.disconnect();
    return this.closed;
  }
}

const REQUEST_BYTES = 1024 * 1024;

function chunkBySize(messages: Message[]): Message[][] {
  const out: Message[][] = [];
  let cur: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = (m.value === null ? 0 : (m.value as Buffer).length) + 64;
    if (cur.length > 0 && bytes + size > REQUEST_BYTES) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(m);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function toMessage(r: OutgoingRecord): Message {
  return {
    key: r.key,
    value: r.value === null ? null : encodeJson(r.value),
    headers: r.headers,
    timestamp: String(r.timestamp ?? Date.now()),
  };
}
