import { decodeRecommendationUpdate, topicName, type RecKind, type RecommendationUpdate, type TopicOptions } from '@affinity/contracts';
import type { Consumer, Kafka } from 'kafkajs';

export type RecsChange = { key: string; kind: RecKind; subjectId: string; update: RecommendationUpdate | null };

export interface RecsSubscriberOptions extends TopicOptions {
  /** Your service's consumer group (instances share the work and the committed position). */
  groupId: string;
  /** Start at the oldest retained list (the topic is compacted: one record per list). @defaultValue true */
  fromBeginning?: boolean;
  /** Only these kinds. @defaultValue all */
  kinds?: readonly RecKind[];
}

/**
 * Subscribes to recs.v1: every list change as a parsed, validated update (`update: null` when
 * the list was deleted). A record that fails validation is passed to `onInvalid` and skipped.
 * Offsets are committed after `onChange` resolves, so a crash redelivers rather than loses.
 */
export class RecsSubscriber {
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly o: RecsSubscriberOptions,
  ) {
    this.consumer = kafka.consumer({ groupId: o.groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  }

  async start(onChange: (c: RecsChange) => Promise<void> | void, onInvalid: (err: unknown, offset: string) => void = () => undefined): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: topicName('recs', this.o), fromBeginning: this.o.fromBeginning ?? true });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key?.toString('utf8') ?? '';
        const sep = key.indexOf(':');
        const kind = key.slice(0, sep) as RecKind;
        if (this.o.kinds && !this.o.kinds.includes(kind)) return;
        let update: RecommendationUpdate | null = null;
        if (message.value !== null) {
          try {
            update = decodeRecommendationUpdate(message);
          } catch (err) {
            onInvalid(err, message.offset);
            return;
          }
        }
        await onChange({ key, kind, subjectId: key.slice(sep + 1), update });
      },
    });
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
  }
}
