/**
 * A sparse set of dense rows keyed by node index: O(1) membership through a slot array,
 * rows packed in one growable Float32Array so a propagation step allocates nothing per row.
 */
export class RowSet {
  nodes: number[] = [];
  data: Float32Array;
  private slot: Int32Array;

  constructor(
    readonly dim: number,
    capacity: number,
  ) {
    this.slot = new Int32Array(capacity).fill(-1);
    this.data = new Float32Array(64 * dim);
  }

  get size(): number {
    return this.nodes.length;
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

  /** Offset of x's row, adding a zero row when absent. */
  row(x: number): number {
    let s = this.slot[x]!;
    if (s < 0) {
      s = this.nodes.length;
      this.nodes.push(x);
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
    for (const x of this.nodes) this.slot[x] = -1;
    this.nodes = [];
  }
}
