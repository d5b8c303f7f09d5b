/**
 * The FastRP propagation step Nᵢ = D⁻¹S·Nᵢ₋₁, fused with the row normalization and the
 * α-weighted sum into E, as a WebAssembly SIMD (128-bit) kernel assembled here from opcodes
 * (no build step, no native addon). V8 does not vectorize JS loops, and the scalar Float32Array
 * loop pays a float64 round trip and a bounds check per element: on the 1.36M-edge bench
 * graph one step took ~2.7 s in JS (measured; about half of it compute) against ~0.3 s here.
 *
 * Export `step(rowPtr, cols, vals, deg, src, dst, out, start, end, rowBytes, alpha)`, all
 * addresses byte offsets into the imported shared memory `env.mem`; rows x ∈ [start, end):
 *   u = Σₚ vals[p]·src[cols[p]]  (p over row x of the CSR; four edges per pass, so four
 *                                  source rows are in flight and dst is stored once per four),
 *   out[x] += α/‖u‖ · u,   dst[x] = u / deg[x]   (0 for an empty row or degree).
 * rowBytes = dim·4 must be a multiple of 16 (dim % 4 = 0); the inner loop is unrolled to
 * `unroll` vectors, so dim must be a multiple of 4·unroll.
 */

import { F32, F64, I32, V128, compileModule, funcBody, instantiate, name, section, simd, sleb, uleb, type WasmMemory, type WasmModule } from '@affinity/wasm-asm';

const op = {
  get: (i: number): number[] => [0x20, ...uleb(i)],
  set: (i: number): number[] => [0x21, ...uleb(i)],
  i32: (v: number): number[] => [0x41, ...sleb(v)],
  f64: (v: number): number[] => [0x44, ...new Uint8Array(new Float64Array([v]).buffer)],
  i32Load: (offset: number): number[] => [0x28, 2, ...uleb(offset)],
  f32Load: (offset: number): number[] => [0x2a, 2, ...uleb(offset)],
  f64Load: (offset: number): number[] => [0x2b, 3, ...uleb(offset)],
  v128Load: (offset: number): number[] => simd(0x00, 4, ...uleb(offset)),
  v128Store: (offset: number): number[] => simd(0x0b, 4, ...uleb(offset)),
  v128Zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  f32x4Splat: simd(0x13),
  i32x4Splat: simd(0x11),
  i32x4LtU: simd(0x3a),
  i32x4ShrU: simd(0xad),
  i32x4Add: simd(0xae),
  i32x4Mul: simd(0xb5),
  v128And: simd(0x4e),
  v128AndNot: simd(0x4f),
  v128Or: simd(0x50),
  v128Xor: simd(0x51),
  i32x4Const: (lanes: readonly number[]): number[] => simd(0x0c, ...new Uint8Array(Int32Array.from(lanes).buffer)),
  i32Eqz: [0x45],
  i32Sub: [0x6b],
  f32Neg: [0x8c],
  f64Abs: [0x99],
  f64x2PromoteLow: simd(0x5f),
  f64x2Add: simd(0xf0),
  f64x2Mul: simd(0xf2),
  f64x2Lane: (lane: number): number[] => simd(0x21, lane),
  f32Const0: [0x43, 0, 0, 0, 0],
  f32Ne: [0x5c],
  f32x4Lane: (lane: number): number[] => simd(0x1f, lane),
  f32x4Add: simd(0xe4),
  f32x4Mul: simd(0xe6),
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  i32GeU: [0x4f],
  i32GtU: [0x4b],
  f64Gt: [0x64],
  f64Add: [0xa0],
  f64Div: [0xa3],
  f64Sqrt: [0x9f],
  f64PromoteF32: [0xbb],
  f32DemoteF64: [0xb6],
  select: [0x1b],
};

/** `block loop (exit when cond) body… br 0 end end`; `exit` must push an i32 (true = leave). */
const whileNot = (exit: number[], body: number[]): number[] => [0x02, 0x40, 0x03, 0x40, ...exit, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b];
const addTo = (local: number, delta: number[]): number[] => [...op.get(local), ...delta, ...op.i32Add, ...op.set(local)];

