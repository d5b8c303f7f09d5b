import { ValidationError } from '@affinity/contracts';
import { z } from 'zod';
import { AttributeIndex, type AttributeState } from './internal/attribute-index';
import { Bitset } from './internal/bitset';
import { HnswGraph, LIVE, type GraphState } from './internal/hnsw-graph';
import { bytesOf, readSnapshotFile, readSnapshotHeaderRaw, writeSnapshotFile, type RowWindow } from './internal/snapshot-io';
import { SnapshotError } from './snapshot-error';
import type { ItemAttributes, OperationTiming, SearchHit, SearchOptions, SearchStrategy, SnapshotInfo, SnapshotMeta, VectorShardStats } from './types';
import { compileVectorShardOptions, type CompiledVectorShardOptions, type VectorShardOptions } from './vector-shard-options';

const SnapshotMetaSchema = z.looseObject({
  offset: z.string().regex(/^-?\d{1,19}$/, 'a Kafka offset as a decimal string'),
  partition: z.number().int().nonnegative(),
  modelId: z.string().min(1).max(128),
  dim: z.number().int().positive(),
});

interface ShardHeader {
  format: 'affinity.vector-shard';
  endianness: 'le';
  createdAt: number;
  meta: SnapshotMeta;
  options: CompiledVectorShardOptions;
  graph: { slotsUsed: number; entry: number; maxLevel: number; rngState: number; quantReady: boolean; rowBytes: number };
  size: number;
}

/** What {@link VectorShard.readSnapshotHeader} returns without loading the vectors. */
export interface SnapshotHeader {
  createdAt: number;
  meta: SnapshotMeta;
  options: CompiledVectorShardOptions;
  size: number;
  bytes: number;
}

/**
 * One shard of product vectors: cosine kNN over an HNSW graph with attribute filters,
 * deletes that take effect at once, slot reuse, optional int8 traversal, and atomic
 * checksummed snapshots that record the Kafka offset they reflect.
 *
 * All methods but snapshot/restore are synchronous; a call's effect is visible to the next
 * call (a deleted or replaced vector is never returned after delete/upsert returns).
 */
export class VectorShard {
  readonly options: CompiledVectorShardOptions;
  readonly dim: number;
  private readonly graph: HnswGraph;
  private readonly attrs = new AttributeIndex();
  private readonly idToSlot = new Map<string, number>();
  private slotIds: (string | undefined)[] = [];
  private idBytes = 0;
  private readonly qbuf: Float32Array;
  private outSlots = new Uint32Array(64);
  private outDists = new Float64Array(64);
  private readonly counters = {
    inserts: 0,
    attributeUpdates: 0,
    replacements: 0,
    deletes: 0,
    consolidations: 0,
    slotsReclaimed: 0,
    lastConsolidationMs: 0,
    searches: { graph: 0, filteredGraph: 0, exact: 0, empty: 0 },
  };
  private lastSnapshot: SnapshotInfo | null = null;
  private readonly latency = { upsert: timing(), delete: timing(), search: timing() };
  private lastMutationAt: number | null = null;

  constructor(options: VectorShardOptions) {
    this.options = compileVectorShardOptions(options);
    this.dim = this.options.dim;
    this.graph = new HnswGraph({
      dim: this.dim,
      M: this.options.M,
      efConstruction: this.options.efConstruction,
      seed: this.options.seed,
      initialCapacity: this.options.initialCapacity,
      quantization: this.options.quantization === 'int8' ? { scale: this.options.int8Scale, calibrationSize: this.options.calibrationSize } : null,
    });
    this.attrs.ensureCapacity(this.graph.capacity);
    this.qbuf = new Float32Array(this.dim);
  }

  /** Live vectors. */
  get size(): number {
    return this.graph.liveCount;
  }

  has(id: string): boolean {
    return this.idToSlot.has(id);
  }

  /** The stored (unit-length) vector of `id`, as a copy. */
  getVector(id: string): Float32Array | undefined {
    const slot = this.idToSlot.get(id);
    return slot === undefined ? undefined : this.graph.vectors.readF32(slot);
  }

