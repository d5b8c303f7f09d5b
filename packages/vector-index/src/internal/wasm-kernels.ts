/**
 * Dot-product kernels in WebAssembly SIMD (128-bit), assembled here from opcodes so the
 * package has no build step and no native addon. V8 does not auto-vectorize JS loops:
 * a scalar Float32Array dot product of 384 values costs ~4x the f32x4 version (measured in
 * bench/vector-index), and distance evaluations are >90% of HNSW search time.
 *
 * Exports (all addresses are byte offsets into the imported memory `env.mem`):
 * - `dot(a, b, n16) -> f32`: sum of a[i]*b[i] over n16*16 float32 values (4 accumulators).
 * - `dotMany(q, base, stride, ids, count, out, n16)`: out[i] = dot(q, base + ids[i]*stride, n16),
 *   one call per neighbour list instead of one JS→wasm crossing per neighbour; touches the first
 *   cache line of every listed row before computing, so their memory latencies overlap.
 * - `dotI8(a, b, n16) -> i32`: sum of a[i]*b[i] over n16*16 int8 values.
 * - `dotManyI8(...)`: like dotMany over int8 rows, writing float32 results.
 * - `searchLevel0(...)`: the whole layer-0 HNSW search loop (search-kernel.ts).
 */

import {
  F32,
  I32,
  V128,
  addConst,
  compileModule,
  countedLoop,
  funcBody,
  get,
  instantiate,
  load32,
  name,
  op,
  section,
  set,
  simd,
  storeF32,
  tee,
  uleb,
  vec,
  type WasmMemory,
  type WasmModule,
} from '@affinity/wasm-asm';
import { SEARCH_LEVEL0_TYPE, searchLevel0Body } from './search-kernel';

const v128Load = (offset: number): number[] => simd(0x00, 4, ...uleb(offset));
const f32x4Add = simd(0xe4);
const f32x4Mul = simd(0xe6);
const f32x4Lane = (lane: number): number[] => simd(0x1f, lane);
const i32x4Lane = (lane: number): number[] => simd(0x1b, lane);
const i32x4Add = simd(0xae);
const i32x4DotI16x8S = simd(0xba);
const i16x8ExtendLowI8x16S = simd(0x87);
const i16x8ExtendHighI8x16S = simd(0x88);

// dot(a=0, b=1, n16=2) with four v128 accumulators (locals 3..6) to hide add latency.
const dotF32 = funcBody(
  [[4, V128]],
  [
    ...countedLoop(2, [
      ...[0, 1, 2, 3].flatMap((k) => [...get(3 + k), ...get(0), ...v128Load(16 * k), ...get(1), ...v128Load(16 * k), ...f32x4Mul, ...f32x4Add, ...set(3 + k)]),
      ...addConst(0, 64),
      ...addConst(1, 64),
    ]),
    ...get(3),
    ...get(4),
    ...f32x4Add,
    ...get(5),
    ...get(6),
    ...f32x4Add,
    ...f32x4Add,
    ...tee(3),
    ...f32x4Lane(0),
    ...get(3),
    ...f32x4Lane(1),
    op.f32Add,
    ...get(3),
    ...f32x4Lane(2),
    op.f32Add,
    ...get(3),
    ...f32x4Lane(3),
    op.f32Add,
  ],
);

// dotI8(a=0, b=1, n16=2): int8 → int16 widening, i32x4.dot_i16x8_s, two accumulators (3, 4), va=5, vb=6.
const dotI8 = funcBody(
  [[4, V128]],
  [
    ...countedLoop(2, [
      ...get(0),
      ...v128Load(0),
      ...set(5),
      ...get(1),
      ...v128Load(0),
      ...set(6),
      ...get(3),
      ...get(5),
      ...i16x8ExtendLowI8x16S,
      ...get(6),
      ...i16x8ExtendLowI8x16S,
      ...i32x4DotI16x8S,
      ...i32x4Add,
      ...set(3),
      ...get(4),
      ...get(5),
      ...i16x8ExtendHighI8x16S,
      ...get(6),
      ...i16x8ExtendHighI8x16S,
      ...i32x4DotI16x8S,
      ...i32x4Add,
      ...set(4),
      ...addConst(0, 16),
      ...addConst(1, 16),
    ]),
    ...get(3),
    ...get(4),
    ...i32x4Add,
    ...tee(3),
    ...i32x4Lane(0),
    ...get(3),
    ...i32x4Lane(1),
    op.i32Add,
    ...get(3),
    ...i32x4Lane(2),
    op.i32Add,
    ...get(3),
    ...i32x4Lane(3),
    op.i32Add,
  ],
);