// Parameters.
const ROWPTR = 0;
const COLS = 1;
const VALS = 2;
const DEG = 3;
const SRC = 4;
const DST = 5;
const OUT = 6;
const START = 7;
const END = 8;
const ROWBYTES = 9;
const ALPHA = 10;
// i32 locals.
const X = 11;
const P = 12;
const E = 13;
const DROW = 14;
const C = 15;
const S = [16, 17, 18, 19] as const;
const OROW = 20;
// v128 locals.
const W = [21, 22, 23, 24] as const;
const ACC = 25;
const SQV = 26;
const A1 = 27;
const A2 = 28;
const I1 = 29;
const I2 = 30;
// f64 locals.
const NORM = 31;
const D = 32;
const T = 33;

/** Pops an f64 f and sets two f32x4 splats whose product is f: √|f| and f/√|f| (0 and 0 for f = 0). */
const split = (value: number[], first: number, second: number): number[] => [
  ...value,
  ...op.set(T),
  ...op.get(T),
  ...op.f64Abs,
  ...op.f64Sqrt,
  ...op.set(NORM),
  ...op.get(NORM),
  ...op.f32DemoteF64,
  ...op.f32x4Splat,
  ...op.set(first),
  ...op.get(T),
  ...op.get(NORM),
  ...op.f64Div,
  ...op.f64(0),
  ...op.get(NORM),
  ...op.f64(0),
  ...op.f64Gt,
  ...op.select,
  ...op.f32DemoteF64,
  ...op.f32x4Splat,
  ...op.set(second),
];

