import { WASM_MAX_PAGES, WASM_PAGE_BYTES, instantiateKernels, newMemory, type KernelExports, type WasmMemory } from './wasm-kernels';

/** Ids handed to one `dotMany` call at most (brute force goes through in chunks of this). */
export const CHUNK = 1024;

export type RowKind = 'f32' | 'i8';

/**
 * Fixed-stride rows of float32 or int8 values in a WebAssembly memory, with a scratch area
 * at the start for the query, an id list and the results of a batched dot product.
 * Rows are zero-padded to a multiple of 16 values so the SIMD kernels need no tail loop.
 *
 * Layout: [query (rowBytes) | ids (CHUNK u32) | out (CHUNK f32) | row 0 | row 1 | ...]
 */
export class RowStore {
  readonly stride: number;
  readonly rowBytes: number;
  private readonly n16: number;
  private readonly idsOffset: number;
  private readonly outOffset: number;
  private readonly base: number;
  private readonly memory: WasmMemory;
  private readonly k: KernelExports;
  capacity = 0;
  /** Scratch id list; valid until the next call that grows the store. */
  ids!: Uint32Array;
  /** Results of the last dotMany* call. */
  out!: Float32Array;
  private f32!: Float32Array;
  private i8!: Int8Array;

  constructor(
    readonly kind: RowKind,
    readonly dim: number,
    initialCapacity: number,
  ) {
    this.stride = Math.ceil(dim / 16) * 16;
    const bytesPer = kind === 'f32' ? 4 : 1;
    this.rowBytes = this.stride * bytesPer;
    this.n16 = this.stride / 16;
    this.idsOffset = align(this.rowBytes, 64);
    this.outOffset = this.idsOffset + CHUNK * 4;
    this.base = align(this.outOffset + CHUNK * 4, 64);
    this.memory = newMemory(1, WASM_MAX_PAGES);
    this.k = instantiateKernels(this.memory);
    this.ensureCapacity(Math.max(1, initialCapacity));
  }

  /** Largest row count a wasm32 memory can hold at this row size. */
  get maxCapacity(): number {
    return Math.floor((WASM_MAX_PAGES * WASM_PAGE_BYTES - this.base) / this.rowBytes);
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  ensureCapacity(rows: number): void {
    if (rows <= this.capacity) return;
    if (rows > this.maxCapacity) throw new RangeError(`a shard of ${this.dim}-dim ${this.kind} rows holds at most ${this.maxCapacity} vectors (wasm32 4 GiB memory)`);
    const target = Math.min(this.maxCapacity, Math.max(rows, Math.ceil(this.capacity * 1.5)));
    const needBytes = this.base + target * this.rowBytes;
    const havePages = this.memory.buffer.byteLength / WASM_PAGE_BYTES;
    const needPages = Math.ceil(needBytes / WASM_PAGE_BYTES);
    if (needPages > havePages) this.memory.grow(needPages - havePages);
    this.capacity = Math.floor((this.memory.buffer.byteLength - this.base) / this.rowBytes);
    this.refreshViews();
  }

  private refreshViews(): void {
    const buf = this.memory.buffer;
    this.ids = new Uint32Array(buf, this.idsOffset, CHUNK);
    this.out = new Float32Array(buf, this.outOffset, CHUNK);
    this.f32 = new Float32Array(buf);
    this.i8 = new Int8Array(buf);
  }

  writeF32(slot: number, v: Float32Array): void {
    const at = (this.base + slot * this.rowBytes) >> 2;
    this.f32.set(v, at);
    this.f32.fill(0, at + v.length, at + this.stride);
  }

  writeI8(slot: number, q: Int8Array): void {
    const at = this.base + slot * this.rowBytes;
    this.i8.set(q, at);
    this.i8.fill(0, at + q.length, at + this.stride);
  }

  /** A copy of the first `dim` values of a float row. */
  readF32(slot: number): Float32Array {
    const at = (this.base + slot * this.rowBytes) >> 2;
    return this.f32.slice(at, at + this.dim);
  }

  /** A live view of a float row (invalid after the store grows). */
  viewF32(slot: number): Float32Array {
    const at = (this.base + slot * this.rowBytes) >> 2;
    return this.f32.subarray(at, at + this.dim);
  }

  setQueryF32(v: Float32Array): void {
    this.f32.set(v, 0);
    this.f32.fill(0, v.length, this.stride);
  }

  setQueryI8(q: Int8Array): void {
    this.i8.set(q, 0);
    this.i8.fill(0, q.length, this.stride);
  }

  /** Dot product of the query with one row. */
  queryDot(slot: number): number {
    const row = this.base + slot * this.rowBytes;
    return this.kind === 'f32' ? this.k.dot(0, row, this.n16) : this.k.dotI8(0, row, this.n16);
  }

  /** out[i] = query · row(ids[i]) for the first `count` scratch ids. */
  queryDotMany(count: number): Float32Array {
    if (this.kind === 'f32') this.k.dotMany(0, this.base, this.rowBytes, this.idsOffset, count, this.outOffset, this.n16);
    else this.k.dotManyI8(0, this.base, this.rowBytes, this.idsOffset, count, this.outOffset, this.n16);
    return this.out;
  }

  /** Dot product of two stored rows. */
  rowDot(a: number, b: number): number {
    const ra = this.base + a * this.rowBytes;
    const rb = this.base + b * this.rowBytes;
    return this.kind === 'f32' ? this.k.dot(ra, rb, this.n16) : this.k.dotI8(ra, rb, this.n16);
  }

  /** Bytes of rows [from, to) as a view (valid until the store grows). */
  rowBytesView(from: number, to: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, this.base + from * this.rowBytes, (to - from) * this.rowBytes);
  }
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