  /**
   * Inserts `id` or replaces its vector and attributes. The vector is stored normalized
   * (cosine); a zero, non-finite or wrong-length vector is a ValidationError.
   */
  upsert(id: string, vector: Float32Array, attributes: ItemAttributes = {}): void {
    const t0 = performance.now();
    this.upsertInner(id, vector, attributes);
    record(this.latency.upsert, t0);
    this.lastMutationAt = Date.now();
  }

  private upsertInner(id: string, vector: Float32Array, attributes: ItemAttributes): void {
    if (typeof id !== 'string' || id.length === 0) throw new ValidationError('id must be a non-empty string', [{ path: 'id', message: 'empty' }]);
    const v = this.normalized(vector, 'vector');
    const existing = this.idToSlot.get(id);
    if (existing !== undefined) {
      if (equalRows(this.graph.vectors.viewF32(existing), v)) {
        this.attrs.clear(existing);
        this.attrs.set(existing, attributes);
        this.counters.attributeUpdates++;
        return;
      }
      this.removeSlot(existing);
      this.idToSlot.delete(id);
      this.counters.replacements++;
    } else this.counters.inserts++;
    const slot = this.graph.allocSlot();
    this.attrs.ensureCapacity(this.graph.capacity);
    if (this.slotIds.length < this.graph.capacity) this.slotIds.length = this.graph.capacity;
    this.graph.insert(slot, v);
    this.attrs.set(slot, attributes);
    this.slotIds[slot] = id;
    this.idToSlot.set(id, slot);
    this.idBytes += 2 * id.length;
    this.maybeConsolidate();
  }

  /** Removes `id`; returns false when it was not present. */
  delete(id: string): boolean {
    const slot = this.idToSlot.get(id);
    if (slot === undefined) return false;
    const t0 = performance.now();
    this.removeSlot(slot);
    this.idToSlot.delete(id);
    this.counters.deletes++;
    this.maybeConsolidate();
    record(this.latency.delete, t0);
    this.lastMutationAt = Date.now();
    return true;
  }

  /**
   * The k nearest live vectors by cosine similarity, best first, among those matching
   * `options.filter`. Filtered queries are planned from the exact match count: an exact scan
   * of the matches when it is cheaper than a filtered graph search, else a graph search that
   * traverses every node but admits only matches, with ef widened as the share of matches falls.
   */
  search(query: Float32Array, k: number, options: SearchOptions = {}): SearchHit[] {
    const t0 = performance.now();
    const hits = this.searchInner(query, k, options);
    record(this.latency.search, t0);
    return hits;
  }

  private searchInner(query: Float32Array, k: number, options: SearchOptions): SearchHit[] {
    if (!Number.isInteger(k) || k < 1) throw new ValidationError(`k must be a positive integer, got ${String(k)}`, [{ path: 'k', message: 'not a positive integer' }]);
    const q = this.normalized(query, 'query', this.qbuf);
    const ef = Math.max(k, options.ef ?? this.options.ef);
    const strategy: SearchStrategy = options.strategy ?? 'auto';
    const live = this.graph.liveCount;
    if (live === 0) {
      this.counters.searches.empty++;
      return [];
    }
    this.ensureOut(Math.max(k, ef));
    const match = options.filter ? this.attrs.match(options.filter) : null;
    let n: number;
    if (match === null) {
      if (strategy === 'exact' || (strategy === 'auto' && live <= ef * this.graph.M0)) {
        const slots = this.graph.liveSlots();
        n = this.graph.exact(q, k, slots, slots.length, this.outSlots, this.outDists);
        this.counters.searches.exact++;
      } else {
        n = this.graph.search(q, k, ef, null, this.outSlots, this.outDists);
        this.counters.searches.graph++;
      }
    } else if (match.count === 0) {
      this.counters.searches.empty++;
      return [];
    } else {
      const plan = this.plan(match.count, live, ef);
      if (strategy === 'exact' || (strategy === 'auto' && plan.exact)) {
        const list = match.list ?? match.bits!.toArray(match.count);
        n = this.graph.exact(q, k, list, list.length, this.outSlots, this.outDists);
        this.counters.searches.exact++;
      } else {
        const bits = match.bits ?? bitsetOf(match.list!, this.graph.capacity);
        const efFiltered = Math.max(k, plan.ef);
        this.ensureOut(efFiltered);
        n = this.graph.search(q, k, efFiltered, bits, this.outSlots, this.outDists);
        this.counters.searches.filteredGraph++;
      }
    }
    const hits: SearchHit[] = new Array<SearchHit>(n);
    for (let i = 0; i < n; i++) hits[i] = { id: this.slotIds[this.outSlots[i]!]!, score: 1 - this.outDists[i]! };
    return hits;
  }