function stepBody(unroll: number): number[] {
  const stride = 16 * unroll;
  /** `for (c = 0; c < rowBytes; c += stride) body(k)` for the `unroll` vectors k of a pass. */
  const overRow = (body: (k: number) => number[]): number[] => [
    ...op.i32(0),
    ...op.set(C),
    ...whileNot([...op.get(C), ...op.get(ROWBYTES), ...op.i32GeU], [...Array.from({ length: unroll }, (_, k) => body(16 * k)).flat(), ...addTo(C, op.i32(stride))]),
  ];
  const at = (base: number): number[] => [...op.get(base), ...op.get(C), ...op.i32Add];
  /** dst[c..] (+)= Σ wᵢ·srcᵢ[c..] over the first `edges` sources; `first` stores instead of adding. */
  const accumulate = (edges: number, first = false) =>
    overRow((off) => [
      ...at(DROW),
      ...(first ? [] : [...at(DROW), ...op.v128Load(off)]),
      ...Array.from({ length: edges }, (_, i) => [
        ...at(S[i]!),
        ...op.v128Load(off),
        ...op.get(W[i]!),
        ...op.f32x4Mul,
        ...(first && i === 0 ? [] : op.f32x4Add),
      ]).flat(),
      ...op.v128Store(off),
    ]);

  const loadEdge = (i: number): number[] => [
    ...op.get(VALS),
    ...op.get(P),
    ...op.i32Add,
    ...op.f32Load(4 * i),
    ...op.f32x4Splat,
    ...op.set(W[i]!),
    ...op.get(SRC),
    ...op.get(COLS),
    ...op.get(P),
    ...op.i32Add,
    ...op.i32Load(4 * i),
    ...op.get(ROWBYTES),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.set(S[i]!),
  ];
  const fourMore = [...op.get(P), ...op.i32(16), ...op.i32Add, ...op.get(E), ...op.i32GtU];
  const fourEdges = (first: boolean): number[] => [...[0, 1, 2, 3].flatMap(loadEdge), ...accumulate(4, first), ...addTo(P, op.i32(16))];
  const rowBody = [
    ...op.get(DST),
    ...op.get(X),
    ...op.get(ROWBYTES),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.set(DROW),
    ...op.get(OUT),
    ...op.get(X),
    ...op.get(ROWBYTES),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.set(OROW),
    ...op.get(ROWPTR),
    ...op.get(X),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.i32Load(0),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.set(P),
    ...op.get(ROWPTR),
    ...op.get(X),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.i32Load(4),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.set(E),
    // The first four edges store (no zeroing pass); rows with fewer start from zeros.
    ...fourMore,
    0x04,
    0x40,
    ...overRow((off) => [...at(DROW), ...op.v128Zero, ...op.v128Store(off)]),
    0x05,
    ...fourEdges(true),
    0x0b,
    // Then four edges per pass while p + 16 ≤ e.
    ...whileNot(fourMore, fourEdges(false)),
    ...whileNot([...op.get(P), ...op.get(E), ...op.i32GeU], [...loadEdge(0), ...accumulate(1), ...addTo(P, op.i32(4))]),
    // ‖u‖² in float64 (exact squares, as the JS kernel): a row of tiny or huge values (stale
    // edges decayed towards float32's limits) must not under- or overflow.
    ...op.v128Zero,
    ...op.set(ACC),
    ...overRow((off) =>
      [off, off + 8].flatMap((o) => [
        ...op.get(ACC),
        ...at(DROW),
        ...op.v128Load(o),
        ...op.f64x2PromoteLow,
        ...op.set(SQV),
        ...op.get(SQV),
        ...op.get(SQV),
        ...op.f64x2Mul,
        ...op.f64x2Add,
        ...op.set(ACC),
      ]),
    ),
    ...op.get(ACC),
    ...op.f64x2Lane(0),
    ...op.get(ACC),
    ...op.f64x2Lane(1),
    ...op.f64Add,
    ...op.set(NORM),
    // a = α/‖u‖ (0 for a zero row), inv = 1/deg (0 for an isolated node), each applied as two
    // float32 factors √|f| and f/√|f|: f itself may lie outside float32's range.
    ...split(
      [...op.get(ALPHA), ...op.f64PromoteF32, ...op.get(NORM), ...op.f64Sqrt, ...op.f64Div, ...op.f64(0), ...op.get(NORM), ...op.f64(0), ...op.f64Gt, ...op.select],
      A1,
      A2,
    ),
    ...op.get(DEG),
    ...op.get(X),
    ...op.i32(3),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.f64Load(0),
    ...op.set(D),
    ...split([...op.f64(1), ...op.get(D), ...op.f64Div, ...op.f64(0), ...op.get(D), ...op.f64(0), ...op.f64Gt, ...op.select], I1, I2),
    // α = 0 (the default α₁) leaves E alone: no pass over its row.
    ...op.get(ALPHA),
    ...op.f32Const0,
    ...op.f32Ne,
    0x04,
    0x40,
    ...overRow((off) => [
      ...at(OROW),
      ...at(OROW),
      ...op.v128Load(off),
      ...at(DROW),
      ...op.v128Load(off),
      ...op.get(A1),
      ...op.f32x4Mul,
      ...op.get(A2),
      ...op.f32x4Mul,
      ...op.f32x4Add,
      ...op.v128Store(off),
    ]),
    0x0b,
    ...overRow((off) => [...at(DROW), ...at(DROW), ...op.v128Load(off), ...op.get(I1), ...op.f32x4Mul, ...op.get(I2), ...op.f32x4Mul, ...op.v128Store(off)]),
    ...addTo(X, op.i32(1)),
  ];
  const code = [...op.get(START), ...op.set(X), ...whileNot([...op.get(X), ...op.get(END), ...op.i32GeU], rowBody)];
  return funcBody(
    [
      [10, I32],
      [10, V128],
      [3, F64],
    ],
    code,
  );
}

const GOLDEN = 0x9e3779b9;

/**
 * fill(addr, groups, seed, first, t, t2, v): writes `groups`×4 float32 at addr, column c
 * (from `first` on) = v, −v or 0 as u = fmix32(seed + (c + 1)·GOLDEN) is < t, < t2 or not:
 * `fillProjectionRow` (random-projection.ts), four columns per vector.
 */
