import { fmix32 } from './random-projection';

/**
 * A weighted adjacency kept as compressed sparse rows (typed arrays) plus a delta buffer.
 *
 * - An edge already in the CSR is updated in place (binary search in its sorted row), so
 *   repeated interactions on the same pair never grow memory.
 * - A new edge goes to the delta buffer: parallel typed arrays with a per-row linked list
 *   and an open-addressing hash on (src, dst), so lookups stay O(1).
 * - `compact()` merges the delta into a new CSR in O(E + Δ log Δ); callers trigger it when
 *   the delta passes a fraction of the CSR, so the merge is amortized.
 *
 * Rows are directed; an undirected graph stores both directions (`addUndirected`).
 * 8 bytes per stored direction in the CSR (int32 column + float32 weight), 16 in the delta.
 */
export class DynamicCsr {
  nodeCount = 0;
  /** CSR part; rows ≥ baseRows have no CSR entries yet. */
  rowPtr: Uint32Array = new Uint32Array(1);
  cols: Int32Array = new Int32Array(0);
  vals: Float32Array = new Float32Array(0);
  baseRows = 0;
  /** Delta part: entry e is the edge dSrc[e] → dDst[e] with weight dVal[e]. */
  head: Int32Array = new Int32Array(0);
  dSrc: Int32Array = new Int32Array(0);
  dDst: Int32Array = new Int32Array(0);
  dVal: Float32Array = new Float32Array(0);
  dNext: Int32Array = new Int32Array(0);
  deltaCount = 0;
  /** Weighted degree (row sums), float64 so long streams of small increments don't drift. */
  degree: Float64Array = new Float64Array(0);
  private table: Int32Array = new Int32Array(0);
  private tableMask = -1;

  constructor(initialNodes = 1024, initialDelta = 1024) {
    this.growNodes(initialNodes);
    this.growDelta(initialDelta);
  }

  /** Stored directed entries (CSR + delta). */
  get entryCount(): number {
    return this.rowPtr[this.baseRows]! + this.deltaCount;
  }

  /** Makes rows `[0, n)` addressable. */
  ensureNodes(n: number): void {
    if (n > this.head.length) this.growNodes(Math.max(n, this.head.length * 2));
    if (n > this.nodeCount) this.nodeCount = n;
  }

  addUndirected(u: number, v: number, w: number): void {
    this.addDirected(u, v, w);
    if (u !== v) this.addDirected(v, u, w);
  }

  addDirected(u: number, v: number, w: number): void {
    this.degree[u]! += w;
    if (u < this.baseRows) {
      const p = this.findInRow(u, v);
      if (p >= 0) {
        this.vals[p]! += w;
        return;
      }
    }
    const e = this.findDelta(u, v);
    if (e >= 0) {
      this.dVal[e]! += w;
      return;
    }
    this.appendDelta(u, v, w);
  }

  /** Current weight of u → v (0 when absent). */
  weight(u: number, v: number): number {
    if (u < this.baseRows) {
      const p = this.findInRow(u, v);
      if (p >= 0) return this.vals[p]!;
    }
    const e = this.findDelta(u, v);
    return e >= 0 ? this.dVal[e]! : 0;
  }

  /** Number of stored neighbours of u. */
  rowLength(u: number): number {
    let n = u < this.baseRows ? this.rowPtr[u + 1]! - this.rowPtr[u]! : 0;
    for (let e = this.head[u]!; e >= 0; e = this.dNext[e]!) n++;
    return n;
  }

  /** Calls `fn(neighbour, weight)` for each stored neighbour of u. */
  forEachNeighbor(u: number, fn: (v: number, w: number) => void): void {
    if (u < this.baseRows) {
      for (let p = this.rowPtr[u]!, end = this.rowPtr[u + 1]!; p < end; p++) fn(this.cols[p]!, this.vals[p]!);
    }
    for (let e = this.head[u]!; e >= 0; e = this.dNext[e]!) fn(this.dDst[e]!, this.dVal[e]!);
  }

  /**
   * Multiplies every weight by `c` (the lazy-decay rebase); degrees become the row sums of the
   * stored weights, as {@link load} computes them. A weight that falls below float32's range is
   * 0 now, so a row whose weights all did is isolated (degree 0), not of a tiny float64 degree.
   */
  rescale(c: number): void {
    const nnz = this.rowPtr[this.baseRows]!;
    for (let p = 0; p < nnz; p++) this.vals[p]! *= c;
    for (let e = 0; e < this.deltaCount; e++) this.dVal[e]! *= c;
    for (let u = 0; u < this.nodeCount; u++) {
      let d = 0;
      if (u < this.baseRows) for (let p = this.rowPtr[u]!, end = this.rowPtr[u + 1]!; p < end; p++) d += this.vals[p]!;
      for (let e = this.head[u]!; e >= 0; e = this.dNext[e]!) d += this.dVal[e]!;
      this.degree[u] = d;
    }
  }

