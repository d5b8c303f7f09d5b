import { mulberry32 } from '@affinity/contracts';

/**
 * Seeded synthetic embeddings for tests and benchmarks (NOT real embeddings): a mixture of
 * Gaussians in a low-dimensional latent space, mapped to `dim` dimensions by a fixed random
 * matrix, plus a little isotropic noise, then normalized onto the unit sphere. Sentence
 * embeddings have low intrinsic dimension and clustered topics; isotropic Gaussians in 384-d
 * would have neither and make every ANN index look worse than on real data.
 */
export interface SyntheticOptions {
  n: number;
  dim: number;
  /** @defaultValue 50 */
  clusters?: number;
  /** Latent dimensions. @defaultValue 32 */
  latentDim?: number;
  /** Within-cluster spread relative to the spread of cluster centres. @defaultValue 0.5 */
  spread?: number;
  /** Isotropic noise per output dimension. @defaultValue 0.02 */
  noise?: number;
  /** @defaultValue 1 */
  seed?: number;
}

export interface SyntheticSet {
  dim: number;
  vectors: Float32Array[];
  /** Cluster of each vector. */
  cluster: Uint16Array;
  /** A uniform number in [0, 1) per vector, independent of the vector: filters of known selectivity. */
  u: Float64Array;
  /** Makes fresh query vectors from the same distribution. */
  query(count: number, seed?: number): Float32Array[];
}

export function seededRandom(seed: number): () => number {
  return mulberry32(seed >>> 0 || 1);
}

function gaussian(rand: () => number): () => number {
  return () => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
}

export function syntheticSet(o: SyntheticOptions): SyntheticSet {
  const clusters = o.clusters ?? 50;
  const latent = o.latentDim ?? 32;
  const spread = o.spread ?? 0.5;
  const noise = o.noise ?? 0.02;
  const rand = seededRandom(o.seed ?? 1);
  const g = gaussian(rand);
  const W = new Float32Array(o.dim * latent);
  for (let i = 0; i < W.length; i++) W[i] = g() / Math.sqrt(latent);
  const centres: Float32Array[] = [];
  for (let c = 0; c < clusters; c++) centres.push(Float32Array.from({ length: latent }, () => g()));
  const h = new Float32Array(latent);
  const make = (c: number, gen: () => number): Float32Array => {
    const centre = centres[c]!;
    for (let j = 0; j < latent; j++) h[j] = centre[j]! + spread * gen();
    const x = new Float32Array(o.dim);
    let norm = 0;
    for (let d = 0; d < o.dim; d++) {
      let s = noise * gen();
      for (let j = 0; j < latent; j++) s += W[d * latent + j]! * h[j]!;
      x[d] = s;
      norm += s * s;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < o.dim; d++) x[d] = x[d]! * inv;
    return x;
  };
  const vectors: Float32Array[] = [];
  const cluster = new Uint16Array(o.n);
  const u = new Float64Array(o.n);
  for (let i = 0; i < o.n; i++) {
    // Skewed cluster sizes, as product categories are.
    const c = Math.min(clusters - 1, Math.floor(clusters * rand() ** 2));
    cluster[i] = c;
    vectors.push(make(c, g));
    u[i] = rand();
  }
  return {
    dim: o.dim,
    vectors,
    cluster,
    u,
    query(count, seed = 999) {
      const qr = seededRandom(seed);
      const qg = gaussian(qr);
      const out: Float32Array[] = [];
      for (let i = 0; i < count; i++) out.push(make(Math.min(clusters - 1, Math.floor(clusters * qr() ** 2)), qg));
      return out;
    },
  };
}

/** Exact top-k ids by cosine among `candidates` (indices into vectors); vectors are unit length. */
export function bruteForceTopK(vectors: readonly Float32Array[], q: Float32Array, k: number, candidates?: Iterable<number>): number[] {
  let qn = 0;
  for (let d = 0; d < q.length; d++) qn += q[d]! * q[d]!;
  const inv = 1 / Math.sqrt(qn);
  const scored: [number, number][] = [];
  const consider = (i: number): void => {
    const v = vectors[i]!;
    let s = 0;
    for (let d = 0; d < q.length; d++) s += q[d]! * inv * v[d]!;
    scored.push([s, i]);
  };
  if (candidates) for (const i of candidates) consider(i);
  else for (let i = 0; i < vectors.length; i++) consider(i);
  scored.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return scored.slice(0, k).map((x) => x[1]);
}

/** |found ∩ truth| / |truth|, averaged by the caller. */
export function recallOf(found: readonly string[], truth: readonly string[]): number {
  if (truth.length === 0) return 1;
  const set = new Set(found);
  let hit = 0;
  for (const t of truth) if (set.has(t)) hit++;
  return hit / truth.length;
}