function fillBody(): number[] {
  const [ADDR, GROUPS, SEED, FIRST, T, T2, V] = [0, 1, 2, 3, 4, 5, 6];
  const [HV, H, VP, VN, TV, T2V, POS] = [7, 8, 9, 10, 11, 12, 13];
  const mix = (shift: number): number[] => [...op.get(H), ...op.get(H), ...op.i32(shift), ...op.i32x4ShrU, ...op.v128Xor, ...op.set(H)];
  const mul = (k: number): number[] => [...op.get(H), ...op.i32x4Const([k, k, k, k]), ...op.i32x4Mul, ...op.set(H)];
  const code = [
    ...op.get(SEED),
    ...op.get(FIRST),
    ...op.i32(1),
    ...op.i32Add,
    ...op.i32(GOLDEN | 0),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.i32x4Splat,
    ...op.i32x4Const([0, GOLDEN, 2 * GOLDEN, 3 * GOLDEN]),
    ...op.i32x4Add,
    ...op.set(HV),
    ...op.get(V),
    ...op.f32x4Splat,
    ...op.set(VP),
    ...op.get(V),
    ...op.f32Neg,
    ...op.f32x4Splat,
    ...op.set(VN),
    ...op.get(T),
    ...op.i32x4Splat,
    ...op.set(TV),
    ...op.get(T2),
    ...op.i32x4Splat,
    ...op.set(T2V),
    ...whileNot(
      [...op.get(GROUPS), ...op.i32Eqz],
      [
        ...op.get(HV),
        ...op.set(H),
        ...mix(16),
        ...mul(0x85ebca6b),
        ...mix(13),
        ...mul(0xc2b2ae35),
        ...mix(16),
        ...op.get(H),
        ...op.get(TV),
        ...op.i32x4LtU,
        ...op.set(POS),
        ...op.get(ADDR),
        ...op.get(POS),
        ...op.get(VP),
        ...op.v128And,
        ...op.get(H),
        ...op.get(T2V),
        ...op.i32x4LtU,
        ...op.get(POS),
        ...op.v128AndNot,
        ...op.get(VN),
        ...op.v128And,
        ...op.v128Or,
        ...op.v128Store(0),
        ...op.get(HV),
        ...op.i32x4Const([4 * GOLDEN, 4 * GOLDEN, 4 * GOLDEN, 4 * GOLDEN]),
        ...op.i32x4Add,
        ...op.set(HV),
        ...addTo(ADDR, op.i32(16)),
        ...op.get(GROUPS),
        ...op.i32(1),
        ...op.i32Sub,
        ...op.set(GROUPS),
      ],
    ),
  ];
  return funcBody([[7, V128]], code);
}

function assemble(unroll: number): Uint8Array {
  const stepParams = [...new Array<number>(10).fill(I32), F32];
  const fillParams = [...new Array<number>(6).fill(I32), F32];
  const types = [2, 0x60, ...uleb(stepParams.length), ...stepParams, 0, 0x60, ...uleb(fillParams.length), ...fillParams, 0];
  // Import a shared memory (flags 3: shared, with maximum) of up to 4 GiB.
  const imports = [1, ...name('env'), ...name('mem'), 0x02, 0x03, ...uleb(1), ...uleb(65_536)];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, [2, 0, 1]),
    ...section(7, [2, ...name('step'), 0x00, 0, ...name('fill'), 0x00, 1]),
    ...section(10, [2, ...stepBody(unroll), ...fillBody()]),
  ]);
}

export type StepFn = (
  rowPtr: number,
  cols: number,
  vals: number,
  deg: number,
  src: number,
  dst: number,
  out: number,
  start: number,
  end: number,
  rowBytes: number,
  alpha: number,
) => void;

export type FillFn = (addr: number, groups: number, seed: number, first: number, t: number, t2: number, v: number) => void;

export interface WasmKernels {
  step: StepFn;
  fill: FillFn;
}

export { WASM_MAX_BYTES, WASM_PAGE_BYTES, newSharedMemory } from '@affinity/wasm-asm';

const modules = new Map<number, WasmModule | null>();

/** Vectors per inner-loop pass for a dimension (0: the kernel cannot run it). */
export function unrollFor(dim: number): number {
  return dim % 16 === 0 ? 4 : dim % 8 === 0 ? 2 : dim % 4 === 0 ? 1 : 0;
}

function moduleFor(unroll: number): WasmModule | null {
  let m = modules.get(unroll);
  if (m === undefined) {
    m = compileModule(assemble(unroll));
    modules.set(unroll, m);
  }
  return m;
}

/** True when the kernel can run `dim`-wide rows in this runtime (WebAssembly SIMD and threads). */
export function wasmStepAvailable(dim: number): boolean {
  const u = unrollFor(dim);
  return u > 0 && moduleFor(u) !== null;
}

/** The kernels over `memory` for `dim`-wide rows (see the module comment). */
export function instantiateKernels(memory: WasmMemory, dim: number): WasmKernels {
  const m = moduleFor(unrollFor(dim));
  if (m === null) throw new Error(`the WebAssembly FastRP kernel cannot run dim ${dim} here`);
  return instantiate<WasmKernels>(m, memory);
}
