import { CTX } from './search-kernel';
import { WASM_MAX_PAGES, WASM_PAGE_BYTES, newMemory, type WasmMemory } from '@affinity/wasm-asm';
import { instantiateKernels, type KernelExports } from './wasm-kernels';

/** Ids handed to one `dotMany` call at most (brute force goes through in chunks of this). */
export const CHUNK = 1024;

export type RowKind = 'f32' | 'i8';

/** Byte offsets of the regions after the rows; see {@link RowStore}. */
interface Layout {
  capacity: number;
  links: number;
  state: number;
  tags: number;
  filter: number;
  res: number;
  resCap: number;
  cand: number;
  candCap: number;
  end: number;
}

const align = (n: number, to: number): number => Math.ceil(n / to) * to;

/**
 * Fixed-stride rows of float32 or int8 values in a WebAssembly memory, with a scratch area
 * at the start for the query, an id list and the results of a batched dot product.
 * Rows are zero-padded to a multiple of 16 values so the SIMD kernels need no tail loop.
 *
 * With `linkWords` > 0 (the graph's float rows) the same memory also holds what the wasm
 * layer-0 search reads, so the whole search runs inside one wasm call:
 *
 *   [query | ids | out | ctx | rows… | level-0 lists | state bytes | visited tags (u16) | filter bits | result heap | candidate heap]
 *
 * Every typed-array view here is replaced when the memory grows (a grown wasm memory detaches
 * its old buffer): read them from the store after any call that may grow it.
 */
export class RowStore {
  readonly stride: number;
  readonly rowBytes: number;
  private readonly n16: number;
  private readonly idsOffset: number;
  private readonly outOffset: number;
  private readonly ctxOffset: number;
  private readonly base: number;
  private readonly memory: WasmMemory;
  private readonly k: KernelExports;
  private layout: Layout;
  capacity = 0;
  /**
   * Entries the candidate heap of searchLevel0 starts with; it doubles whenever a search fills
   * it (and stays so). Lowered by tests to exercise that path.
   */
  candidateHeapStart = 1024;
  /** Scratch id list; valid until the next call that grows the store. */
  ids!: Uint32Array;
  /** Results of the last dotMany* call. */
  out!: Float32Array;
  /** Level-0 lists, `linkWords` u32 per slot (graph stores only). */
  links!: Uint32Array;
  /** One state byte per slot (graph stores only). */
  state!: Uint8Array;
  /** Visited tags, one u16 per slot (graph stores only). */
  tags!: Uint16Array;
  private f32!: Float32Array;
  private u32!: Uint32Array;
  private i8!: Int8Array;
  private ctx!: Int32Array;

  constructor(
    readonly kind: RowKind,
    readonly dim: number,
    initialCapacity: number,
    readonly linkWords = 0,
  ) {
    this.stride = Math.ceil(dim / 16) * 16;
    const bytesPer = kind === 'f32' ? 4 : 1;
    this.rowBytes = this.stride * bytesPer;
    this.n16 = this.stride / 16;
    this.idsOffset = align(this.rowBytes, 64);
    this.outOffset = this.idsOffset + CHUNK * 4;
    this.ctxOffset = this.outOffset + CHUNK * 4;
    this.base = align(this.ctxOffset + CTX.bytes, 64);
    this.memory = newMemory(1, WASM_MAX_PAGES);
    this.k = instantiateKernels(this.memory);
    this.layout = this.layoutFor(0, 0, 0);
    this.ensureCapacity(Math.max(1, initialCapacity));
  }

