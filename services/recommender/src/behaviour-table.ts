import { decodeBehaviourEmbedding, type BehaviourEmbedding } from '@affinity/contracts';
import { ScoreCalibrator } from '@affinity/recommend';
import type { Logger } from '@affinity/stream';
import { VectorShard, type SearchHit } from '@affinity/vector-index';
import type { Consumer, Kafka } from 'kafkajs';

/**
 * Every item's behaviour (FastRP) vector, in memory on every recommender instance: a global
 * table fed by the compacted embeddings.behaviour.v1 topic from the beginning (Kafka Streams
 * calls this a GlobalKTable). It never commits offsets, so each start rebuilds it; the topic
 * holds one record per item, so that is a few seconds per hundred thousand items.
 */
export class BehaviourTable {
  private shard: VectorShard | undefined;
  private readonly consumer: Consumer;
  readonly calibrator = new ScoreCalibrator({ sampleSize: 512, seed: 7 });
  modelId: string | undefined;
  private applied = 0;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    groupId: string,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  }

  get size(): number {
    return this.shard?.size ?? 0;
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
          } catch (err) {
            // The graph worker's own DLQ handling covers producers; a bad record here is skipped, not fatal.
            this.logger.warn({ err, offset: m.offset }, 'skipping unreadable behaviour embedding');
          }
        }
      },
    });
  }

  apply(e: BehaviourEmbedding): void {
    if (e.nodeKind !== 'item') return;
    const v = e.embedding.vector;
    if (this.shard === undefined || this.shard.dim !== v.length) {
      this.shard = new VectorShard({ dim: v.length, M: 16, efConstruction: 100, ef: 64 });
      this.modelId = e.embedding.modelId;
    }
    this.shard.upsert(e.nodeId, v);
    this.calibrator.offer(e.nodeId, v);
    this.applied++;
  }

  vector(productId: string): Float32Array | undefined {
    return this.shard?.getVector(productId);
  }

  search(query: Float32Array, k: number): SearchHit[] {
    if (!this.shard || this.shard.dim !== query.length) return [];
    return this.shard.search(query, k);
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
    this.logger.info({ applied: this.applied }, 'behaviour table closed');
  }
}
