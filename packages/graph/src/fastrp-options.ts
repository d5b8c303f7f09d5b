import { availableParallelism } from 'node:os';
import { ConfigError } from '@affinity/contracts';
import { z } from 'zod';

/**
 * FastRP (Chen, Sultan, Tian, Chen & Skiena, "Fast and Accurate Network Embeddings via Very
 * Sparse Random Projection", CIKM 2019). With S the weighted adjacency, D its row sums,
 * A = D⁻¹S, L = diag(d_j^β) and R the very sparse random projection:
 *   N₁ = A·L·R,  Nᵢ = A·Nᵢ₋₁,  E = Σᵢ αᵢ · rownormalize(Nᵢ).
 * The paper's experiments use d = 512 (§4), four iterations with tuned weights, β tuned in
 * [−1, 0] and the very sparse s of Li et al.
 */
export interface FastRPOptions {
  /** Embedding dimension d (floats per node). The paper uses 512; 128 keeps a 1M-node state near 2.5 GB for k = 4. @defaultValue 128 */
  dim?: number;
  /**
   * α₁..α_k, one weight per iteration (k = length). The paper weighs higher powers more
   * (e.g. α = (0, 0, 1, 6) in its BlogCatalog runs); on a user–item graph the 2nd power links
   * items bought by the same users, so it must not be 0.
   * @defaultValue `[0, 1, 1, 1]`
   */
  iterationWeights?: readonly number[];
  /** β, the normalization strength in L = diag(d_j^β); the paper searches [−1, 0]. @defaultValue -0.5 */
  normalizationStrength?: number;
  /**
   * s of the very sparse projection (1/s of R is non-zero). Li et al. suggest √n, but a node's
   * row must not depend on the graph's size (rows are derived from the node id), so s is
   * fixed; Achlioptas' s = 3 keeps the JL guarantee. @defaultValue 3
   */
  sparsity?: number;
  /** Seed of the hash that derives each node's row of R. @defaultValue 42 */
  seed?: number;
  /**
   * α₀: weight of the node's own (row-normalized) initial vector, Neo4j's "nodeSelfInfluence";
   * 0 is the paper. Raise it with `contentEmbeddings` so a new item starts near similar items.
   * @defaultValue 0
   */
  selfWeight?: number;
  /**
   * Content embeddings (cold start), keyed by node key: `i:<productId>` for BehaviourGraph
   * items. When given, the first `contentDim` columns of a node's initial vector are a fixed
   * random projection of its content vector instead of sparse random entries; nodes without
   * one get zeros there. All vectors must have one length (one model).
   */
  contentEmbeddings?: ReadonlyMap<string, Float32Array>;
  /** Columns fed from content embeddings (count). @defaultValue dim / 4 when contentEmbeddings is set, else 0 */
  contentDim?: number;
  /** Worker threads for batch runs (row blocks over SharedArrayBuffers); 1 runs inline. @defaultValue min(2, availableParallelism()) */
  threads?: number;
  /**
   * Propagation kernel of batch runs: `'wasm'` is the WebAssembly SIMD kernel (the CSR and all
   * dense blocks in one shared memory); it falls back to `'js'` (scalar typed-array loops) by
   * itself when dim % 4 ≠ 0, the state passes wasm32's 4 GiB or the runtime lacks SIMD.
   * Results agree to float32 rounding. @defaultValue 'wasm'
   */
  kernel?: 'wasm' | 'js';
}

const Schema = z.object({
  dim: z.number().int().min(2).max(4096).default(128),
  iterationWeights: z.array(z.number().finite()).min(1).max(16).default([0, 1, 1, 1]),
  normalizationStrength: z.number().min(-4).max(4).default(-0.5),
  sparsity: z.number().min(1).max(1e6).default(3),
  seed: z.number().int().min(0).max(0xffffffff).default(42),
  selfWeight: z.number().finite().default(0),
  contentDim: z.number().int().nonnegative().optional(),
  threads: z.number().int().min(1).max(64).optional(),
  kernel: z.enum(['wasm', 'js']).default('wasm'),
});

export interface CompiledFastRPOptions {
  dim: number;
  iterationWeights: Float64Array;
  normalizationStrength: number;
  sparsity: number;
  seed: number;
  selfWeight: number;
  contentEmbeddings: ReadonlyMap<string, Float32Array> | undefined;
  contentDim: number;
  contentInputDim: number;
  threads: number;
  kernel: 'wasm' | 'js';
}

export function compileFastRPOptions(options: FastRPOptions = {}): CompiledFastRPOptions {
  const { contentEmbeddings, ...rest } = options;
  const r = Schema.safeParse(rest);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(`FastRPOptions.${issue.path.join('.')}: ${issue.message}`);
  }
  const o = r.data;
  let contentInputDim = 0;
  if (contentEmbeddings !== undefined) {
    for (const [id, v] of contentEmbeddings) {
      if (contentInputDim === 0) contentInputDim = v.length;
      else if (v.length !== contentInputDim) {
        throw new ConfigError(`FastRPOptions.contentEmbeddings: vector of ${id} has ${v.length} dims, others ${contentInputDim}; use one model`);
      }
    }
  }
  const contentDim = contentEmbeddings === undefined ? 0 : (o.contentDim ?? Math.floor(o.dim / 4));
  if (contentDim >= o.dim) throw new ConfigError(`FastRPOptions.contentDim (${contentDim}) must be below dim (${o.dim})`);
  return {
    dim: o.dim,
    iterationWeights: Float64Array.from(o.iterationWeights),
    normalizationStrength: o.normalizationStrength,
    sparsity: o.sparsity,
    seed: o.seed,
    selfWeight: o.selfWeight,
    contentEmbeddings,
    contentDim,
    contentInputDim,
    threads: o.threads ?? Math.max(1, Math.min(2, availableParallelism())),
    kernel: o.kernel,
  };
}
