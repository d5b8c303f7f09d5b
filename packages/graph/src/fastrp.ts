import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ValidationError } from '@affinity/contracts';
import { compileFastRPOptions, type CompiledFastRPOptions, type FastRPOptions } from './fastrp-options';
import { stepRows, type KernelState, type WasmLayout } from './internal/fastrp-kernel';
import { alloc, emptyKernelState, projectContent, seedsOf, toShared } from './internal/kernel-setup';
import { WASM_MAX_BYTES, newSharedMemory, wasmStepAvailable } from './internal/wasm-spmm';

/** A weighted graph in CSR form: row u holds u's neighbours `cols[rowPtr[u]..rowPtr[u+1])` with weights `vals`. */
export interface CsrGraph {
  nodeCount: number;
  rowPtr: Uint32Array;
  cols: Int32Array;
  vals: Float32Array;
  /** Stable node keys; node j's row of R is derived from `keys[j]` and the seed. */
  keys: readonly string[] | ((j: number) => string);
}

export interface FastRPResult {
  nodeCount: number;
  dim: number;
  /** E = α₀·R̂ + Σ αᵢ·N̂ᵢ, row-major `nodeCount × dim` (not normalized itself; `allocRows` rows long). */
  embeddings: Float32Array;
  /** N₁..N_k (row-major), kept for incremental updates. */
  iterates: Float32Array[];
  /** Weighted degrees d (row sums of S). */
  degrees: Float64Array;
}

/**
 * Batch FastRP over a CSR graph (see {@link FastRPOptions} for the equations). With
 * `threads > 1` the rows are split into blocks of equal edge count, one worker thread each,
 * all reading and writing SharedArrayBuffers; iterations are separated by a barrier.
 */
export async function fastRP(
  graph: CsrGraph,
  options: FastRPOptions | CompiledFastRPOptions = {},
  /** Rows to allocate in the outputs (≥ nodeCount): headroom for nodes that arrive later. */
  allocRows: number = graph.nodeCount,
): Promise<FastRPResult> {
  const o = isCompiled(options) ? options : compileFastRPOptions(options);
  const n = graph.nodeCount;
  if (graph.rowPtr.length < n + 1) throw new ValidationError(`rowPtr has ${graph.rowPtr.length} entries for ${n} nodes`);
  const keys = graph.keys;
  const keyOf = typeof keys === 'function' ? keys : (j: number) => keys[j]!;
  const threads = Math.min(o.threads, Math.max(1, Math.floor(n / 256)));
  const shared = threads > 1;
  const nnz = graph.rowPtr[n]!;
  const rows = Math.max(n, allocRows);
  const k = o.iterationWeights.length;
  const common = { ...emptyKernelState(o), n, seeds: seedsOf(o, n, keyOf, shared), ...projectContent(o, n, keyOf, shared) };
  const layout = o.kernel === 'wasm' ? wasmLayout(n, nnz, rows, o.dim, k) : undefined;
  let st: KernelState;
  if (layout !== undefined) {
    // One shared memory holds the CSR and every dense block, so the SIMD kernel (and each
    // worker's instance of it) addresses them directly; the typed arrays are views of it.
    const buf = layout.memory.buffer;
    const rowPtr = new Uint32Array(buf, layout.rowPtr, n + 1);
    const cols = new Int32Array(buf, layout.cols, nnz);
    const vals = new Float32Array(buf, layout.vals, nnz);
    rowPtr.set(graph.rowPtr.subarray(0, n + 1));
    cols.set(graph.cols.subarray(0, nnz));
    vals.set(graph.vals.subarray(0, nnz));
    const iterates = layout.iterates.map((off) => new Float32Array(buf, off, rows * o.dim));
    st = {
      ...common,
      rowPtr,
      cols,
      vals,
      deg: new Float64Array(buf, layout.deg, rows),
      x0: new Float32Array(buf, layout.x0, n * o.dim),
      iterates,
      out: new Float32Array(buf, layout.out, rows * o.dim),
      wasm: layout,
    };
  } else {
    const iterates = Array.from(o.iterationWeights, () => alloc(Float32Array, rows * o.dim, shared));
    st = {
      ...common,
      rowPtr: shared ? toShared(graph.rowPtr, Uint32Array, n + 1) : graph.rowPtr,
      cols: shared ? toShared(graph.cols, Int32Array, nnz) : graph.cols,
      vals: shared ? toShared(graph.vals, Float32Array, nnz) : graph.vals,
      deg: alloc(Float64Array, rows, shared),
      // x0 is read by step 1 only and N_k is written by step k ≥ 2: it can borrow N_k's buffer.
      x0: k >= 2 ? iterates[k - 1]!.subarray(0, n * o.dim) : alloc(Float32Array, n * o.dim, shared),
      iterates,
      out: alloc(Float32Array, rows * o.dim, shared),
    };
  }
  for (let u = 0; u < n; u++) {
    let d = 0;
    for (let p = st.rowPtr[u]!, e = st.rowPtr[u + 1]!; p < e; p++) d += st.vals[p]!;
    st.deg[u] = d;
  }
  if (threads === 1) {
    for (let step = 0; step <= k; step++) stepRows(st, step, 0, n);
  } else {
    await runParallel(st, blocks(st.rowPtr, n, threads, Infinity), blocks(st.rowPtr, n, threads, ROW_COST), k);
  }
  return { nodeCount: n, dim: o.dim, embeddings: st.out, iterates: st.iterates, degrees: st.deg };
}

