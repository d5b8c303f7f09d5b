import { ConfigError, ValidationError, type Interaction, type InteractionType } from '@affinity/contracts';
import { z } from 'zod';
import type { CsrGraph } from './fastrp';
import { BasketPairs } from './internal/basket-pairs';
import { DedupeWindow } from './internal/dedupe-window';
import { DynamicCsr } from './internal/dynamic-csr';
import {
  asFloat32,
  asFloat64,
  asInt32,
  asUint32,
  decodeLines,
  decodeSnapshot,
  encodeLines,
  encodeSnapshot,
  joinChunks,
  splitChunks,
} from './internal/snapshot-codec';

/** Options of {@link BehaviourGraph}. Parsed once by the constructor; a bad value throws a ConfigError naming it. */
export interface BehaviourGraphOptions {
  /**
   * Edge weight added by one event of each type (before decay). Must increase
   * view < click < add_to_cart < purchase.
   * @defaultValue `{ view: 1, click: 2, add_to_cart: 4, purchase: 8 }`
   */
  typeWeights?: Partial<Record<Exclude<InteractionType, 'rating'>, number>>;
  /**
   * Weight of a rating of 1, 2, 3, 4, 5 stars (fractional ratings interpolate). All positive:
   * FastRP's transition matrix needs non-negative weights, so a bad rating is a weak link, not a negative one.
   * @defaultValue `[0.5, 1, 2, 4, 6]`
   */
  ratingWeights?: readonly [number, number, number, number, number];
  /**
   * Half-life of an interaction's weight, in milliseconds; `Infinity` disables decay.
   * @defaultValue 14 days (1_209_600_000)
   */
  halfLifeMs?: number;
  /** Whether add_to_cart/purchase weights grow with quantity as `1 + log2(quantity)`. @defaultValue true */
  quantityBoost?: boolean;
  /** Event ids remembered for in-memory dedupe (count; 0 disables). @defaultValue 200_000 */
  dedupeWindow?: number;
  /** Items per basket (order or session) that take part in co-occurrence pairs. @defaultValue 50 */
  maxBasketItems?: number;
  /** Baskets kept open (the oldest opened is closed first), per kind. @defaultValue 100_000 */
  maxOpenBaskets?: number;
  /** Merge the delta buffer into the CSR once it exceeds this fraction of the CSR entries. @defaultValue 0.25 */
  compactRatio?: number;
  /** ... and holds at least this many entries (small graphs merge rarely). @defaultValue 4096 */
  compactMinDelta?: number;
}

const Positive = z.number().positive().finite();
const OptionsSchema = z
  .object({
    typeWeights: z
      .object({ view: Positive.default(1), click: Positive.default(2), add_to_cart: Positive.default(4), purchase: Positive.default(8) })
      .prefault({}),
    ratingWeights: z.tuple([Positive, Positive, Positive, Positive, Positive]).default([0.5, 1, 2, 4, 6]),
    // JSON (snapshots) turns Infinity into null; both mean "no decay".
    halfLifeMs: z
      .preprocess((v) => (v === null ? Infinity : v), z.custom<number>((v) => typeof v === 'number' && v > 0, 'a positive number of ms, or Infinity'))
      .default(14 * 24 * 3600 * 1000),
    quantityBoost: z.boolean().default(true),
    dedupeWindow: z.number().int().nonnegative().default(200_000),
    maxBasketItems: z.number().int().min(2).default(50),
    maxOpenBaskets: z.number().int().min(1).default(100_000),
    compactRatio: z.number().positive().default(0.25),
    compactMinDelta: z.number().int().nonnegative().default(4096),
  })
  .superRefine((o, ctx) => {
    const w = o.typeWeights;
    if (!(w.view < w.click && w.click < w.add_to_cart && w.add_to_cart < w.purchase)) {
      ctx.addIssue({ code: 'custom', path: ['typeWeights'], message: 'must increase view < click < add_to_cart < purchase' });
    }
  });
type CompiledGraphOptions = z.output<typeof OptionsSchema>;

function compileOptions(options: BehaviourGraphOptions): CompiledGraphOptions {
  const r = OptionsSchema.safeParse(options);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(`BehaviourGraphOptions.${issue.path.join('.')}: ${issue.message}`);
  }
  return r.data;
}

export type NodeKind = 'user' | 'item';

