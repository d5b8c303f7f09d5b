import type { Bitset } from './bitset';
import { PairHeap } from './heap';
import { Int8Quantizer, type Int8Scale } from './int8-quantizer';
import { Rng } from './rng';
import { CHUNK, RowStore } from './row-store';
import { VisitedSet } from './visited-set';

/** Slot states. A DELETED slot is a tombstone: still traversed, never returned, freed by consolidate(). */
export const FREE = 0;
export const LIVE = 1;
export const DELETED = 2;

export interface GraphParams {
  dim: number;
  M: number;
  efConstruction: number;
  seed: number;
  initialCapacity: number;
  quantization: { scale: Int8Scale; calibrationSize: number } | null;
}

/** Everything a snapshot needs to rebuild the graph bit for bit. */
export interface GraphState {
  slotsUsed: number;
  entry: number;
  maxLevel: number;
  rngState: number;
  quantReady: boolean;
  level0: Uint32Array;
  levels: Uint8Array;
  state: Uint8Array;
  /** Concatenated upper-layer lists of every slot with level > 0, in slot order. */
  upper: Uint32Array;
  freeList: Uint32Array;
  scales: Float32Array | null;
}

/**
 * HNSW over unit vectors with cosine distance 1 − x·y (Malkov & Yashunin, "Efficient and robust
 * approximate nearest neighbor search using Hierarchical Navigable Small World graphs", TPAMI 2018):
 * layer 0 keeps 2·M links per node, upper layers M, neighbours chosen by the paper's heuristic
 * (Algorithm 4). Search may admit only the slots of a filter bitset while traversing every node,
 * so filtered queries follow the full graph instead of a graph cut down to the matches.
 *
 * Deletes are tombstones until consolidate(): every live node that links to a tombstone gets
 * its list refilled from the tombstone's own neighbours (the idea of FreshDiskANN's delete
 * consolidation, Singh et al. 2021), then the tombstones' slots go to the free list.
 */
export class HnswGraph {
  readonly M: number;
  readonly M0: number;
  readonly efConstruction: number;
  private readonly stride0: number;
  private readonly mL: number;
  readonly vectors: RowStore;
  readonly quant: Int8Quantizer | null;
  private readonly calibrationSize: number;
  quantReady = false;

  capacity = 0;
  levels = new Uint8Array(0);
  upper: (Uint32Array | undefined)[] = [];
  entry = -1;
  maxLevel = -1;
  /** High-water mark: slots [0, slotsUsed) have been used at least once. */
  slotsUsed = 0;
  freeList: number[] = [];
  liveCount = 0;
  deletedCount = 0;
  /** While > 0, freed slots are not reused, so rows a snapshot is streaming stay unchanged. */
  reuseHold = 0;
  /**
   * Float layer-0 searches run in wasm (RowStore.searchLevel0); false runs the same search in
   * JS (searchLayer). Both give identical results; the tests compare them.
   */
  wasmLevel0 = true;

  private readonly rng: Rng;
  private readonly visited: VisitedSet;
  private readonly cand = new PairHeap(256);
  /** Max-heap of results as a min-heap of negated distances. */
  private readonly res = new PairHeap(256);
  private tmpIds = new Uint32Array(256);
  private tmpDists = new Float64Array(256);
  private readonly selIds: Uint32Array;
  private greedySlot = 0;
  private greedyDist = 0;

  constructor(p: GraphParams) {
    this.M = p.M;
    this.M0 = 2 * p.M;
    this.efConstruction = p.efConstruction;
    this.stride0 = this.M0 + 1;
    this.mL = 1 / Math.log(p.M);
    this.rng = new Rng(p.seed);
    // The float store also holds the level-0 lists, slot states and visited tags, so the
    // layer-0 search runs as one wasm call (RowStore.searchLevel0).
    this.vectors = new RowStore('f32', p.dim, p.initialCapacity, this.stride0);
    this.quant = p.quantization ? new Int8Quantizer(p.dim, p.quantization.scale, p.initialCapacity) : null;
    this.calibrationSize = p.quantization?.calibrationSize ?? 0;
    this.visited = new VisitedSet(this.vectors);
    this.selIds = new Uint32Array(this.M0 + 1);
    this.ensureCapacity(p.initialCapacity);
  }

