/**
 * mulberry32, the one seeded PRNG of the project: reproducible folds, shuffles, samples,
 * synthetic workloads and HNSW level draws. Small and fast; not for anything secret.
 * `state` is public so a user can persist it and continue the same sequence.
 */
export class SeededRandom {
  constructor(public state: number) {}

  /** The next output as an unsigned 32-bit integer. */
  nextUint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }
}

/** A seeded source of uniforms in [0, 1) (mulberry32). */
export function mulberry32(seed: number): () => number {
  const r = new SeededRandom(seed);
  return () => r.next();
}