export interface NodeRef {
  kind: NodeKind;
  id: string;
}

/**
 * What one {@link BehaviourGraph.apply} changed, in the shape the incremental embedder
 * consumes. Edge weights are in the graph's internal scale (see {@link GraphDelta.rescale}).
 */
export interface GraphDelta {
  /** Events folded in. */
  applied: number;
  /** Events skipped because their eventId was seen in the dedupe window. */
  duplicates: number;
  /** Undirected user–item weight increments: edge e is (edgeSrc[e], edgeDst[e]) += edgeWeight[e]. */
  edgeSrc: Int32Array;
  edgeDst: Int32Array;
  edgeWeight: Float32Array;
  /** Distinct nodes (users and items) whose edges changed, ascending. */
  touched: Int32Array;
  /** Nodes with index ≥ firstNewNode appeared in this batch. */
  firstNewNode: number;
  /**
   * Factor by which every existing weight was multiplied before the increments (lazy-decay
   * rebase; 1 almost always). FastRP is invariant to it, but cached sums must follow it.
   */
  rescale: number;
  /** Newest event time in the batch (epoch ms), or NaN when nothing was applied. */
  maxTs: number;
}

export interface CoOccurrence {
  productId: string;
  /** Baskets holding both items. */
  count: number;
  /** c_ab·B / (c_a·c_b): > 1 means bought (or viewed) together more often than chance. */
  lift: number;
  /** ln(lift). */
  pmi: number;
}

export interface CoOccurrenceQuery {
  /** `purchase`: baskets are orders (orderId, else session); `session`: every event of a session. @defaultValue 'purchase' */
  by?: 'purchase' | 'session';
  /** @defaultValue 20 */
  limit?: number;
  /** Pairs seen in fewer baskets are ignored (lift of rare pairs is noise). @defaultValue 2 */
  minCount?: number;
  /** @defaultValue 'lift' */
  orderBy?: 'lift' | 'pmi' | 'count';
}

export interface GraphStats {
  nodes: number;
  users: number;
  items: number;
  /** Distinct user–item pairs. */
  edges: number;
  deltaEntries: number;
  /** Reference time of the stored weights (epoch ms). */
  referenceTime: number;
  /** Typed-array bytes of adjacency + co-occurrence (capacity). */
  memoryBytes: number;
  dedupeSize: number;
}

/** Stored weights are w·2^((t−t₀)/h); re-base t₀ before the exponent can leave float32's comfortable range. */
const REBASE_EXPONENT = 60;
const KIND_USER = 0;
const KIND_ITEM = 1;

/**
 * A dynamic weighted bipartite graph of users and items built from interactions, plus
 * item–item co-occurrence statistics (co-purchase by order, co-session).
 *
 * Decay is lazy: an event at time t adds w·2^((t − t₀)/h) to its edge, so an update is O(1)
 * and the ratio between any two stored weights is already their ratio at any later time.
 * The true weight at time T is stored·2^(−(T − t₀)/h). When the exponent grows large the
 * whole graph is re-based once (`GraphDelta.rescale`).
 */
export class BehaviourGraph {
  readonly options: Readonly<CompiledGraphOptions>;
  private readonly csr = new DynamicCsr();
  private readonly index = new Map<string, number>();
  private keys: string[] = [];
  private kinds = new Uint8Array(1024);
  private userCount = 0;
  private edgePairs = 0;
  private t0 = Number.NaN;
  private readonly dedupe: DedupeWindow;
  private readonly coPurchase: BasketPairs;
  private readonly coSession: BasketPairs;

  constructor(options: BehaviourGraphOptions = {}) {
    this.options = compileOptions(options);
    this.dedupe = new DedupeWindow(this.options.dedupeWindow);
    this.coPurchase = new BasketPairs(this.options.maxBasketItems, this.options.maxOpenBaskets);
    this.coSession = new BasketPairs(this.options.maxBasketItems, this.options.maxOpenBaskets);
  }

  get nodeCount(): number {
    return this.keys.length;
  }

  /** The user–item adjacency (CSR + delta). For the embedder; treat as read-only. */
  get adjacency(): DynamicCsr {
    return this.csr;
  }

