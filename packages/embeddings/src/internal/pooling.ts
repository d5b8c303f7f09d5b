/**
 * sentence-transformers' Pooling(mean) + Normalize on one batch: the mean of each row's first
 * `lengths[r]` token vectors (right padding, so the attention mask is a prefix), divided by
 * max(‖x‖₂, 1e-12). Sums run in float64 so the only float32 rounding is the model's own.
 */
export function meanPool(
  hidden: Float32Array,
  lengths: Int32Array,
  paddedLength: number,
  dim: number,
  normalize: boolean,
  out: Float32Array,
  outRows: Int32Array,
): void {
  const acc = new Float64Array(dim);
  for (let r = 0; r < lengths.length; r++) {
    acc.fill(0);
    const n = lengths[r] ?? 0;
    const base = r * paddedLength * dim;
    for (let t = 0; t < n; t++) {
      const o = base + t * dim;
      for (let j = 0; j < dim; j++) acc[j] = (acc[j] ?? 0) + (hidden[o + j] ?? 0);
    }
    // sentence-transformers clamps the token count at 1e-9; an empty row stays all zeros.
    const inv = 1 / Math.max(n, 1e-9);
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      const v = (acc[j] ?? 0) * inv;
      acc[j] = v;
      norm += v * v;
    }
    const scale = normalize ? 1 / Math.max(Math.sqrt(norm), 1e-12) : 1;
    const dst = (outRows[r] ?? 0) * dim;
    for (let j = 0; j < dim; j++) out[dst + j] = (acc[j] ?? 0) * scale;
  }
}
