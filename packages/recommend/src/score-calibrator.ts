import { dot, normalizeInPlace } from './vector-math';

/** Mean and standard deviation of a query's cosine to unrelated items. */
export interface BackgroundStats {
  mean: number;
  std: number;
}

export interface ScoreCalibratorOptions {
  /** Background vectors kept. @defaultValue 512 */
  sampleSize?: number;
  /** Floor on the background std, so a degenerate sample cannot inflate z-scores. @defaultValue 0.02 */
  minStd?: number;
}

/**
 * The 32-bit FNV-1a hash of an id: the order in which a bottom-k sample keeps items. The same
 * function decides the catalog sample kept in Redis, so every instance and every replay agree.
 */
export function sampleHash(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * Calibrates raw cosine scores per query. Raw cosines are not comparable across queries:
 * sentence embeddings of short product titles sit in a narrow cone, so 0.45 can be a strong
 * match for one query and noise for another. We compare each score with the same query's
 * cosine to a sample of the catalog and express it as a z-score ("standard deviations above
 * chance"), which means the same thing for every query.
 *
 * The sample is a bottom-k sketch: the `sampleSize` items with the smallest {@link sampleHash}
 * of their id. Unlike a reservoir it does not depend on the order items arrive in, so a log
 * replayed at full speed calibrates exactly as it did live (event time, not arrival order).
 */
export class ScoreCalibrator {
  private readonly capacity: number;
  private readonly minStd: number;
  /** Sorted by (hash, id). */
  private entries: { hash: number; id: string; vector: Float32Array }[] = [];

  constructor(options: ScoreCalibratorOptions = {}) {
    this.capacity = options.sampleSize ?? 512;
    this.minStd = options.minStd ?? 0.02;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Offers a catalog vector; kept if its id is among the `sampleSize` smallest hashes. A newer vector of a kept id replaces the old one. */
  offer(id: string, vector: Float32Array): void {
    const hash = sampleHash(id);
    const v = normalizeInPlace(Float32Array.from(vector));
    const at = this.position(hash, id);
    const existing = this.entries[at];
    if (existing && existing.id === id) {
      existing.vector = v;
      return;
    }
    if (this.entries.length >= this.capacity && at >= this.capacity) return;
    this.entries.splice(at, 0, { hash, id, vector: v });
    if (this.entries.length > this.capacity) this.entries.pop();
  }

  /** Removes a deleted item from the sample. */
  remove(id: string): void {
    const at = this.position(sampleHash(id), id);
    if (this.entries[at]?.id === id) this.entries.splice(at, 1);
  }

  /** Forgets the whole sample (before loading a fresh one). */
  clear(): void {
    this.entries = [];
  }

  private position(hash: number, id: string): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = this.entries[mid]!;
      if (e.hash < hash || (e.hash === hash && e.id < id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Background statistics for a unit-length query; undefined until the sample has 16 items. */
  background(query: Float32Array, excludeIds: ReadonlySet<string> = new Set()): BackgroundStats | undefined {
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    for (const e of this.entries) {
      if (excludeIds.has(e.id)) continue;
      const c = dot(query, e.vector);
      sum += c;
      sumSq += c * c;
      n++;
    }
    if (n < 16) return undefined;
    const mean = sum / n;
    const std = Math.max(this.minStd, Math.sqrt(Math.max(0, sumSq / n - mean * mean)));
    return { mean, std };
  }
}

/** z-score of `cos` against the query's background. */
export function zScore(cos: number, stats: BackgroundStats): number {
  return (cos - stats.mean) / stats.std;
}

/**
 * Maps a z-score to (0, 1): 0.5 at `z0`, steepness `width`. Used so that sources on
 * different scales can be blended and cut by one threshold.
 */
export function relevanceFromZ(z: number, z0: number, width: number): number {
  return 1 / (1 + Math.exp(-(z - z0) / width));
}
