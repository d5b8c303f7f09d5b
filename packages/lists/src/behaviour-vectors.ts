import type { BehaviourEmbedding } from '@affinity/contracts';
import { ScoreCalibrator } from '@affinity/recommend';
import { VectorShard, type SearchHit } from '@affinity/vector-index';

/**
 * Every item's behaviour (FastRP) vector in memory, searchable, with a background sample for
 * calibrating cosines. The recommender feeds it from the compacted behaviour topic; the
 * offline evaluation from the graph it builds itself.
 */
export class BehaviourVectors {
  private shard: VectorShard | undefined;
  readonly calibrator = new ScoreCalibrator({ sampleSize: 512 });
  modelId: string | undefined;

  get size(): number {
    return this.shard?.size ?? 0;
  }

  apply(e: Pick<BehaviourEmbedding, 'nodeKind' | 'nodeId' | 'embedding'>): void {
    if (e.nodeKind !== 'item') return;
    const v = e.embedding.vector;
    if (this.shard === undefined || this.shard.dim !== v.length) {
      this.shard = new VectorShard({ dim: v.length, M: 16, efConstruction: 100, ef: 64 });
      this.modelId = e.embedding.modelId;
    }
    this.shard.upsert(e.nodeId, v);
    this.calibrator.offer(e.nodeId, v);
  }

  vector(productId: string): Float32Array | undefined {
    return this.shard?.getVector(productId);
  }

  search(query: Float32Array, k: number): SearchHit[] {
    if (!this.shard || this.shard.dim !== query.length) return [];
    return this.shard.search(query, k);
  }
}
