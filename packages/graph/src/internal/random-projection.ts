/**
 * Hash-derived rows of the very sparse random projection R (Chen et al., CIKM 2019, eq. 5,
 * after Li, Hastie & Church 2006): R[j][c] = √s · {+1, 0, −1} with probabilities
 * 1/(2s), 1 − 1/s, 1/(2s).
 *
 * A row depends only on (node key, seed, column), never on how many nodes exist, so a node
 * that appears for the first time gets its row without any global state, and two machines
 * (or the Python reference, `reference/fastrp.py`) derive the same R. The hash is a
 * counter-based construction so one entry costs two 32-bit mixes and is easy to vectorize
 * in numpy: entry c of a node = fmix32(nodeSeed + (c + 1)·0x9E3779B9 mod 2³²).
 */

const utf8 = new TextEncoder();

/** FNV-1a, 32 bits, over the UTF-8 bytes of `s`. */
export function fnv1a32(s: string): number {
  // ASCII keys (the usual case) hash from their char codes: no encoder call, no allocation.
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 0x80) return fnv1a32Utf8(s);
    h ^= ch;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function fnv1a32Utf8(s: string): number {
  const bytes = utf8.encode(s);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The MurmurHash3 32-bit finalizer: a bijection with full avalanche. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Per-node seed from its key (e.g. `i:123`) and the global projection seed. */
export function nodeSeed(key: string, seed: number): number {
  return fmix32((fnv1a32(key) ^ seed) >>> 0);
}

const GOLDEN = 0x9e3779b9;

/** Integer threshold t = ⌊2³² / (2s)⌋: draw u < t → +√s, t ≤ u < 2t → −√s, else 0. */
export function sparseThreshold(s: number): number {
  return Math.floor(4294967296 / (2 * s));
}

/**
 * Writes `out[offset + c] = scale · R[c]` for columns `c ∈ [from, to)` of the node whose seed
 * is `seed32`. `scale` folds the degree normalization d^β into the same pass.
 */
export function fillProjectionRow(
  seed32: number,
  s: number,
  out: Float32Array,
  offset: number,
  from: number,
  to: number,
  scale: number,
): void {
  const t = sparseThreshold(s);
  const t2 = 2 * t;
  const v = Math.sqrt(s) * scale;
  for (let c = from; c < to; c++) {
    const u = fmix32(seed32 + Math.imul(c + 1, GOLDEN));
    out[offset + c] = u < t ? v : u < t2 ? -v : 0;
  }
}

/**
 * A dense `inDim × outDim` projection for content embeddings, Achlioptas' s = 3 variant
 * (JL-preserving, two thirds zeros), derived from the seed only.
 */
export function contentProjection(inDim: number, outDim: number, seed: number): Float32Array {
  const p = new Float32Array(inDim * outDim);
  const base = fmix32((seed ^ 0x5bd1e995) >>> 0);
  const t = sparseThreshold(3);
  const v = Math.sqrt(3 / outDim);
  for (let i = 0; i < inDim * outDim; i++) {
    const u = fmix32(base + Math.imul(i + 1, GOLDEN));
    p[i] = u < t ? v : u < 2 * t ? -v : 0;
  }
  return p;
}