  get rngState(): number {
    return this.rng.state;
  }

  /** Layer-0 lists, `[count, ids…]` per slot (a view: re-read after the store grows). */
  get level0(): Uint32Array {
    return this.vectors.links;
  }

  /** Slot states FREE/LIVE/DELETED (a view: re-read after the store grows). */
  get state(): Uint8Array {
    return this.vectors.state;
  }

  ensureCapacity(n: number): void {
    if (n <= this.capacity) return;
    this.vectors.ensureCapacity(n);
    this.quant?.store.ensureCapacity(n);
    const cap = this.quant ? Math.min(this.vectors.capacity, this.quant.store.capacity) : this.vectors.capacity;
    const levels = new Uint8Array(cap);
    levels.set(this.levels);
    this.levels = levels;
    this.upper.length = cap;
    this.capacity = cap;
  }

  /** A slot for a new vector: a freed one when allowed, else the next unused one. */
  allocSlot(): number {
    if (this.reuseHold === 0 && this.freeList.length > 0) return this.freeList.pop()!;
    if (this.slotsUsed >= this.capacity) this.ensureCapacity(this.slotsUsed + 1);
    return this.slotsUsed++;
  }

  /** Links a unit vector into the graph at `slot` (from allocSlot()). */
  insert(slot: number, v: Float32Array): void {
    const level = Math.min(32, Math.floor(-Math.log(this.rng.next()) * this.mL));
    this.vectors.writeF32(slot, v);
    this.levels[slot] = level;
    this.state[slot] = LIVE;
    this.level0[slot * this.stride0] = 0;
    this.upper[slot] = level > 0 ? new Uint32Array(level * (this.M + 1)) : undefined;
    this.liveCount++;
    if (this.quant) {
      if (this.quantReady) this.quant.encode(slot, v);
      else if (this.liveCount >= this.calibrationSize) this.calibrateQuantizer();
    }
    if (this.entry < 0 || this.liveCount === 1) {
      this.entry = slot;
      this.maxLevel = level;
      return;
    }
    const store = this.vectors;
    store.setQueryF32(v);
    let cur = this.entry;
    let curDist = 1 - store.queryDot(cur);
    for (let l = this.maxLevel; l > level; l--) {
      this.greedy(cur, curDist, l, store, 1);
      cur = this.greedySlot;
      curDist = this.greedyDist;
    }
    for (let l = Math.min(level, this.maxLevel); l >= 0; l--) {
      let n: number;
      if (l === 0 && this.wasmLevel0) n = this.searchLevel0(cur, curDist, this.efConstruction, null);
      else {
        this.searchLayer(cur, curDist, this.efConstruction, l, null, store, 1);
        n = this.drainSorted();
      }
      if (n === 0) continue;
      cur = this.tmpIds[0]!;
      curDist = this.tmpDists[0]!;
      const m = this.selectHeuristic(n, this.M);
      const [arr, off] = this.list(slot, l);
      arr[off] = m;
      for (let i = 0; i < m; i++) arr[off + 1 + i] = this.selIds[i]!;
      // selIds is reused by addLink; copy the selection first.
      const chosen = this.selIds.slice(0, m);
      for (let i = 0; i < m; i++) this.addLink(chosen[i]!, slot, l);
    }
    if (level > this.maxLevel) {
      this.entry = slot;
      this.maxLevel = level;
    }
  }

  markDeleted(slot: number): void {
    this.state[slot] = DELETED;
    this.liveCount--;
    this.deletedCount++;
  }

