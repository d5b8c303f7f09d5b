import { RowStore } from './row-store';

export type Int8Scale = 'per-dimension' | 'global';

/**
 * Symmetric int8 scalar quantization of unit vectors for graph traversal; exact float
 * distances re-rank the survivors. Stored rows are q[d] = round(x[d] / s[d]); a query is
 * folded with the scales (y[d] = x[d]·s[d]) and quantized with its own scale t, so
 * x·row ≈ t · Σ qy[d]·q[d] is one int8 SIMD dot product.
 */
export class Int8Quantizer {
  readonly store: RowStore;
  /** s[d]; all equal for a global scale. */
  scales: Float32Array;
  /** t of the current query. */
  queryScale = 1;
  private readonly qbuf: Int8Array;
  private readonly ybuf: Float32Array;

  constructor(
    readonly dim: number,
    readonly scaleKind: Int8Scale,
    initialCapacity: number,
  ) {
    this.store = new RowStore('i8', dim, initialCapacity);
    this.scales = new Float32Array(dim);
    this.qbuf = new Int8Array(dim);
    this.ybuf = new Float32Array(dim);
  }

  /** Sets scales from the largest magnitude per dimension (or overall) of the sample rows. */
  calibrate(rows: Iterable<Float32Array>): void {
    const maxAbs = new Float32Array(this.dim);
    for (const v of rows) {
      for (let d = 0; d < this.dim; d++) {
        const a = Math.abs(v[d]!);
        if (a > maxAbs[d]!) maxAbs[d] = a;
      }
    }
    if (this.scaleKind === 'global') {
      let m = 0;
      for (let d = 0; d < this.dim; d++) m = Math.max(m, maxAbs[d]!);
      maxAbs.fill(m);
    }
    for (let d = 0; d < this.dim; d++) this.scales[d] = maxAbs[d]! > 0 ? maxAbs[d]! / 127 : 1 / 127;
  }

  encode(slot: number, v: Float32Array): void {
    const q = this.qbuf;
    const s = this.scales;
    for (let d = 0; d < this.dim; d++) q[d] = clamp127(Math.round(v[d]! / s[d]!));
    this.store.writeI8(slot, q);
  }

  setQuery(v: Float32Array): void {
    const y = this.ybuf;
    let m = 0;
    for (let d = 0; d < this.dim; d++) {
      y[d] = v[d]! * this.scales[d]!;
      m = Math.max(m, Math.abs(y[d]!));
    }
    const t = m > 0 ? m / 127 : 1;
    for (let d = 0; d < this.dim; d++) this.qbuf[d] = clamp127(Math.round(y[d]! / t));
    this.queryScale = t;
    this.store.setQueryI8(this.qbuf);
  }
}

function clamp127(x: number): number {
  return x > 127 ? 127 : x < -127 ? -127 : x;
}