  /**
   * The adjacency as a {@link CsrGraph} for {@link fastRP}, after merging the delta buffer.
   * The arrays are views of the live graph: read them before the next `apply`.
   */
  toCsr(): CsrGraph {
    this.csr.compact();
    const csr = this.csr;
    return { nodeCount: csr.nodeCount, rowPtr: csr.rowPtr, cols: csr.cols, vals: csr.vals, keys: (j) => this.nodeKey(j) };
  }

  /** Reference time t₀ of stored weights (epoch ms; NaN before the first event). */
  get referenceTime(): number {
    return this.t0;
  }

  /** Stable key of a node, `u:<userId>` or `i:<productId>`; FastRP derives the node's random row from it. */
  nodeKey(index: number): string {
    const k = this.keys[index];
    if (k === undefined) throw new RangeError(`no node ${index}`);
    return k;
  }

  nodeRef(index: number): NodeRef {
    const key = this.nodeKey(index);
    return { kind: this.kinds[index] === KIND_USER ? 'user' : 'item', id: key.slice(2) };
  }

  nodeIndex(kind: NodeKind, id: string): number | undefined {
    return this.index.get(kind === 'user' ? `u:${id}` : `i:${id}`);
  }

  isItem(index: number): boolean {
    return this.kinds[index] === KIND_ITEM;
  }

  /** Weight of a user–item edge decayed to time `at` (epoch ms). @defaultValue at = reference time */
  edgeWeight(userId: string, productId: string, at: number = this.t0): number {
    const u = this.nodeIndex('user', userId);
    const i = this.nodeIndex('item', productId);
    if (u === undefined || i === undefined) return 0;
    return this.csr.weight(u, i) * this.decayFactor(at);
  }

  /** Weighted degree of a node decayed to time `at`. */
  degree(index: number, at: number = this.t0): number {
    return (this.csr.degree[index] ?? 0) * this.decayFactor(at);
  }

  /** Base weight of one event, before decay. */
  eventWeight(e: Interaction): number {
    const o = this.options;
    let w: number;
    if (e.type === 'rating') {
      const r = Math.min(5, Math.max(1, e.rating ?? 3)) - 1;
      const lo = Math.floor(r);
      const hi = Math.min(4, lo + 1);
      w = o.ratingWeights[lo]! + (o.ratingWeights[hi]! - o.ratingWeights[lo]!) * (r - lo);
    } else {
      w = o.typeWeights[e.type];
      if (o.quantityBoost && e.quantity !== undefined && e.quantity > 1 && (e.type === 'purchase' || e.type === 'add_to_cart')) {
        w *= 1 + Math.log2(e.quantity);
      }
    }
    return w;
  }

  /**
   * Folds a batch of interactions in. Duplicate eventIds (within the dedupe window) are
   * skipped, so replaying a batch never double counts.
   */
  apply(events: readonly Interaction[]): GraphDelta {
    const firstNewNode = this.keys.length;
    const fresh: Interaction[] = [];
    let duplicates = 0;
    let maxTs = Number.NaN;
    let minTs = Number.NaN;
    for (const e of events) {
      if (!Number.isFinite(e.ts)) throw new ValidationError(`event ${e.eventId}: ts must be finite epoch ms`);
      if (!this.dedupe.admit(e.eventId)) {
        duplicates++;
        continue;
      }
      fresh.push(e);
      if (!(e.ts <= maxTs)) maxTs = e.ts;
      if (!(e.ts >= minTs)) minTs = e.ts;
    }
    let rescale = 1;
    const h = this.options.halfLifeMs;
    if (fresh.length > 0 && Number.isFinite(h)) {
      if (Number.isNaN(this.t0)) this.t0 = minTs;
      else if ((maxTs - this.t0) / h > REBASE_EXPONENT) rescale = this.rebase(maxTs);
    } else if (fresh.length > 0 && Number.isNaN(this.t0)) {
      this.t0 = minTs;
    }

    const src = new Int32Array(fresh.length);
    const dst = new Int32Array(fresh.length);
    const wts = new Float32Array(fresh.length);
    const touched = new Set<number>();
    for (let k = 0; k < fresh.length; k++) {
      const e = fresh[k]!;
      const u = this.node(`u:${e.userId}`, KIND_USER);
      const i = this.node(`i:${e.productId}`, KIND_ITEM);
      const w = this.eventWeight(e) * this.growthFactor(e.ts);
      if (this.csr.weight(u, i) === 0) this.edgePairs++;
      this.csr.addUndirected(u, i, w);
      src[k] = u;
      dst[k] = i;
      wts[k] = w;
      touched.add(u);
      touched.add(i);
      this.coSession.add(e.sessionId, i);
      if (e.type === 'purchase') this.coPurchase.add(e.orderId ?? `s:${e.sessionId}`, i);
    }
    this.maybeCompact();
    return {
      applied: fresh.length,
      duplicates,
      edgeSrc: src,
      edgeDst: dst,
      edgeWeight: wts,
      touched: Int32Array.from(touched).sort(),
      firstNewNode,
      rescale,
      maxTs,
    };
  }