  /**
   * Unlinks every tombstone and frees its slot. Returns the number of slots freed.
   * Cost: one pass over all lists plus, for each list that pointed at a tombstone, one
   * distance per replacement candidate.
   */
  consolidate(): number {
    if (this.deletedCount === 0) return 0;
    const state = this.state;
    for (let s = 0; s < this.slotsUsed; s++) {
      if (state[s] !== LIVE) continue;
      for (let l = this.levels[s]!; l >= 0; l--) this.repairList(s, l);
    }
    let freed = 0;
    for (let s = 0; s < this.slotsUsed; s++) {
      if (state[s] !== DELETED) continue;
      state[s] = FREE;
      this.level0[s * this.stride0] = 0;
      this.levels[s] = 0;
      this.upper[s] = undefined;
      this.freeList.push(s);
      freed++;
    }
    this.deletedCount = 0;
    if (this.entry >= 0 && state[this.entry] !== LIVE) {
      this.entry = -1;
      this.maxLevel = -1;
      for (let s = 0; s < this.slotsUsed; s++) {
        if (state[s] === LIVE && this.levels[s]! > this.maxLevel) {
          this.entry = s;
          this.maxLevel = this.levels[s]!;
        }
      }
    }
    return freed;
  }

  /**
   * k nearest admitted slots by graph search with `ef` candidates. `filter` admits only its
   * members (all nodes are still traversed). Writes ascending distances; returns the count.
   */
  search(q: Float32Array, k: number, ef: number, filter: Bitset | null, outSlots: Uint32Array, outDists: Float64Array): number {
    if (this.entry < 0) return 0;
    const quant = this.quantReady ? this.quant : null;
    let store = this.vectors;
    let scale = 1;
    if (quant) {
      quant.setQuery(q);
      store = quant.store;
      scale = quant.queryScale;
    } else store.setQueryF32(q);
    let cur = this.entry;
    let curDist = 1 - scale * store.queryDot(cur);
    for (let l = this.maxLevel; l > 0; l--) {
      this.greedy(cur, curDist, l, store, scale);
      cur = this.greedySlot;
      curDist = this.greedyDist;
    }
    if (!quant && this.wasmLevel0) return this.copyTop(this.searchLevel0(cur, curDist, Math.max(ef, k), filter), k, outSlots, outDists);
    this.searchLayer(cur, curDist, Math.max(ef, k), 0, filter, store, scale);
    const n = this.drainSorted();
    // Re-rank every surviving candidate with exact float distances.
    return this.exact(q, k, this.tmpIds.slice(0, n), n, outSlots, outDists);
  }

  /** Exact k nearest among `slots[0..count)` (all assumed live). */
  exact(q: Float32Array, k: number, slots: Uint32Array, count: number, outSlots: Uint32Array, outDists: Float64Array): number {
    const store = this.vectors;
    store.setQueryF32(q);
    const res = this.res;
    res.clear();
    const ids = store.ids;
    for (let from = 0; from < count; from += CHUNK) {
      const n = Math.min(CHUNK, count - from);
      ids.set(slots.subarray(from, from + n));
      const out = store.queryDotMany(n);
      for (let i = 0; i < n; i++) {
        const d = 1 - out[i]!;
        if (res.size < k) res.push(-d, ids[i]!);
        else if (d < -res.topKey()) {
          res.pop();
          res.push(-d, ids[i]!);
        }
      }
    }
    return this.copyTop(this.drainSorted(), k, outSlots, outDists);
  }

  /** Live slots in increasing order. */
  liveSlots(): Uint32Array {
    const out = new Uint32Array(this.liveCount);
    let n = 0;
    for (let s = 0; s < this.slotsUsed; s++) if (this.state[s] === LIVE) out[n++] = s;
    return out;
  }

  memoryBytes(): number {
    let upper = 0;
    for (let s = 0; s < this.slotsUsed; s++) upper += this.upper[s]?.byteLength ?? 0;
    return (
      this.vectors.byteLength + // rows, level-0 lists, states, visited tags, search heaps
      (this.quant?.store.byteLength ?? 0) +
      this.levels.byteLength +
      this.capacity * 8 + // the `upper` pointer array
      upper +
      this.freeList.length * 8
    );
  }