  /**
   * The plan for a filtered query with `matches` of `live` items admitted.
   *
   * The filtered graph search keeps going until ef' matches are admitted, so it explores about
   * ef'/s nodes (s = selectivity) and its work grows by itself as s falls; what falls with s is
   * the recall at a fixed ef', slowly (measured on 20k 384-d vectors: ef'=32 gives 0.986 at
   * s=0.5 and 0.977 at s=0.05). Hence ef' = ef·(0.5 + 0.25·log10(1/s)): 0.57·ef at 50%,
   * 0.75·ef at 10%, ef at 1%. Its cost is ~ef'/s expansions of 2·M links; the exact scan
   * costs one distance per match, and wins below that.
   */
  plan(matches: number, live: number, ef = this.options.ef): { exact: boolean; ef: number; graphCost: number } {
    const selectivity = Math.min(1, Math.max(1, matches) / Math.max(1, live));
    const widened = Math.min(this.options.maxFilteredEf, Math.ceil(ef * (0.5 + 0.25 * Math.log10(1 / selectivity))));
    const graphCost = (widened * this.graph.M0) / selectivity;
    return { exact: matches <= graphCost, ef: widened, graphCost };
  }

  /** Unlinks tombstones and frees their slots now (also runs by itself past consolidateRatio). */
  compact(): number {
    const t0 = performance.now();
    const freed = this.graph.consolidate();
    this.counters.consolidations++;
    this.counters.slotsReclaimed += freed;
    this.counters.lastConsolidationMs = performance.now() - t0;
    return freed;
  }

  /** Estimate of the bytes this shard holds (vectors, graph, attribute postings, ids). */
  memoryBytes(): number {
    return this.graph.memoryBytes() + this.attrs.memoryBytes() + this.idBytes + this.idToSlot.size * 64 + this.slotIds.length * 8;
  }

  stats(): VectorShardStats {
    const g = this.graph;
    return {
      size: g.liveCount,
      capacity: g.capacity,
      slotsUsed: g.slotsUsed,
      tombstones: g.deletedCount,
      freeSlots: g.freeList.length,
      maxLevel: g.maxLevel,
      memoryBytes: this.memoryBytes(),
      quantized: g.quantReady,
      inserts: this.counters.inserts,
      attributeUpdates: this.counters.attributeUpdates,
      replacements: this.counters.replacements,
      deletes: this.counters.deletes,
      consolidations: this.counters.consolidations,
      slotsReclaimed: this.counters.slotsReclaimed,
      lastConsolidationMs: this.counters.lastConsolidationMs,
      searches: { ...this.counters.searches },
      latency: { upsert: { ...this.latency.upsert }, delete: { ...this.latency.delete }, search: { ...this.latency.search } },
      lastMutationAt: this.lastMutationAt,
      lastSnapshot: this.lastSnapshot,
    };
  }

