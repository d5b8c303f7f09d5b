/** Fixed-size bitset over slot numbers. */
export class Bitset {
  readonly words: Uint32Array;

  constructor(readonly size: number) {
    this.words = new Uint32Array((size + 31) >>> 5);
  }

  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  add(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
  }

  delete(i: number): void {
    this.words[i >>> 5]! &= ~(1 << (i & 31));
  }

  count(): number {
    let n = 0;
    const w = this.words;
    for (let i = 0; i < w.length; i++) n += popcount(w[i]!);
    return n;
  }

  /** Calls `fn` for every member in increasing order. */
  forEach(fn: (i: number) => void): void {
    const w = this.words;
    for (let wi = 0; wi < w.length; wi++) {
      let word = w[wi]!;
      while (word !== 0) {
        const low = word & -word;
        fn((wi << 5) + 31 - Math.clz32(low));
        word ^= low;
      }
    }
  }

  /** Members in increasing order. */
  toArray(count = this.count()): Uint32Array {
    const out = new Uint32Array(count);
    let n = 0;
    this.forEach((i) => {
      out[n++] = i;
    });
    return out;
  }
}

export function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