  exportState(): GraphState {
    const n = this.slotsUsed;
    let upperLen = 0;
    for (let s = 0; s < n; s++) upperLen += this.upper[s]?.length ?? 0;
    const upper = new Uint32Array(upperLen);
    let at = 0;
    for (let s = 0; s < n; s++) {
      const u = this.upper[s];
      if (u) {
        upper.set(u, at);
        at += u.length;
      }
    }
    return {
      slotsUsed: n,
      entry: this.entry,
      maxLevel: this.maxLevel,
      rngState: this.rng.state,
      quantReady: this.quantReady,
      level0: this.level0.slice(0, n * this.stride0),
      levels: this.levels.slice(0, n),
      state: this.state.slice(0, n),
      upper,
      freeList: Uint32Array.from(this.freeList),
      scales: this.quant ? this.quant.scales.slice() : null,
    };
  }

  /** Restores graph structure; vector rows must be loaded into `vectors` separately (before). */
  importState(g: GraphState): void {
    this.ensureCapacity(Math.max(g.slotsUsed, 1));
    this.slotsUsed = g.slotsUsed;
    this.entry = g.entry;
    this.maxLevel = g.maxLevel;
    this.rng.state = g.rngState;
    this.level0.set(g.level0);
    this.levels.set(g.levels);
    this.state.set(g.state);
    let at = 0;
    this.liveCount = 0;
    this.deletedCount = 0;
    for (let s = 0; s < g.slotsUsed; s++) {
      const lv = g.levels[s]!;
      if (g.state[s] === LIVE) this.liveCount++;
      else if (g.state[s] === DELETED) this.deletedCount++;
      if (g.state[s] !== FREE && lv > 0) {
        const len = lv * (this.M + 1);
        this.upper[s] = g.upper.slice(at, at + len);
        at += len;
      }
    }
    if (at !== g.upper.length) throw new Error(`snapshot upper-layer lists hold ${g.upper.length} values, levels imply ${at}`);
    this.freeList = Array.from(g.freeList);
    if (this.quant && g.scales) {
      this.quant.scales.set(g.scales);
      if (g.quantReady) this.encodeAll();
    }
  }

  private calibrateQuantizer(): void {
    const quant = this.quant!;
    const slots = this.liveSlots();
    const store = this.vectors;
    quant.calibrate((function* rows() {
      for (const s of slots) yield store.viewF32(s);
    })());
    this.encodeAll();
  }

  private encodeAll(): void {
    const quant = this.quant!;
    for (let s = 0; s < this.slotsUsed; s++) if (this.state[s] !== FREE) quant.encode(s, this.vectors.viewF32(s));
    this.quantReady = true;
  }

  private list(slot: number, level: number): [Uint32Array, number] {
    if (level === 0) return [this.level0, slot * this.stride0];
    return [this.upper[slot]!, (level - 1) * (this.M + 1)];
  }

  /**
   * searchLayer at layer 0 over float rows, as one wasm call (same visiting order and results
   * as searchLayer; see search-kernel.ts). Results in tmpIds/tmpDists ascending; returns the count.
   */
  private searchLevel0(ep: number, epDist: number, ef: number, filter: Bitset | null): number {
    if (this.tmpIds.length < ef) {
      this.tmpIds = new Uint32Array(ef * 2);
      this.tmpDists = new Float64Array(ef * 2);
    }
    const epSim = 1 - epDist;
    let n: number;
    do n = this.vectors.searchLevel0(ep, epSim, ef, filter?.words ?? null, this.visited.reset(), this.tmpIds, this.tmpDists);
    while (n < 0);
    return n;
  }

