import { SeededRandom } from '@affinity/contracts';

/** Seeded PRNG (mulberry32): level assignment must be reproducible so a rebuild is deterministic. */
export class Rng extends SeededRandom {
  /** Uniform in (0, 1]: never 0, so -ln(u) is finite. */
  override next(): number {
    return (this.nextUint32() + 1) / 4294967296;
  }
}
