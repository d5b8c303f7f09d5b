/**
 * A sparse set of dense rows keyed by node index: O(1) membership through a slot array,
 * rows packed in one growable Float32Array so a propagation step allocates nothing per row.
 */
export class RowSet {
  /** Members in insertion order (`nodes[0..size)`). */
  nodes = new Int32Array(64);
  size = 0;
  data: Float32Array;
  private slot: Int32Array;

  constructor(
    readonly dim: number,
    capacity: number,
  ) {
    this.slot = new Int32Array(capacity).fill(-1);
    this.data = new Float32Array(64 * dim);
  }

  ensureCapacity(n: number): void {
    if (n <= this.slot.length) return;
    const s = new Int32Array(Math.max(n, this.slot.length * 2)).fill(-1);
    s.set(this.slot);
    this.slot = s;
  }

  /** Offset of x's row in `data`, or −1. */
  offset(x: number): number {
    const s = this.slot[x]!;
    return s < 0 ? -1 : s * this.dim;
  }

  /** Offset of x's row, adding a zero row when absent (may replace `data`: re-read it after). */
  row(x: number): number {
    let s = this.slot[x]!;
    if (s < 0) {
      s = this.size++;
      if (s === this.nodes.length) {
        const nodes = new Int32Array(s * 2);
        nodes.set(this.nodes);
        this.nodes = nodes;
      }
      this.nodes[s] = x;
      this.slot[x] = s;
      const need = (s + 1) * this.dim;
      if (need > this.data.length) {
        const d = new Float32Array(Math.max(need, this.data.length * 2));
        d.set(this.data);
        this.data = d;
      }
      this.data.fill(0, s * this.dim, need);
    }
    return s * this.dim;
  }

  clear(): void {
    for (let i = 0; i < this.size; i++) this.slot[this.nodes[i]!] = -1;
    this.size = 0;
  }
}