  /** Greedy descent on one layer (ef = 1); result in greedySlot/greedyDist. */
  private greedy(start: number, startDist: number, level: number, store: RowStore, scale: number): void {
    let cur = start;
    let curDist = startDist;
    let changed = true;
    while (changed) {
      changed = false;
      const arr = this.upper[cur]!;
      const off = (level - 1) * (this.M + 1);
      const cnt = arr[off]!;
      if (cnt === 0) break;
      const ids = store.ids;
      for (let j = 0; j < cnt; j++) ids[j] = arr[off + 1 + j]!;
      const out = store.queryDotMany(cnt);
      for (let j = 0; j < cnt; j++) {
        const d = 1 - scale * out[j]!;
        if (d < curDist) {
          curDist = d;
          cur = ids[j]!;
          changed = true;
        }
      }
    }
    this.greedySlot = cur;
    this.greedyDist = curDist;
  }

  /**
   * Best-first search of one layer from `ep`; admitted results end in `res`. Until `ef`
   * results are admitted every neighbour is explored, so a selective filter widens the
   * search by itself (as hnswlib does for filtered queries).
   */
  private searchLayer(ep: number, epDist: number, ef: number, level: number, filter: Bitset | null, store: RowStore, scale: number): void {
    const visited = this.visited;
    const cand = this.cand;
    const res = this.res;
    const state = this.state;
    const level0 = this.level0;
    const stride0 = this.stride0;
    const upperOff = (level - 1) * (this.M + 1);
    visited.reset();
    visited.visit(ep);
    cand.clear();
    res.clear();
    cand.push(epDist, ep);
    if (state[ep] === LIVE && (filter === null || filter.has(ep))) res.push(-epDist, ep);
    let bound = res.size >= ef ? epDist : Infinity;
    while (cand.size > 0) {
      const d = cand.topKey();
      if (d > bound) break;
      const c = cand.topValue();
      cand.pop();
      let arr: Uint32Array;
      let off: number;
      if (level === 0) {
        arr = level0;
        off = c * stride0;
      } else {
        arr = this.upper[c]!;
        off = upperOff;
      }
      const cnt = arr[off]!;
      const ids = store.ids;
      let n = 0;
      for (let j = 1; j <= cnt; j++) {
        const nb = arr[off + j]!;
        if (visited.visit(nb)) ids[n++] = nb;
      }
      if (n === 0) continue;
      const out = store.queryDotMany(n);
      for (let j = 0; j < n; j++) {
        const dn = 1 - scale * out[j]!;
        if (dn >= bound) continue;
        const nb = ids[j]!;
        cand.push(dn, nb);
        if (state[nb] === LIVE && (filter === null || filter.has(nb))) {
          res.push(-dn, nb);
          if (res.size > ef) res.pop();
          if (res.size >= ef) bound = -res.topKey();
        }
      }
    }
  }

  /** Empties `res` into tmpIds/tmpDists in ascending distance; returns the count. */
  private drainSorted(): number {
    const res = this.res;
    const n = res.size;
    if (this.tmpIds.length < n) {
      this.tmpIds = new Uint32Array(n * 2);
      this.tmpDists = new Float64Array(n * 2);
    }
    for (let i = n - 1; i >= 0; i--) {
      this.tmpDists[i] = -res.topKey();
      this.tmpIds[i] = res.topValue();
      res.pop();
    }
    return n;
  }

  private copyTop(n: number, k: number, outSlots: Uint32Array, outDists: Float64Array): number {
    const m = Math.min(n, k);
    for (let i = 0; i < m; i++) {
      outSlots[i] = this.tmpIds[i]!;
      outDists[i] = this.tmpDists[i]!;
    }
    return m;
  }

  /**
   * Paper's Algorithm 4 over tmpIds/tmpDists[0..n) (ascending): keep a candidate only if it is
   * closer to the base than to every neighbour kept so far. Result in selIds; returns count.
   */
  private selectHeuristic(n: number, m: number): number {
    const sel = this.selIds;
    const store = this.vectors;
    let count = 0;
    for (let i = 0; i < n && count < m; i++) {
      const e = this.tmpIds[i]!;
      const de = this.tmpDists[i]!;
      let good = true;
      for (let j = 0; j < count; j++) {
        if (1 - store.rowDot(e, sel[j]!) < de) {
          good = false;
          break;
        }
      }
      if (good) sel[count++] = e;
    }
    return count;
  }