  /** Items seen in the same baskets as `productId`, best first. */
  coOccurrences(productId: string, query: CoOccurrenceQuery = {}): CoOccurrence[] {
    const { by = 'purchase', limit = 20, minCount = 2, orderBy = 'lift' } = query;
    const a = this.nodeIndex('item', productId);
    if (a === undefined) return [];
    const bp = by === 'purchase' ? this.coPurchase : this.coSession;
    const out: CoOccurrence[] = [];
    if (a >= bp.pairs.nodeCount) return out;
    bp.pairs.forEachNeighbor(a, (b, count) => {
      if (count < minCount) return;
      const lift = bp.lift(a, b, count);
      out.push({ productId: this.nodeKey(b).slice(2), count, lift, pmi: Math.log(lift) });
    });
    out.sort((x, y) => y[orderBy] - x[orderBy] || y.count - x.count);
    return out.slice(0, limit);
  }

  /** Pair statistics of two items (count 0 when never together). */
  pairStats(productA: string, productB: string, by: 'purchase' | 'session' = 'purchase'): CoOccurrence {
    const a = this.nodeIndex('item', productA);
    const b = this.nodeIndex('item', productB);
    const bp = by === 'purchase' ? this.coPurchase : this.coSession;
    const count = a !== undefined && b !== undefined && a < bp.pairs.nodeCount ? bp.pairs.weight(a, b) : 0;
    const lift = count > 0 ? bp.lift(a!, b!, count) : 0;
    return { productId: productB, count, lift, pmi: Math.log(lift) };
  }

  /** Merges delta buffers into the CSRs now (also done automatically past `compactRatio`). */
  compact(): void {
    this.csr.compact();
    this.coPurchase.pairs.compact();
    this.coSession.pairs.compact();
  }

  stats(): GraphStats {
    return {
      nodes: this.keys.length,
      users: this.userCount,
      items: this.keys.length - this.userCount,
      edges: this.edgePairs,
      deltaEntries: this.csr.deltaCount,
      referenceTime: this.t0,
      memoryBytes:
        this.csr.memoryBytes() +
        this.coPurchase.pairs.memoryBytes() +
        this.coSession.pairs.memoryBytes() +
        this.kinds.byteLength +
        this.coPurchase.itemBaskets.byteLength +
        this.coSession.itemBaskets.byteLength,
      dedupeSize: this.dedupe.size,
    };
  }

  /**
   * The whole state as one buffer (see `snapshot-codec.ts` for the layout): node keys,
   * CSR adjacency, co-occurrence CSRs and open baskets, dedupe window, reference time.
   */
  snapshot(): Buffer {
    this.compact();
    const n = this.keys.length;
    const pp = this.coPurchase;
    const ps = this.coSession;
    return encodeSnapshot(
      {
        kind: 'behaviour-graph',
        options: this.options,
        nodes: n,
        t0: Number.isNaN(this.t0) ? null : this.t0,
        edgePairs: this.edgePairs,
        purchaseBaskets: pp.basketCount,
        sessionBaskets: ps.basketCount,
        openPurchase: pp.openBaskets(),
        openSession: ps.openBaskets(),
      },
      {
        keys: encodeLines(this.keys),
        kinds: this.kinds.subarray(0, n),
        rowPtr: this.csr.rowPtr,
        cols: this.csr.cols,
        vals: this.csr.vals,
        cpRowPtr: pp.pairs.rowPtr,
        cpCols: pp.pairs.cols,
        cpVals: pp.pairs.vals,
        cpItems: pp.itemBaskets.subarray(0, n),
        csRowPtr: ps.pairs.rowPtr,
        csCols: ps.pairs.cols,
        csVals: ps.pairs.vals,
        csItems: ps.itemBaskets.subarray(0, n),
        dedupe: encodeLines(this.dedupe.toArray()),
      },
    );
  }

