import { type AffinityError, type DlqRecord, ValidationError, dlqName } from '@affinity/contracts';
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

/** Builds {@link DlqRecord}s and produces them to `<topic>.dlq`, keyed like the source. */
export class DlqPublisher {
  constructor(
    private readonly producer: EventProducer,
    private readonly consumerGroup: string,
  ) {}

  static toRecord(r: RejectedMessage, consumerGroup: string, now: number = Date.now()): DlqRecord {
    return {
      type: 'dlq',
      sourceTopic: r.topic,
      sourcePartition: r.partition,
      sourceOffset: r.message.offset,
      consumerGroup,
      key: r.message.key === null ? null : r.message.key.toString('base64'),
      value: r.message.value === null ? null : r.message.value.toString('base64'),
      headers: headersToStrings(r.message.headers),
      errorClass: r.error.name,
      errorCode: r.error.code,
      message: r.error.message.slice(0, 4096),
      issues: r.error instanceof ValidationError ? r.error.issues.slice(0, 50).map((i) => ({ path: i.path, message: i.message })) : [],
      firstSeenAt: now,
      attempts: r.attempts,
    };
  }

  async publish(rejected: readonly RejectedMessage[]): Promise<void> {
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const r of rejected) {
      const topic = dlqName(r.topic);
      const list = byTopic.get(topic) ?? [];
      list.push({
        key: r.message.key?.toString('utf8') ?? '',
        value: DlqPublisher.toRecord(r, this.consumerGroup),
        headers: { 'error-code': r.error.code, 'source-offset': r.message.offset },
      });
      byTopic.set(topic, list);
    }
    await this.producer.sendBatch([...byTopic].map(([topic, records]) => ({ topic, records })));
  }
}
