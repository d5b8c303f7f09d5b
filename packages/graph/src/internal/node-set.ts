/**
 * A set of node indices with O(1) add/has and O(size) clear, no allocation once grown:
 * membership is an epoch stamp per node, so clearing only bumps the epoch.
 */
export class NodeSet {
  items = new Int32Array(64);
  size = 0;
  private stamp: Uint32Array;
  private epoch = 1;

  constructor(capacity: number) {
    this.stamp = new Uint32Array(capacity);
  }

  ensureCapacity(n: number): void {
    if (n <= this.stamp.length) return;
    const s = new Uint32Array(Math.max(n, this.stamp.length * 2));
    s.set(this.stamp);
    this.stamp = s;
  }

  has(x: number): boolean {
    return this.stamp[x] === this.epoch;
  }

  add(x: number): void {
    if (this.stamp[x] === this.epoch) return;
    this.stamp[x] = this.epoch;
    if (this.size === this.items.length) {
      const items = new Int32Array(this.size * 2);
      items.set(this.items);
      this.items = items;
    }
    this.items[this.size++] = x;
  }

  clear(): void {
    this.size = 0;
    if (++this.epoch === 0xffffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
  }
}
