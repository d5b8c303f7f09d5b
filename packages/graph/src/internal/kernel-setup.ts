import type { CompiledFastRPOptions } from '../fastrp-options';
import type { KernelState } from './fastrp-kernel';
import { contentProjection, nodeSeed } from './random-projection';

/** Typed array of `length` over shared memory when worker threads will read it. */
export function alloc<T extends Float32Array | Float64Array | Int32Array | Uint32Array>(
  ctor: { new (buf: ArrayBufferLike): T; BYTES_PER_ELEMENT: number },
  length: number,
  shared: boolean,
): T {
  const bytes = length * ctor.BYTES_PER_ELEMENT;
  return new ctor(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

export function toShared<T extends Float32Array | Float64Array | Int32Array | Uint32Array>(
  a: T,
  ctor: { new (buf: ArrayBufferLike): T; BYTES_PER_ELEMENT: number },
  length: number = a.length,
): T {
  const out = alloc(ctor, length, true);
  out.set(a.subarray(0, length) as never);
  return out;
}

/**
 * Content part of the initial vectors: P·c normalized and scaled to √contentDim, so its
 * energy per column matches the sparse random columns (E[R²] = 1).
 */
export function projectContent(
  o: CompiledFastRPOptions,
  n: number,
  keyOf: (j: number) => string,
  shared: boolean,
): { contentSlot: Int32Array; contentRows: Float32Array } {
  const contentSlot = alloc(Int32Array, n, shared).fill(-1);
  if (o.contentEmbeddings === undefined || o.contentDim === 0) return { contentSlot, contentRows: new Float32Array(0) };
  const rows: number[] = [];
  for (let j = 0; j < n; j++) if (o.contentEmbeddings.has(keyOf(j))) rows.push(j);
  const contentRows = alloc(Float32Array, rows.length * o.contentDim, shared);
  const p = contentProjection(o.contentInputDim, o.contentDim, o.seed);
  rows.forEach((j, slot) => {
    contentSlot[j] = slot;
    projectOne(o, p, o.contentEmbeddings!.get(keyOf(j))!, contentRows, slot * o.contentDim);
  });
  return { contentSlot, contentRows };
}

export function projectOne(o: CompiledFastRPOptions, p: Float32Array, v: Float32Array, out: Float32Array, off: number): void {
  const cd = o.contentDim;
  for (let c = 0; c < cd; c++) out[off + c] = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x === 0) continue;
    for (let c = 0; c < cd; c++) out[off + c]! += x * p[i * cd + c]!;
  }
  let norm = 0;
  for (let c = 0; c < cd; c++) norm += out[off + c]! * out[off + c]!;
  const k = norm > 0 ? Math.sqrt(cd / norm) : 0;
  for (let c = 0; c < cd; c++) out[off + c]! *= k;
}

export function seedsOf(o: CompiledFastRPOptions, n: number, keyOf: (j: number) => string, shared: boolean): Uint32Array {
  const seeds = alloc(Uint32Array, n, shared);
  for (let j = 0; j < n; j++) seeds[j] = nodeSeed(keyOf(j), o.seed);
  return seeds;
}

export function emptyKernelState(o: CompiledFastRPOptions): KernelState {
  return {
    n: 0,
    dim: o.dim,
    contentDim: o.contentDim,
    sparsity: o.sparsity,
    beta: o.normalizationStrength,
    selfWeight: o.selfWeight,
    alphas: o.iterationWeights,
    rowPtr: new Uint32Array(1),
    cols: new Int32Array(0),
    vals: new Float32Array(0),
    deg: new Float64Array(0),
    seeds: new Uint32Array(0),
    contentSlot: new Int32Array(0),
    contentRows: new Float32Array(0),
    x0: new Float32Array(0),
    iterates: [],
    out: new Float32Array(0),
  };
}
