import { ConfigError, MAX_VECTOR_DIM } from '@affinity/contracts';
import { z } from 'zod';

export interface VectorShardOptions {
  /** Vector length; every upsert and query must have exactly this many values. */
  dim: number;
  /**
   * Links per node on the upper layers; layer 0 keeps 2·M. Higher M: better recall at the
   * same ef, more memory (8·M bytes a vector on layer 0) and slower inserts.
   * @defaultValue 16
   */
  M?: number;
  /**
   * Candidate list size while inserting. Higher: better graph, slower upserts.
   * @defaultValue 200
   */
  efConstruction?: number;
  /**
   * Default candidate list size of a search (raised to k when smaller).
   * @defaultValue 64
   */
  ef?: number;
  /**
   * Largest ef a filtered graph search widens to as selectivity falls.
   * @defaultValue 1024
   */
  maxFilteredEf?: number;
  /**
   * Seed of the level generator: equal seeds and equal operations give equal graphs.
   * @defaultValue 42
   */
  seed?: number;
  /**
   * Slots allocated up front (vectors); the shard grows by half as needed.
   * @defaultValue 1024
   */
  initialCapacity?: number;
  /**
   * Tombstones are unlinked and their slots freed once they exceed this share of the live
   * vectors (and {@link consolidateMinTombstones}). Lower: less memory and traversal waste
   * under churn, more frequent O(n) repair passes.
   * @defaultValue 0.1
   */
  consolidateRatio?: number;
  /**
   * Never consolidate for fewer tombstones than this.
   * @defaultValue 256
   */
  consolidateMinTombstones?: number;
  /**
   * `int8`: traverse the graph with int8 codes (SIMD int8 dot products), then re-rank the
   * ef survivors with the exact float vectors, which are kept. Costs 1 byte a dimension more.
   * @defaultValue 'none'
   */
  quantization?: 'none' | 'int8';
  /**
   * Scale of the int8 codes: one per dimension (better for embeddings whose dimensions
   * differ in spread) or one for all.
   * @defaultValue 'per-dimension'
   */
  int8Scale?: 'per-dimension' | 'global';
  /**
   * Vectors inserted before the int8 scales are fixed from them; until then search uses floats.
   * @defaultValue 1000
   */
  calibrationSize?: number;
}

export type CompiledVectorShardOptions = Required<VectorShardOptions>;

const schema = z.object({
  dim: z.number().int().min(1).max(MAX_VECTOR_DIM),
  M: z.number().int().min(2).max(128).default(16),
  efConstruction: z.number().int().min(1).max(4096).default(200),
  ef: z.number().int().min(1).max(65_536).default(64),
  maxFilteredEf: z.number().int().min(1).max(65_536).default(1024),
  seed: z.number().int().default(42),
  initialCapacity: z.number().int().min(1).max(50_000_000).default(1024),
  consolidateRatio: z.number().positive().max(10).default(0.1),
  consolidateMinTombstones: z.number().int().min(1).default(256),
  quantization: z.enum(['none', 'int8']).default('none'),
  int8Scale: z.enum(['per-dimension', 'global']).default('per-dimension'),
  calibrationSize: z.number().int().min(1).default(1000),
});

/** Validates and defaults shard options; throws ConfigError naming the option and the fix. */
export function compileVectorShardOptions(options: VectorShardOptions): CompiledVectorShardOptions {
  const r = schema.safeParse(options);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(`vector shard option ${issue.path.join('.') || '(root)'}: ${issue.message}`, { context: { issues: r.error.issues.length } });
  }
  return r.data;
}
