import { SeededRandom } from '@affinity/contracts';
import { dot, normalizeInPlace } from './vector-math';

/** Mean and standard deviation of a query's cosine to unrelated items. */
export interface BackgroundStats {
  mean: number;
  std: number;
}

export interface ScoreCalibratorOptions {
  /** Background vectors kept (reservoir sample of the catalog). @defaultValue 512 */
  sampleSize?: number;
  /** Floor on the background std, so a degenerate sample cannot inflate z-scores. @defaultValue 0.02 */
  minStd?: number;
  /** Seed of the reservoir's random choices (reproducible lists). @defaultValue 1 */
  seed?: number;
}

/**
 * Calibrates raw cosine scores per query. Raw cosines are not comparable across queries:
 * sentence embeddings of short product titles sit in a narrow cone, so 0.45 can be a strong
 * match for one query and noise for another. We compare each score with the same query's
 * cosine to a random sample of the catalog and express it as a z-score ("standard
 * deviations above chance"); one global threshold on z then means the same thing for
 * every query.
 */
export class ScoreCalibrator {
  private readonly capacity: number;
  private readonly minStd: number;
  private vectors: Float32Array[] = [];
  private ids: string[] = [];
  private seen = 0;
  private readonly rng: SeededRandom;

  constructor(options: ScoreCalibratorOptions = {}) {
    this.capacity = options.sampleSize ?? 512;
    this.minStd = options.minStd ?? 0.02;
    this.rng = new SeededRandom(options.seed ?? 1);
  }

  get size(): number {
    return this.vectors.length;
  }

  /** Offers a catalog vector to the reservoir (Vitter's algorithm R). Replaces an earlier copy of the same id. */
  offer(id: string, vector: Float32Array): void {
    const existing = this.ids.indexOf(id);
    const v = normalizeInPlace(Float32Array.from(vector));
    if (existing >= 0) {
      this.vectors[existing] = v;
      return;
    }
    this.seen++;
    if (this.vectors.length < this.capacity) {
      this.vectors.push(v);
      this.ids.push(id);
      return;
    }
    const j = Math.floor(this.random() * this.seen);
    if (j < this.capacity) {
      this.vectors[j] = v;
      this.ids[j] = id;
    }
  }

  /** Removes a deleted item from the sample. */
  remove(id: string): void {
    const i = this.ids.indexOf(id);
    if (i < 0) return;
    this.ids.splice(i, 1);
    this.vectors.splice(i, 1);
  }

  /** Background statistics for a unit-length query; undefined until the sample has 16 items. */
  background(query: Float32Array, excludeIds: ReadonlySet<string> = new Set()): BackgroundStats | undefined {
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < this.vectors.length; i++) {
      if (excludeIds.has(this.ids[i]!)) continue;
      const c = dot(query, this.vectors[i]!);
      sum += c;
      sumSq += c * c;
      n++;
    }
    if (n < 16) return undefined;
    const mean = sum / n;
    const std = Math.max(this.minStd, Math.sqrt(Math.max(0, sumSq / n - mean * mean)));
    return { mean, std };
  }

  private random(): number {
    return this.rng.next();
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
