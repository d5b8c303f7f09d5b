import { NodeSet } from './node-set';

/**
 * Reusable per-update work arrays of an incremental FastRP update, so a steady stream of
 * updates allocates (almost) nothing on the JS heap: garbage collection pauses were a large
 * part of the slowest updates.
 *
 * - `ends`: the delta's endpoints, with their degree before the delta (`endOld`, by position)
 *   and their delta partners grouped per endpoint (`partnerPtr`/`partner`/`partnerW`).
 * - `incr`: for the endpoint being pushed, the weight its delta added per partner (`incrOf`).
 * - `order*`: the frontier's relative changes and the order in which they are pushed.
 */
export class DeltaScratch {
  readonly ends: NodeSet;
  endOld = new Float64Array(64);
  /** Node → position in `ends.items` (valid while `ends.has(node)`). */
  endPos: Int32Array;
  partnerPtr = new Int32Array(65);
  partner = new Int32Array(64);
  partnerW = new Float64Array(64);
  readonly incr: NodeSet;
  incrOf: Float64Array;
  readonly touched: NodeSet;
  readonly pulled: NodeSet;
  orderRho = new Float64Array(64);
  orderShrank = new Uint8Array(64);
  order = new Int32Array(64);
  readonly rowA: Float32Array;
  readonly rowB: Float32Array;

  constructor(dim: number, capacity: number) {
    this.ends = new NodeSet(capacity);
    this.endPos = new Int32Array(capacity);
    this.incr = new NodeSet(capacity);
    this.incrOf = new Float64Array(capacity);
    this.touched = new NodeSet(capacity);
    this.pulled = new NodeSet(capacity);
    this.rowA = new Float32Array(dim);
    this.rowB = new Float32Array(dim);
  }

  ensureCapacity(n: number): void {
    for (const s of [this.ends, this.incr, this.touched, this.pulled]) s.ensureCapacity(n);
    if (n > this.endPos.length) {
      const cap = Math.max(n, this.endPos.length * 2);
      this.endPos = grow(this.endPos, cap);
      this.incrOf = grow(this.incrOf, cap);
    }
  }

  /**
   * Collects the endpoints of the delta edges (with `deg` before the delta) and groups each
   * endpoint's partners, both directions (a self-loop once).
   */
  collect(src: Int32Array, dst: Int32Array, w: Float32Array, deg: Float64Array): void {
    this.ends.clear();
    for (let e = 0; e < src.length; e++) {
      this.addEnd(src[e]!, deg);
      this.addEnd(dst[e]!, deg);
    }
    const m = this.ends.size;
    if (m + 1 > this.partnerPtr.length) this.partnerPtr = new Int32Array(2 * (m + 1));
    const ptr = this.partnerPtr;
    ptr.fill(0, 0, m + 1);
    for (let e = 0; e < src.length; e++) {
      ptr[this.endPos[src[e]!]! + 1]!++;
      if (src[e] !== dst[e]) ptr[this.endPos[dst[e]!]! + 1]!++;
    }
    for (let q = 0; q < m; q++) ptr[q + 1]! += ptr[q]!;
    const total = ptr[m]!;
    if (total > this.partner.length) {
      this.partner = new Int32Array(2 * total);
      this.partnerW = new Float64Array(2 * total);
    }
    // Fill with a moving cursor per endpoint (ptr[q] advances, then is restored).
    for (let e = 0; e < src.length; e++) {
      const u = src[e]!;
      const v = dst[e]!;
      let at = ptr[this.endPos[u]!]!++;
      this.partner[at] = v;
      this.partnerW[at] = w[e]!;
      if (u !== v) {
        at = ptr[this.endPos[v]!]!++;
        this.partner[at] = u;
        this.partnerW[at] = w[e]!;
      }
    }
    for (let q = m; q > 0; q--) ptr[q] = ptr[q - 1]!;
    ptr[0] = 0;
  }

  private addEnd(x: number, deg: Float64Array): void {
    if (this.ends.has(x)) return;
    this.ends.add(x);
    const q = this.ends.size - 1;
    if (q >= this.endOld.length) this.endOld = grow(this.endOld, this.endOld.length * 2);
    this.endOld[q] = deg[x]!;
    this.endPos[x] = q;
  }

  /** Degree of x before the delta (its current degree when x is no endpoint). */
  oldDegree(x: number, deg: Float64Array): number {
    return this.ends.has(x) ? this.endOld[this.endPos[x]!]! : deg[x]!;
  }

  /** Loads `incrOf` with the increments of endpoint j per partner (empty for a non-endpoint). */
  loadIncrements(j: number): void {
    const incr = this.incr;
    incr.clear();
    if (!this.ends.has(j)) return;
    const q = this.endPos[j]!;
    for (let p = this.partnerPtr[q]!, end = this.partnerPtr[q + 1]!; p < end; p++) {
      const x = this.partner[p]!;
      if (!incr.has(x)) {
        incr.add(x);
        this.incrOf[x] = 0;
      }
      this.incrOf[x]! += this.partnerW[p]!;
    }
  }

  /** Room for a frontier of `m` rows in the order arrays. */
  reserveOrder(m: number): void {
    if (m <= this.order.length) return;
    const cap = Math.max(m, this.order.length * 2);
    this.order = new Int32Array(cap);
    this.orderRho = new Float64Array(cap);
    this.orderShrank = new Uint8Array(cap);
  }
}

function grow<T extends Int32Array | Float64Array>(a: T, len: number): T {
  const b = new (a.constructor as new (n: number) => T)(len);
  b.set(a);
  return b;
}
