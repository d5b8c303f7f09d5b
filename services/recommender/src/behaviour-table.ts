import { decodeBehaviourEmbedding } from '@affinity/contracts';
import { BehaviourVectors } from '@affinity/lists';
import type { Logger } from '@affinity/stream';
import type { Consumer, Kafka } from 'kafkajs';

/**
 * Every item's behaviour (FastRP) vector, in memory on every recommender instance: a global
 * table fed by the compacted embeddings.behaviour.v1 topic from the beginning (Kafka Streams
 * calls this a GlobalKTable). It never commits offsets, so each start rebuilds it; the topic
 * holds one record per item, so that is a few seconds per hundred thousand items.
 */
export class BehaviourTable extends BehaviourVectors {
  private readonly consumer: Consumer;
  private applied = 0;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    groupId: string,
    private readonly logger: Logger,
  ) {
    super();
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          try {
            this.apply(decodeBehaviourEmbedding(m));
            this.applied++;
          } catch (err) {
            // The graph worker's own DLQ handling covers producers; a bad record here is skipped, not fatal.
            this.logger.warn({ err, offset: m.offset }, 'skipping unreadable behaviour embedding');
          }
        }
      },
    });
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
    this.logger.info({ applied: this.applied }, 'behaviour table closed');
  }
}