  /** Splits {@link snapshot} into pieces of at most `maxBytes` (e.g. Redis values). */
  snapshotChunks(maxBytes = 8 * 1024 * 1024): Buffer[] {
    return splitChunks(this.snapshot(), maxBytes);
  }

  static fromChunks(chunks: readonly Uint8Array[]): BehaviourGraph {
    return BehaviourGraph.restore(joinChunks(chunks));
  }

  /** Inverse of {@link snapshot}. Options come from the snapshot (they define what the weights mean). */
  static restore(buf: Uint8Array): BehaviourGraph {
    const snap = decodeSnapshot(buf);
    const meta = snap.meta as {
      kind: string;
      options: BehaviourGraphOptions;
      nodes: number;
      t0: number | null;
      edgePairs: number;
      purchaseBaskets: number;
      sessionBaskets: number;
      openPurchase: Array<[string, number[]]>;
      openSession: Array<[string, number[]]>;
    };
    if (meta.kind !== 'behaviour-graph') throw new ValidationError(`snapshot holds a ${meta.kind}, not a behaviour-graph`);
    const g = new BehaviourGraph(meta.options);
    const n = meta.nodes;
    g.keys = decodeLines(snap.section('keys'));
    if (g.keys.length !== n) throw new ValidationError(`snapshot has ${g.keys.length} keys for ${n} nodes`);
    g.kinds = new Uint8Array(Math.max(1024, n));
    g.kinds.set(snap.section('kinds'));
    for (let i = 0; i < n; i++) {
      g.index.set(g.keys[i]!, i);
      if (g.kinds[i] === KIND_USER) g.userCount++;
    }
    g.csr.load(n, asUint32(snap.section('rowPtr')), asInt32(snap.section('cols')), asFloat32(snap.section('vals')));
    for (const [bp, p, baskets, open] of [
      [g.coPurchase, 'cp', meta.purchaseBaskets, meta.openPurchase],
      [g.coSession, 'cs', meta.sessionBaskets, meta.openSession],
    ] as const) {
      bp.ensureNodes(n);
      bp.pairs.load(n, asUint32(snap.section(`${p}RowPtr`)), asInt32(snap.section(`${p}Cols`)), asFloat32(snap.section(`${p}Vals`)));
      bp.itemBaskets.set(asFloat64(snap.section(`${p}Items`)));
      bp.basketCount = baskets;
      bp.loadOpen(open);
    }
    g.t0 = meta.t0 ?? Number.NaN;
    g.edgePairs = meta.edgePairs;
    g.dedupe.load(decodeLines(snap.section('dedupe')));
    return g;
  }

  private node(key: string, kind: number): number {
    let i = this.index.get(key);
    if (i !== undefined) return i;
    i = this.keys.length;
    this.keys.push(key);
    this.index.set(key, i);
    if (i >= this.kinds.length) {
      const k = new Uint8Array(this.kinds.length * 2);
      k.set(this.kinds);
      this.kinds = k;
    }
    this.kinds[i] = kind;
    if (kind === KIND_USER) this.userCount++;
    this.csr.ensureNodes(i + 1);
    this.coPurchase.ensureNodes(i + 1);
    this.coSession.ensureNodes(i + 1);
    return i;
  }

  private growthFactor(ts: number): number {
    const h = this.options.halfLifeMs;
    return Number.isFinite(h) ? 2 ** ((ts - this.t0) / h) : 1;
  }

  private decayFactor(at: number): number {
    const h = this.options.halfLifeMs;
    return Number.isFinite(h) && Number.isFinite(at) ? 2 ** (-(at - this.t0) / h) : 1;
  }

  private rebase(newT0: number): number {
    const c = 2 ** (-(newT0 - this.t0) / this.options.halfLifeMs);
    this.csr.rescale(c);
    this.t0 = newT0;
    return c;
  }

  private maybeCompact(): void {
    const { compactRatio, compactMinDelta } = this.options;
    const csr = this.csr;
    if (csr.deltaCount >= compactMinDelta && csr.deltaCount > compactRatio * csr.rowPtr[csr.baseRows]!) csr.compact();
    this.coPurchase.maybeCompact(compactRatio, compactMinDelta);
    this.coSession.maybeCompact(compactRatio, compactMinDelta);
  }
}
