import { fillProjectionRow, sparseThreshold } from './random-projection';
import type { WasmMemory as AnyWasmMemory } from '@affinity/wasm-asm';
import { instantiateKernels, type WasmKernels } from './wasm-spmm';

type WasmMemory = AnyWasmMemory<SharedArrayBuffer>;

/** Byte offsets of the CSR and the dense blocks inside one shared WebAssembly memory. */
export interface WasmLayout {
  memory: WasmMemory;
  rowPtr: number;
  cols: number;
  vals: number;
  deg: number;
  x0: number;
  iterates: number[];
  out: number;
}

/**
 * Everything one FastRP pass reads and writes, as typed arrays (over SharedArrayBuffers when
 * worker threads share them). Both the inline path and `fastrp-worker.ts` run these loops.
 */
export interface KernelState {
  n: number;
  dim: number;
  contentDim: number;
  sparsity: number;
  beta: number;
  selfWeight: number;
  alphas: Float64Array;
  rowPtr: Uint32Array;
  cols: Int32Array;
  vals: Float32Array;
  deg: Float64Array;
  seeds: Uint32Array;
  /** Row of `contentRows` holding node j's projected content vector, or −1. */
  contentSlot: Int32Array;
  contentRows: Float32Array;
  /** x0 = L·R (scratch), iterates[i−1] = Nᵢ for i = 1..k, out = E. */
  x0: Float32Array;
  iterates: Float32Array[];
  out: Float32Array;
  /** When set, the arrays above are views of this memory and steps ≥ 1 run the SIMD kernel. */
  wasm?: WasmLayout;
}

/** Writes `scale · R[j]` (content columns first, then the sparse random ones) at `off`. */
export function initialRow(st: KernelState, j: number, target: Float32Array, off: number, scale: number): void {
  initialContent(st, j, target, off, scale);
  fillProjectionRow(st.seeds[j]!, st.sparsity, target, off, st.contentDim, st.dim, scale);
}

/** The content columns of `scale · R[j]` (zeros for a node without a content vector). */
function initialContent(st: KernelState, j: number, target: Float32Array, off: number, scale: number): void {
  const cd = st.contentDim;
  if (cd === 0) return;
  const slot = st.contentSlot[j]!;
  if (slot >= 0) {
    const src = slot * cd;
    for (let c = 0; c < cd; c++) target[off + c] = st.contentRows[src + c]! * scale;
  } else {
    for (let c = 0; c < cd; c++) target[off + c] = 0;
  }
}

/** d_j^β, with isolated nodes contributing nothing (0^β would be ∞ for β < 0). */
export function degreeScale(d: number, beta: number): number {
  return d > 0 ? Math.pow(d, beta) : 0;
}

const instances = new WeakMap<WasmMemory, WasmKernels>();

function kernelsOf(st: KernelState): WasmKernels | undefined {
  const w = st.wasm;
  if (w === undefined) return undefined;
  let k = instances.get(w.memory);
  if (k === undefined) instances.set(w.memory, (k = instantiateKernels(w.memory, st.dim)));
  return k;
}

/** x0 = L·R for rows [start, end) with the SIMD hash, or false when it can't (content columns not a multiple of 4, s = 1). */
function fillInitialRows(st: KernelState, start: number, end: number): boolean {
  const kernels = kernelsOf(st);
  const t = sparseThreshold(st.sparsity);
  const cd = st.contentDim;
  if (kernels === undefined || st.selfWeight !== 0 || cd % 4 !== 0 || 2 * t > 0xffffffff) return false;
  const rowBytes = st.dim * 4;
  const base = st.wasm!.x0 + cd * 4;
  const groups = (st.dim - cd) / 4;
  const root = Math.sqrt(st.sparsity);
  for (let j = start; j < end; j++) {
    const l = degreeScale(st.deg[j]!, st.beta);
    if (l === 0) continue;
    if (cd > 0) initialContent(st, j, st.x0, j * st.dim, l);
    kernels.fill(base + j * rowBytes, groups, st.seeds[j]!, cd, t, 2 * t, root * l);
  }
  return true;
}

/**
 * Step 0 writes x0 = L·R and the self term α₀·R̂ into `out`; step i ≥ 1 computes
 * Nᵢ = D⁻¹S·Nᵢ₋₁ for rows [start, end) and adds αᵢ·(row-normalized Nᵢ) into `out`.
 * x0, the iterates and `out` must be zero-filled before step 0 (fresh buffers are).
 */
export function stepRows(st: KernelState, step: number, start: number, end: number): void {
  const dim = st.dim;
  if (step === 0) {
    if (fillInitialRows(st, start, end)) return;
    for (let j = start; j < end; j++) {
      const off = j * dim;
      const l = degreeScale(st.deg[j]!, st.beta);
      if (st.selfWeight === 0) {
        // x0 = d^β·R straight from the hash; isolated nodes keep their zero row.
        if (l !== 0) initialRow(st, j, st.x0, off, l);
        continue;
      }
      initialRow(st, j, st.x0, off, 1);
      let norm = 0;
      for (let c = 0; c < dim; c++) norm += st.x0[off + c]! * st.x0[off + c]!;
      const self = norm > 0 ? st.selfWeight / Math.sqrt(norm) : 0;
      for (let c = 0; c < dim; c++) {
        const r = st.x0[off + c]!;
        st.out[off + c] = self * r;
        st.x0[off + c] = r * l;
      }
    }
    return;
  }
  const w = st.wasm;
  const kernels = kernelsOf(st);
  if (w !== undefined && kernels !== undefined) {
    const src = step === 1 ? w.x0 : w.iterates[step - 2]!;
    kernels.step(w.rowPtr, w.cols, w.vals, w.deg, src, w.iterates[step - 1]!, w.out, start, end, dim * 4, st.alphas[step - 1]!);
    return;
  }
  const src = step === 1 ? st.x0 : st.iterates[step - 2]!;
  const dst = st.iterates[step - 1]!;
  const alpha = st.alphas[step - 1]!;
  const { rowPtr, cols, vals, out } = st;
  // Accumulate straight into the float32 destination row, unrolled by 4: about 1.7× faster
  // in V8 than a float64 scratch row (measured), and float32 sums of ≤ deg terms stay far
  // inside the 1e-4 parity budget.
  const d4 = dim & ~3;
  for (let x = start; x < end; x++) {
    const off = x * dim;
    for (let c = 0; c < dim; c++) dst[off + c] = 0;
    for (let p = rowPtr[x]!, e = rowPtr[x + 1]!; p < e; p++) {
      const w = vals[p]!;
      const o = cols[p]! * dim;
      let c = 0;
      for (; c < d4; c += 4) {
        dst[off + c]! += w * src[o + c]!;
        dst[off + c + 1]! += w * src[o + c + 1]!;
        dst[off + c + 2]! += w * src[o + c + 2]!;
        dst[off + c + 3]! += w * src[o + c + 3]!;
      }
      for (; c < dim; c++) dst[off + c]! += w * src[o + c]!;
    }
    const d = st.deg[x]!;
    const inv = d > 0 ? 1 / d : 0;
    let norm = 0;
    for (let c = 0; c < dim; c++) norm += dst[off + c]! * dst[off + c]!;
    const a = norm > 0 ? alpha / Math.sqrt(norm) : 0;
    for (let c = 0; c < dim; c++) {
      const u = dst[off + c]!;
      out[off + c]! += u * a;
      dst[off + c] = u * inv;
    }
  }
}