  /** Merges the delta buffer into a fresh CSR with sorted rows. */
  compact(): void {
    if (this.deltaCount === 0 && this.baseRows === this.nodeCount) return;
    const n = this.nodeCount;
    const rowPtr = new Uint32Array(n + 1);
    for (let u = 0; u < n; u++) {
      let len = u < this.baseRows ? this.rowPtr[u + 1]! - this.rowPtr[u]! : 0;
      for (let e = this.head[u]!; e >= 0; e = this.dNext[e]!) len++;
      rowPtr[u + 1] = rowPtr[u]! + len;
    }
    const nnz = rowPtr[n]!;
    const cols = new Int32Array(nnz);
    const vals = new Float32Array(nnz);
    let scratch = new Float64Array(64);
    for (let u = 0; u < n; u++) {
      let out = rowPtr[u]!;
      const baseStart = u < this.baseRows ? this.rowPtr[u]! : 0;
      const baseEnd = u < this.baseRows ? this.rowPtr[u + 1]! : 0;
      if (this.head[u]! < 0) {
        cols.set(this.cols.subarray(baseStart, baseEnd), out);
        vals.set(this.vals.subarray(baseStart, baseEnd), out);
        continue;
      }
      // Sort this row's delta entries by column (key = col·2²¹ + local index, exact in
      // float64), then merge with the already sorted CSR row.
      let k = 0;
      for (let e = this.head[u]!; e >= 0; e = this.dNext[e]!) k++;
      if (scratch.length < k) scratch = new Float64Array(k * 2);
      const entries = new Int32Array(k);
      let i = 0;
      for (let e = this.head[u]!; e >= 0; e = this.dNext[e]!, i++) {
        entries[i] = e;
        scratch[i] = this.dDst[e]! * 2097152 + i;
      }
      const keys = scratch.subarray(0, k).sort();
      let b = baseStart;
      for (let j = 0; j < k; j++) {
        const e = entries[keys[j]! % 2097152]!;
        const col = this.dDst[e]!;
        while (b < baseEnd && this.cols[b]! < col) {
          cols[out] = this.cols[b]!;
          vals[out++] = this.vals[b++]!;
        }
        cols[out] = col;
        vals[out++] = this.dVal[e]!;
      }
      while (b < baseEnd) {
        cols[out] = this.cols[b]!;
        vals[out++] = this.vals[b++]!;
      }
    }
    this.rowPtr = rowPtr;
    this.cols = cols;
    this.vals = vals;
    this.baseRows = n;
    this.head.fill(-1);
    this.deltaCount = 0;
    this.table.fill(-1);
  }

  /** Replaces the whole state with a CSR (rows sorted) and the matching degrees. */
  load(nodeCount: number, rowPtr: Uint32Array, cols: Int32Array, vals: Float32Array): void {
    this.ensureNodes(nodeCount);
    this.nodeCount = nodeCount;
    this.rowPtr = rowPtr;
    this.cols = cols;
    this.vals = vals;
    this.baseRows = nodeCount;
    this.head.fill(-1);
    this.deltaCount = 0;
    this.table.fill(-1);
    this.degree.fill(0);
    for (let u = 0; u < nodeCount; u++) {
      let d = 0;
      for (let p = rowPtr[u]!, end = rowPtr[u + 1]!; p < end; p++) d += vals[p]!;
      this.degree[u] = d;
    }
  }

  /** Bytes held by the typed arrays (capacity, not just the used part). */
  memoryBytes(): number {
    return (
      this.rowPtr.byteLength +
      this.cols.byteLength +
      this.vals.byteLength +
      this.head.byteLength +
      this.dSrc.byteLength +
      this.dDst.byteLength +
      this.dVal.byteLength +
      this.dNext.byteLength +
      this.degree.byteLength +
      this.table.byteLength
    );
  }

  private findInRow(u: number, v: number): number {
    let lo = this.rowPtr[u]!;
    let hi = this.rowPtr[u + 1]! - 1;
    const cols = this.cols;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = cols[mid]!;
      if (c === v) return mid;
      if (c < v) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private slot(u: number, v: number): number {
    return fmix32(Math.imul(u, 0x9e3779b1) ^ v) & this.tableMask;
  }

  private findDelta(u: number, v: number): number {
    if (this.deltaCount === 0) return -1;
    for (let s = this.slot(u, v); ; s = (s + 1) & this.tableMask) {
      const e = this.table[s]!;
      if (e < 0) return -1;
      if (this.dSrc[e] === u && this.dDst[e] === v) return e;
    }
  }

  private appendDelta(u: number, v: number, w: number): void {
    if (this.deltaCount === this.dSrc.length) this.growDelta(this.dSrc.length * 2);
    const e = this.deltaCount++;
    this.dSrc[e] = u;
    this.dDst[e] = v;
    this.dVal[e] = w;
    this.dNext[e] = this.head[u]!;
    this.head[u] = e;
    this.insertSlot(e);
  }

  private insertSlot(e: number): void {
    let s = this.slot(this.dSrc[e]!, this.dDst[e]!);
    while (this.table[s]! >= 0) s = (s + 1) & this.tableMask;
    this.table[s] = e;
  }

  private growNodes(cap: number): void {
    const head = new Int32Array(cap).fill(-1);
    head.set(this.head);
    this.head = head;
    const degree = new Float64Array(cap);
    degree.set(this.degree);
    this.degree = degree;
  }

  private growDelta(cap: number): void {
    const grow = <T extends Int32Array | Float32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.dSrc = grow(this.dSrc, (n) => new Int32Array(n));
    this.dDst = grow(this.dDst, (n) => new Int32Array(n));
    this.dVal = grow(this.dVal, (n) => new Float32Array(n));
    this.dNext = grow(this.dNext, (n) => new Int32Array(n));
    // Load factor ≤ 1/2 keeps linear probing short.
    let size = 1;
    while (size < cap * 2) size *= 2;
    this.table = new Int32Array(size).fill(-1);
    this.tableMask = size - 1;
    for (let e = 0; e < this.deltaCount; e++) this.insertSlot(e);
  }
}
