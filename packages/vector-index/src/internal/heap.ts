/**
 * Binary min-heap of (key, value) pairs in parallel typed arrays: no per-entry objects, so a
 * search that pushes thousands of candidates allocates nothing. A max-heap is a min-heap of
 * negated keys.
 */
export class PairHeap {
  private keys: Float64Array;
  private values: Uint32Array;
  size = 0;

  constructor(initialCapacity = 64) {
    this.keys = new Float64Array(initialCapacity);
    this.values = new Uint32Array(initialCapacity);
  }

  clear(): void {
    this.size = 0;
  }

  topKey(): number {
    return this.keys[0]!;
  }

  topValue(): number {
    return this.values[0]!;
  }

  push(key: number, value: number): void {
    if (this.size === this.keys.length) this.grow();
    const keys = this.keys;
    const values = this.values;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent]!;
      if (pk <= key) break;
      keys[i] = pk;
      values[i] = values[parent]!;
      i = parent;
    }
    keys[i] = key;
    values[i] = value;
  }

  /** Removes the top; read it first with topKey()/topValue(). */
  pop(): void {
    const n = --this.size;
    if (n === 0) return;
    const keys = this.keys;
    const values = this.values;
    const key = keys[n]!;
    const value = values[n]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && keys[right]! < keys[child]!) child = right;
      if (keys[child]! >= key) break;
      keys[i] = keys[child]!;
      values[i] = values[child]!;
      i = child;
    }
    keys[i] = key;
    values[i] = value;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    const values = new Uint32Array(this.values.length * 2);
    values.set(this.values);
    this.keys = keys;
    this.values = values;
  }
}