// dotMany(q=0, base=1, stride=2, ids=3, count=4, out=5, n16=6) -> i32, calling function `inner`;
// locals: touched=7, ptr=8, left=9.
// First pass: load the first word of every listed row. Their cache misses then overlap instead of
// being taken one row at a time inside the dot loop, and the rest of each row follows through the
// hardware prefetcher once the row is being read. This stands in for the prefetch instruction wasm
// lacks (hnswlib calls _mm_prefetch on the next neighbour's row). The loaded words are xor-ed
// and returned so the loads are not dead code; callers ignore the value.
const dotMany = (inner: number, convert: boolean): number[] =>
  funcBody(
    [[3, I32]],
    [
      ...get(3),
      ...set(8),
      ...get(4),
      ...set(9),
      ...countedLoop(9, [...get(7), ...get(1), ...get(8), ...load32(), ...get(2), op.i32Mul, op.i32Add, ...load32(), op.i32Xor, ...set(7), ...addConst(8, 4)]),
      ...countedLoop(4, [
        ...get(5),
        ...get(0),
        ...get(1),
        ...get(3),
        ...load32(),
        ...get(2),
        op.i32Mul,
        op.i32Add,
        ...get(6),
        op.call,
        ...uleb(inner),
        ...(convert ? [op.f32ConvertI32S] : []),
        ...storeF32(),
        ...addConst(3, 4),
        ...addConst(5, 4),
      ]),
      ...get(7),
    ],
  );

function assemble(): Uint8Array {
  const types = vec([
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([[F32]])],
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([[I32]])],
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([[I32]])],
    SEARCH_LEVEL0_TYPE,
  ]);
  const imports = vec([[...name('env'), ...name('mem'), 0x02, 0x00, 0x01]]);
  const funcs = vec([[0], [1], [2], [1], [3]]);
  const exports = vec([
    [...name('dot'), 0x00, 0],
    [...name('dotMany'), 0x00, 1],
    [...name('dotI8'), 0x00, 2],
    [...name('dotManyI8'), 0x00, 3],
    [...name('searchLevel0'), 0x00, 4],
  ]);
  const code = vec([dotF32, dotMany(0, false), dotI8, dotMany(2, true), searchLevel0Body(0)]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

export interface KernelExports {
  dot(a: number, b: number, n16: number): number;
  /** Returns the xor of the touched words (see above): meaningless, ignore it. */
  dotMany(q: number, base: number, stride: number, ids: number, count: number, out: number, n16: number): number;
  dotI8(a: number, b: number, n16: number): number;
  dotManyI8(q: number, base: number, stride: number, ids: number, count: number, out: number, n16: number): number;
  /** See search-kernel.ts. */
  searchLevel0(q: number, ep: number, epSim: number, ef: number, filtered: number, epoch: number, ctx: number): number;
}

let compiled: WasmModule | undefined;

/** Instantiates the kernels over `memory` (synchronously: the module is ~2 KB). */
export function instantiateKernels(memory: WasmMemory): KernelExports {
  if (compiled === undefined) {
    const m = compileModule(assemble());
    if (m === null) throw new Error('WebAssembly SIMD is not available in this runtime (Node >= 16.4 on x64/arm64 has it)');
    compiled = m;
  }
  return instantiate<KernelExports>(compiled, memory);
}
