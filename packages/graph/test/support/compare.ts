/** Cosine of rows x of two row-major matrices; NaN when both rows are zero. */
export function rowCosines(a: Float32Array, b: Float32Array, n: number, dim: number): number[] {
  const out: number[] = [];
  for (let x = 0; x < n; x++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let c = 0; c < dim; c++) {
      const p = a[x * dim + c]!;
      const q = b[x * dim + c]!;
      ab += p * q;
      aa += p * p;
      bb += q * q;
    }
    if (aa === 0 && bb === 0) continue;
    out.push(aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb));
  }
  return out;
}

export interface Distribution {
  count: number;
  mean: number;
  min: number;
  p1: number;
  p5: number;
  p50: number;
}

export function distribution(values: readonly number[]): Distribution {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.floor(p * (s.length - 1))]!;
  return { count: s.length, mean: s.reduce((a, b) => a + b, 0) / s.length, min: s[0]!, p1: q(0.01), p5: q(0.05), p50: q(0.5) };
}
