/** Seeded PRNG (mulberry32): level assignment must be reproducible so a rebuild is deterministic. */
export class Rng {
  constructor(public state: number) {}

  /** Uniform in (0, 1]: never 0, so -ln(u) is finite. */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967296;
  }
}