  /** Largest row count a wasm32 memory can hold at this row size. */
  get maxCapacity(): number {
    const perSlot = this.rowBytes + (this.linkWords > 0 ? this.linkWords * 4 + 3.125 : 0);
    // 6 region alignments and 1 MiB of heaps (ef up to 65 536) reserved.
    return Math.floor((WASM_MAX_PAGES * WASM_PAGE_BYTES - this.base - 6 * 64 - (this.linkWords > 0 ? 1 << 20 : 0)) / perSlot);
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  private layoutFor(capacity: number, resCap: number, candCap: number): Layout {
    const graph = this.linkWords > 0;
    const links = align(this.base + capacity * this.rowBytes, 64);
    const state = align(links + (graph ? capacity * this.linkWords * 4 : 0), 64);
    const tags = align(state + (graph ? capacity : 0), 64);
    const filter = align(tags + (graph ? capacity * 2 : 0), 64);
    const res = align(filter + (graph ? Math.ceil(capacity / 32) * 4 : 0), 64);
    const cand = res + resCap * 8;
    return { capacity, links, state, tags, filter, res, resCap, cand, candCap, end: cand + candCap * 8 };
  }

  ensureCapacity(rows: number): void {
    if (rows <= this.capacity) return;
    if (rows > this.maxCapacity) throw new RangeError(`a shard of ${this.dim}-dim ${this.kind} rows holds at most ${this.maxCapacity} vectors (wasm32 4 GiB memory)`);
    const target = Math.min(this.maxCapacity, Math.max(rows, Math.ceil(this.capacity * 1.5)));
    const old = this.layout;
    const next = this.layoutFor(target, old.resCap, old.candCap);
    this.growTo(next.end);
    if (this.linkWords > 0) {
      // Regions only move up; move the later one first so neither overwrites the other.
      const u8 = new Uint8Array(this.memory.buffer);
      u8.copyWithin(next.state, old.state, old.state + old.capacity);
      u8.copyWithin(next.links, old.links, old.links + old.capacity * this.linkWords * 4);
      u8.fill(0, next.links + old.capacity * this.linkWords * 4, next.links + target * this.linkWords * 4);
      u8.fill(0, next.state + old.capacity, next.state + target);
      // Zero tags read as "not visited" in every traversal (epochs start at 1).
      u8.fill(0, next.tags, next.tags + target * 2);
    }
    this.layout = next;
    this.capacity = target;
    this.refreshViews();
  }

  /** Makes room for a search with `ef` results and `cand` candidates (graph stores). */
  private ensureHeaps(resCap: number, candCap: number): void {
    const l = this.layout;
    if (resCap <= l.resCap && candCap <= l.candCap) return;
    const next = this.layoutFor(l.capacity, Math.max(resCap, l.resCap), Math.max(candCap, l.candCap));
    this.growTo(next.end);
    this.layout = next;
    this.refreshViews();
  }

  private growTo(bytes: number): void {
    const havePages = this.memory.buffer.byteLength / WASM_PAGE_BYTES;
    const needPages = Math.ceil(bytes / WASM_PAGE_BYTES);
    if (needPages > havePages) this.memory.grow(needPages - havePages);
  }

  private refreshViews(): void {
    const buf = this.memory.buffer;
    const l = this.layout;
    this.ids = new Uint32Array(buf, this.idsOffset, CHUNK);
    this.out = new Float32Array(buf, this.outOffset, CHUNK);
    this.f32 = new Float32Array(buf);
    this.u32 = new Uint32Array(buf);
    this.i8 = new Int8Array(buf);
    this.ctx = new Int32Array(buf, this.ctxOffset, CTX.bytes / 4);
    if (this.linkWords > 0) {
      this.links = new Uint32Array(buf, l.links, l.capacity * this.linkWords);
      this.state = new Uint8Array(buf, l.state, l.capacity);
      this.tags = new Uint16Array(buf, l.tags, l.capacity);
    }
    const c = this.ctx;
    c[CTX.rowsBase >> 2] = this.base;
    c[CTX.rowBytes >> 2] = this.rowBytes;
    c[CTX.n16 >> 2] = this.n16;
    c[CTX.linksBase >> 2] = l.links;
    c[CTX.linkBytes >> 2] = this.linkWords * 4;
    c[CTX.stateBase >> 2] = l.state;
    c[CTX.tagsBase >> 2] = l.tags;
    c[CTX.filterBase >> 2] = l.filter;
    c[CTX.resBase >> 2] = l.res;
    c[CTX.candBase >> 2] = l.cand;
    c[CTX.candCap >> 2] = l.candCap;
    c[CTX.idsBase >> 2] = this.idsOffset;
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

  /** out[i] = row(slot) · row(ids[i]) for the first `count` scratch ids. */
  rowDotMany(slot: number, count: number): Float32Array {
    const row = this.base + slot * this.rowBytes;
    if (this.kind === 'f32') this.k.dotMany(row, this.base, this.rowBytes, this.idsOffset, count, this.outOffset, this.n16);
    else this.k.dotManyI8(row, this.base, this.rowBytes, this.idsOffset, count, this.outOffset, this.n16);
    return this.out;
  }

  /** Dot product of two stored rows. */
  rowDot(a: number, b: number): number {
    const ra = this.base + a * this.rowBytes;
    const rb = this.base + b * this.rowBytes;
    return this.kind === 'f32' ? this.k.dot(ra, rb, this.n16) : this.k.dotI8(ra, rb, this.n16);
  }

  /**
   * Layer-0 search in wasm (float graph stores) for the query set with setQueryF32, from `ep`
   * with similarity `epSim` (= queryDot(ep)). Slots are admitted when their state byte is 1 and,
   * with `filter`, their bit is set; visited tags are compared with `epoch` (fresh per call).
   * Fills `outSlots`/`outDists` (distance 1 − similarity) best first and returns the count,
   * or returns −1 after growing the candidate heap when it was too small: call again with a
   * fresh epoch.
   */
  searchLevel0(ep: number, epSim: number, ef: number, filter: Uint32Array | null, epoch: number, outSlots: Uint32Array, outDists: Float64Array): number {
    this.ensureHeaps(ef + 1, this.candidateHeapStart);
    if (filter) {
      const words = Math.ceil(this.layout.capacity / 32);
      const at = this.layout.filter >> 2;
      const n = Math.min(words, filter.length);
      this.u32.set(n === filter.length ? filter : filter.subarray(0, n), at);
      this.u32.fill(0, at + n, at + words);
    }
    const n = this.k.searchLevel0(0, ep, epSim, ef, filter ? 1 : 0, epoch, this.ctxOffset);
    if (n < 0) {
      this.ensureHeaps(ef + 1, this.layout.candCap * 2);
      return -1;
    }
    const f32 = this.f32;
    const u32 = this.u32;
    const at = this.layout.res >> 2;
    for (let i = 0; i < n; i++) {
      outDists[i] = 1 - f32[at + 2 * i]!;
      outSlots[i] = u32[at + 2 * i + 1]!;
    }
    return n;
  }

  /** Bytes of rows [from, to) as a view (valid until the store grows). */
  rowBytesView(from: number, to: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, this.base + from * this.rowBytes, (to - from) * this.rowBytes);
  }
}