/**
 * Byte offsets of the CSR, degrees, iterates and E in one shared memory (64-byte aligned), or
 * undefined when the SIMD kernel can't run here or the state would pass wasm32's 4 GiB.
 */
function wasmLayout(n: number, nnz: number, rows: number, dim: number, k: number): WasmLayout | undefined {
  if (!wasmStepAvailable(dim)) return undefined;
  let top = 0;
  const take = (bytes: number): number => {
    const at = top;
    top = Math.ceil((top + bytes) / 64) * 64;
    return at;
  };
  const matrix = rows * dim * 4;
  const rowPtr = take((n + 1) * 4);
  const cols = take(nnz * 4);
  const vals = take(nnz * 4);
  const deg = take(rows * 8);
  const iterates = Array.from({ length: k }, () => take(matrix));
  const out = take(matrix);
  // As in the JS path, x0 borrows N_k's buffer when k ≥ 2.
  const x0 = k >= 2 ? iterates[k - 1]! : take(n * dim * 4);
  if (top > WASM_MAX_BYTES) return undefined;
  return { memory: newSharedMemory(top), rowPtr, cols, vals, deg, x0, iterates, out };
}

function isCompiled(o: FastRPOptions | CompiledFastRPOptions): o is CompiledFastRPOptions {
  return o.iterationWeights instanceof Float64Array;
}

/**
 * Row boundaries of `parts` blocks of about equal cost, a row costing `rowCost` edges: the
 * propagation steps cost ~edges plus a few passes over each row; step 0 (rowCost = ∞ in
 * effect) only rows.
 */
function blocks(rowPtr: Uint32Array, n: number, parts: number, rowCost: number): number[] {
  const cost = (row: number): number => (rowCost === Infinity ? row : rowPtr[row]! + rowCost * row);
  const total = cost(n);
  const bounds = [0];
  let row = 0;
  for (let b = 1; b < parts; b++) {
    const target = (total * b) / parts;
    while (row < n && cost(row) < target) row++;
    bounds.push(row);
  }
  bounds.push(n);
  return bounds;
}

/** Cost of a row's own passes (zero/normalize/scale) in edges, for balancing blocks (measured on the bench graph). */
const ROW_COST = 3;

const WORKER_URL = new URL('./internal/fastrp-worker.ts', import.meta.url);

/**
 * Workers are TypeScript like every Affinity process (no build step): a tiny CommonJS
 * bootstrap registers tsx's loader in the worker thread, then imports the worker module.
 * (`execArgv: ['--import', 'tsx']` does not reach worker threads on Node 20.)
 */
function workerBootstrap(): string {
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
}

let pool: Worker[] = [];

/**
 * Worker threads are kept between runs (starting one costs a tsx bootstrap) and unref'd, so
 * an idle pool never keeps the process alive. {@link closeFastRPWorkers} ends them.
 */
function workers(count: number): Worker[] {
  while (pool.length < count) {
    const w = new Worker(workerBootstrap(), { eval: true });
    w.unref();
    w.on('error', () => {
      pool = pool.filter((x) => x !== w);
    });
    pool.push(w);
  }
  return pool.slice(0, count);
}

/** Terminates the batch worker threads (they restart on the next parallel run). */
export async function closeFastRPWorkers(): Promise<void> {
  const ws = pool;
  pool = [];
  await Promise.all(ws.map((w) => w.terminate()));
}

function request(w: Worker, message: unknown): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onMessage = (): void => {
      w.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      w.off('message', onMessage);
      reject(err);
    };
    w.once('message', onMessage);
    w.once('error', onError);
    w.postMessage(message);
  });
}

async function runParallel(st: KernelState, initBounds: number[], stepBounds: number[], k: number): Promise<void> {
  const ws = workers(stepBounds.length - 1);
  // While a run is in flight the pool must keep the process alive.
  for (const w of ws) w.ref();
  try {
    await Promise.all(
      ws.map((w, b) =>
        request(w, {
          type: 'run',
          state: st,
          init: [initBounds[b]!, initBounds[b + 1]!],
          rows: [stepBounds[b]!, stepBounds[b + 1]!],
        }),
      ),
    );
    for (let step = 0; step <= k; step++) await Promise.all(ws.map((w) => request(w, { type: 'step', step, last: step === k })));
  } finally {
    for (const w of ws) w.unref();
  }
}
