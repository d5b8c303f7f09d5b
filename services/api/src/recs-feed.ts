import { EventEmitter } from 'node:events';
import { decodeRecommendationUpdate, type RecommendationUpdate } from '@affinity/contracts';
import type { Logger } from '@affinity/stream';
import type { Consumer, Kafka } from 'kafkajs';

/**
 * Live recommendation updates for server-sent events: every API instance reads all of
 * recs.v1 from the latest offset (its own group, never committed) and fans each update out
 * to the subscribers of its key. Subscribers get the stored list first, from Redis.
 */
export class RecsFeed {
  private readonly emitter = new EventEmitter();
  private readonly consumer: Consumer;
  private running = false;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    groupId: string,
    private readonly logger: Logger,
  ) {
    this.emitter.setMaxListeners(0);
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50, allowAutoTopicCreation: false });
  }

  get ready(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: false });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        const key = message.key?.toString('utf8');
        if (!key || this.emitter.listenerCount(key) === 0) return;
        if (message.value === null) {
          this.emitter.emit(key, null);
          return;
        }
        try {
          this.emitter.emit(key, decodeRecommendationUpdate(message));
        } catch (err) {
          this.logger.warn({ err, key }, 'unreadable recommendation update');
        }
      },
    });
    this.running = true;
  }

  /** Calls `listener` with each update of `key` (null = the list was deleted); returns the unsubscribe function. */
  subscribe(key: string, listener: (u: RecommendationUpdate | null) => void): () => void {
    this.emitter.on(key, listener);
    return () => this.emitter.off(key, listener);
  }

  async close(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
  }
}