  /**
   * Writes the shard to `path` atomically (temp file, fsync, rename, directory fsync) with a
   * sha256 trailer. The state written is the state when this is called: later upserts and
   * deletes may run while the file is written (freed slots are not reused until it is done).
   * Extra memory: a copy of the graph links and attributes; the vectors stream from place.
   */
  async snapshot(path: string, meta: SnapshotMeta): Promise<SnapshotInfo> {
    const parsed = SnapshotMetaSchema.safeParse(meta);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ValidationError(`snapshot meta ${issue.path.join('.')}: ${issue.message}`, [{ path: issue.path.join('.'), message: issue.message }]);
    }
    if (meta.dim !== this.dim) throw new ValidationError(`snapshot meta dim ${meta.dim} does not match the shard's dim ${this.dim}`, [{ path: 'dim', message: 'mismatch' }]);
    const createdAt = Date.now();
    const g = this.graph.exportState();
    const a = this.attrs.exportState(g.slotsUsed);
    const ids = Buffer.from(JSON.stringify(this.slotIds.slice(0, g.slotsUsed).map((x) => x ?? null)), 'utf8');
    const header: Omit<ShardHeader, 'format'> & { format: 'affinity.vector-shard' } = {
      format: 'affinity.vector-shard',
      endianness: 'le',
      createdAt,
      meta: { ...meta },
      options: this.options,
      graph: { slotsUsed: g.slotsUsed, entry: g.entry, maxLevel: g.maxLevel, rngState: g.rngState, quantReady: g.quantReady, rowBytes: this.graph.vectors.rowBytes },
      size: this.graph.liveCount,
    };
    const store = this.graph.vectors;
    const rows: RowWindow = {
      bytes: g.slotsUsed * store.rowBytes,
      view: (from, to) => store.rowBytesView(0, g.slotsUsed).subarray(from, to),
    };
    this.graph.reuseHold++;
    try {
      const { bytes, sha256 } = await writeSnapshotFile(path, header as unknown as Record<string, unknown> & { format: 'affinity.vector-shard' }, [
        ['vectors', rows],
        ['level0', bytesOf(g.level0)],
        ['levels', g.levels],
        ['state', g.state],
        ['upper', bytesOf(g.upper)],
        ['freeList', bytesOf(g.freeList)],
        ['scales', g.scales ? bytesOf(g.scales) : new Uint8Array(0)],
        ['ids', ids],
        ['terms', Buffer.from(JSON.stringify(a.terms), 'utf8')],
        ['termOffsets', bytesOf(a.offsets)],
        ['termIds', bytesOf(a.termIds)],
        ['prices', bytesOf(a.prices)],
      ]);
      this.lastSnapshot = { path, bytes, sha256, createdAt, meta: { ...meta }, size: header.size };
      return this.lastSnapshot;
    } finally {
      this.graph.reuseHold--;
    }
  }

  /** Reads a snapshot's header (meta, options, size) without loading or verifying the body. */
  static async readSnapshotHeader(path: string): Promise<SnapshotHeader> {
    const { header, fileBytes } = await readSnapshotHeaderRaw(path);
    const h = header as unknown as ShardHeader;
    return { createdAt: h.createdAt, meta: h.meta, options: h.options, size: h.size, bytes: fileBytes };
  }

  /**
   * Loads a snapshot written by {@link snapshot}, verifying its checksum first. The restored
   * shard answers every query exactly as the original did when the snapshot was taken;
   * `stats().lastSnapshot.meta.offset` says where to resume consuming.
   */
  static async restore(path: string): Promise<VectorShard> {
    let shard: VectorShard | undefined;
    const { header: raw, sections, sha256, bytes } = await readSnapshotFile(path, (hdr) => {
      const h = hdr as unknown as ShardHeader;
      if (h.endianness !== 'le') throw new SnapshotError(`${path}: unsupported endianness ${String(h.endianness)}`);
      try {
        shard = new VectorShard({ ...h.options, initialCapacity: Math.max(1, h.graph.slotsUsed) });
      } catch (err) {
        throw new SnapshotError(`${path}: options in the header are not usable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      const store = shard.graph.vectors;
      if (store.rowBytes !== h.graph.rowBytes) throw new SnapshotError(`${path}: row size ${h.graph.rowBytes} differs from ${store.rowBytes}`);
      return { section: 'vectors', window: { bytes: h.graph.slotsUsed * store.rowBytes, view: (from, to) => store.rowBytesView(0, h.graph.slotsUsed).subarray(from, to) } };
    });
    const h = raw as unknown as ShardHeader;
    const s = shard!;
    const need = (name: string): Uint8Array => {
      const b = sections.get(name);
      if (!b) throw new SnapshotError(`${path}: section ${name} is missing`);
      return b;
    };
    const n = h.graph.slotsUsed;
    const u32 = (name: string, len?: number): Uint32Array => {
      const b = need(name);
      if (b.byteLength % 4 !== 0 || (len !== undefined && b.byteLength !== len * 4)) throw new SnapshotError(`${path}: section ${name} has ${b.byteLength} bytes`);
      return new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    };
    const scalesBytes = need('scales');
    const graphState: GraphState = {
      slotsUsed: n,
      entry: h.graph.entry,
      maxLevel: h.graph.maxLevel,
      rngState: h.graph.rngState,
      quantReady: h.graph.quantReady,
      level0: u32('level0', n * (2 * h.options.M + 1)),
      levels: need('levels'),
      state: need('state'),
      upper: u32('upper'),
      freeList: u32('freeList'),
      scales: scalesBytes.byteLength > 0 ? new Float32Array(scalesBytes.buffer, scalesBytes.byteOffset, scalesBytes.byteLength / 4) : null,
    };
    if (graphState.levels.byteLength !== n || graphState.state.byteLength !== n) throw new SnapshotError(`${path}: levels/state sections do not hold ${n} slots`);
    s.graph.importState(graphState);
    const prices = need('prices');
    const attrState: AttributeState = {
      terms: JSON.parse(Buffer.from(need('terms')).toString('utf8')) as (string | null)[],
      offsets: u32('termOffsets', n + 1),
      termIds: u32('termIds'),
      prices: new Float64Array(prices.buffer, prices.byteOffset, prices.byteLength / 8),
    };
    s.attrs.importState(attrState, n);
    const ids = JSON.parse(Buffer.from(need('ids')).toString('utf8')) as (string | null)[];
    if (ids.length !== n) throw new SnapshotError(`${path}: ${ids.length} ids for ${n} slots`);
    s.slotIds = new Array<string | undefined>(s.graph.capacity);
    for (let slot = 0; slot < n; slot++) {
      const id = ids[slot];
      if (id === null || id === undefined) continue;
      if (s.graph.state[slot] !== LIVE) throw new SnapshotError(`${path}: slot ${slot} has an id but is not live`);
      s.slotIds[slot] = id;
      s.idToSlot.set(id, slot);
      s.idBytes += 2 * id.length;
    }
    if (s.idToSlot.size !== s.graph.liveCount) throw new SnapshotError(`${path}: ${s.idToSlot.size} ids for ${s.graph.liveCount} live slots`);
    s.lastSnapshot = { path, bytes, sha256, createdAt: h.createdAt, meta: h.meta, size: h.size };
    return s;
  }

  private removeSlot(slot: number): void {
    this.graph.markDeleted(slot);
    this.attrs.clear(slot);
    const id = this.slotIds[slot];
    if (id !== undefined) this.idBytes -= 2 * id.length;
    this.slotIds[slot] = undefined;
  }

  private maybeConsolidate(): void {
    const g = this.graph;
    if (g.deletedCount >= this.options.consolidateMinTombstones && g.deletedCount > this.options.consolidateRatio * g.liveCount) this.compact();
  }

  private normalized(v: Float32Array, what: string, into?: Float32Array): Float32Array {
    if (!(v instanceof Float32Array)) throw new ValidationError(`${what} must be a Float32Array`, [{ path: what, message: 'not a Float32Array' }]);
    if (v.length !== this.dim) throw new ValidationError(`${what} has ${v.length} values, the shard has dim ${this.dim}`, [{ path: what, message: 'wrong length' }]);
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
    if (!Number.isFinite(norm) || norm === 0) throw new ValidationError(`${what} must be finite and non-zero`, [{ path: what, message: 'zero or not finite' }]);
    const out = into ?? new Float32Array(this.dim);
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv;
    return out;
  }

  private ensureOut(n: number): void {
    if (this.outSlots.length >= n) return;
    this.outSlots = new Uint32Array(n);
    this.outDists = new Float64Array(n);
  }
}

function timing(): OperationTiming {
  return { count: 0, totalMs: 0, maxMs: 0 };
}

function record(t: OperationTiming, start: number): void {
  const ms = performance.now() - start;
  t.count++;
  t.totalMs += ms;
  if (ms > t.maxMs) t.maxMs = ms;
}

function equalRows(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function bitsetOf(list: Uint32Array, size: number): Bitset {
  const bits = new Bitset(size);
  for (const s of list) bits.add(s);
  return bits;
}