  /** Adds `from` to `to`'s list at `level`, re-selecting by the heuristic when it is full. */
  private addLink(to: number, from: number, level: number): void {
    const [arr, off] = this.list(to, level);
    const max = level === 0 ? this.M0 : this.M;
    const cnt = arr[off]!;
    if (cnt < max) {
      arr[off + 1 + cnt] = from;
      arr[off] = cnt + 1;
      return;
    }
    const store = this.vectors;
    const ids = this.tmpIds;
    const dists = this.tmpDists;
    for (let j = 0; j < cnt; j++) {
      const nb = arr[off + 1 + j]!;
      ids[j] = nb;
      dists[j] = 1 - store.rowDot(to, nb);
    }
    ids[cnt] = from;
    dists[cnt] = 1 - store.rowDot(to, from);
    sortPairs(ids, dists, cnt + 1);
    const m = this.selectHeuristic(cnt + 1, max);
    arr[off] = m;
    for (let i = 0; i < m; i++) arr[off + 1 + i] = this.selIds[i]!;
  }

  /**
   * Replaces tombstones in `slot`'s list: live neighbours stay (they were chosen by the
   * heuristic), the free places go to the closest live neighbours of the removed tombstones.
   */
  private repairList(slot: number, level: number): void {
    const [arr, off] = this.list(slot, level);
    const cnt = arr[off]!;
    const state = this.state;
    let hasDeleted = false;
    for (let j = 1; j <= cnt; j++) {
      if (state[arr[off + j]!] !== LIVE) {
        hasDeleted = true;
        break;
      }
    }
    if (!hasDeleted) return;
    const max = level === 0 ? this.M0 : this.M;
    const visited = this.visited;
    visited.reset();
    visited.visit(slot);
    const keep = this.selIds;
    let kept = 0;
    for (let j = 1; j <= cnt; j++) {
      const nb = arr[off + j]!;
      if (state[nb] === LIVE && visited.visit(nb)) keep[kept++] = nb;
    }
    // Candidates: live neighbours of the tombstones (one hop; chains of tombstones are rare).
    let n = 0;
    for (let j = 1; j <= cnt; j++) {
      const d = arr[off + j]!;
      if (state[d] === LIVE) continue;
      const [darr, doff] = this.list(d, level);
      const dcnt = darr[doff]!;
      for (let i = 1; i <= dcnt; i++) {
        const c = darr[doff + i]!;
        if (state[c] !== LIVE || !visited.visit(c)) continue;
        if (n === this.tmpIds.length) this.growTmp();
        this.tmpIds[n++] = c;
      }
    }
    const room = max - kept;
    if (n > room) {
      const store = this.vectors;
      for (let i = 0; i < n; i++) this.tmpDists[i] = 1 - store.rowDot(slot, this.tmpIds[i]!);
      sortPairs(this.tmpIds, this.tmpDists, n);
      n = room;
    }
    arr[off] = kept + n;
    for (let i = 0; i < kept; i++) arr[off + 1 + i] = keep[i]!;
    for (let i = 0; i < n; i++) arr[off + 1 + kept + i] = this.tmpIds[i]!;
  }

  private growTmp(): void {
    const ids = new Uint32Array(this.tmpIds.length * 2);
    ids.set(this.tmpIds);
    const dists = new Float64Array(this.tmpDists.length * 2);
    dists.set(this.tmpDists);
    this.tmpIds = ids;
    this.tmpDists = dists;
  }
}

/** Insertion sort of (id, dist) pairs by dist; lists are at most a few hundred long. */
function sortPairs(ids: Uint32Array, dists: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const d = dists[i]!;
    const id = ids[i]!;
    let j = i - 1;
    while (j >= 0 && dists[j]! > d) {
      dists[j + 1] = dists[j]!;
      ids[j + 1] = ids[j]!;
      j--;
    }
    dists[j + 1] = d;
    ids[j + 1] = id;
  }
}
