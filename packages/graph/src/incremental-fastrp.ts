import { ConfigError, ValidationError } from '@affinity/contracts';
import { z } from 'zod';
import type { BehaviourGraph, GraphDelta, NodeKind } from './behaviour-graph';
import { fastRP } from './fastrp';
import { compileFastRPOptions, type CompiledFastRPOptions, type FastRPOptions } from './fastrp-options';
import { degreeScale, initialRow, type KernelState } from './internal/fastrp-kernel';
import { emptyKernelState, projectOne } from './internal/kernel-setup';
import { contentProjection, nodeSeed } from './internal/random-projection';
import type { DynamicCsr } from './internal/dynamic-csr';
import { DeltaScratch } from './internal/delta-scratch';
import type { NodeSet } from './internal/node-set';
import { RowSet } from './internal/row-set';
import { asFloat32, asFloat64, decodeSnapshot, encodeSnapshot } from './internal/snapshot-codec';

/** Options of {@link IncrementalFastRP}: the FastRP parameters plus the incremental budget and reporting. */
export interface IncrementalFastRPOptions extends FastRPOptions {
  /**
   * Budget: distinct rows an update may recompute per level, per edge change in the delta
   * (count). Contributions to further rows are skipped once it is spent (sources are taken
   * in order of relative change) and their estimated error goes to the drift.
   * @defaultValue 500
   */
  maxTouchedPerEdge?: number;
  /**
   * A contribution S[x,j]·δⱼ is applied only if it changes row x by at least this fraction
   * (estimated as (S[x,j]/dₓ)·‖δⱼ‖/‖Xⱼ‖, the push threshold of approximate personalized
   * PageRank); smaller ones are skipped and counted in the drift. The main cost/accuracy knob.
   * @defaultValue 0.01
   */
  propagationTolerance?: number;
  /**
   * Mean estimated relative error per node (unitless; skipped contributions add in quadrature
   * per row) above which {@link IncrementalFastRP.needsFullRecompute} turns true and the
   * `onNeedsFullRecompute` callbacks fire. 0.05 corresponds to a mean cosine near 0.998.
   * @defaultValue 0.05
   */
  driftThreshold?: number;
  /**
   * A vector is reported as changed once it has moved at least this far since it was last
   * reported: cosine distance (1 − cos) for `metric: 'cosine'`, Euclidean distance of the
   * raw vectors for `'l2'`.
   * @defaultValue 0.001
   */
  epsilon?: number;
  /** @defaultValue 'cosine' */
  metric?: 'cosine' | 'l2';
}

const IncrementalSchema = z.object({
  maxTouchedPerEdge: z.number().int().min(1).default(500),
  propagationTolerance: z.number().min(0).max(1).default(0.01),
  driftThreshold: z.number().positive().default(0.05),
  epsilon: z.number().min(0).default(0.001),
  metric: z.enum(['cosine', 'l2']).default('cosine'),
});

export interface UpdateResult {
  /** Nodes whose vector moved at least ε since it was last reported (ascending); their counters reset. */
  changed: Int32Array;
  /** Iterate rows recomputed (summed over the k levels). */
  touchedRows: number;
  /** Row changes not propagated (budget or tolerance). */
  droppedPushes: number;
  /** Mean estimated relative error per node after this update. */
  drift: number;
  needsFullRecompute: boolean;
}

export interface FullRecomputeResult {
  /** Nodes whose vector differs from the incremental one by at least ε. */
  changed: Int32Array;
  /** Wall time of the batch run plus the swap (ms). */
  durationMs: number;
  /** Deltas that arrived during the run and were replayed on the new state before the swap. */
  replayedEdges: number;
}

/**
 * When a row shrinks below this fraction of its old norm, its neighbours are recomputed
 * (pulled) instead of patched: patching would lose log2(1/fraction) of float32's 24 bits.
 */
const PULL_BELOW = 1e-3;

/**
 * A weight at or below this rounds to 0 in float32 (half the smallest subnormal, ties to
 * even): a row whose degree falls there in a lazy-decay rebase has no edge left in the graph.
 */
const DEAD_DEGREE = 2 ** -150;

/** The embedding state that a full recompute replaces as a whole. */
interface State {
  n: number;
  cap: number;
  deg: Float64Array;
  iter: Float32Array[];
  out: Float32Array;
  moved: Float32Array;
  /** Squared estimated relative error per row, accumulated from skipped pushes. */
  err: Float32Array;
  /**
   * Upper bound of Σₓ S[j,x]/dₓ per row j (exact after a full recompute; kept an upper bound
   * in O(1) per edge change, as degrees only grow between recomputes). A row whose relative
   * change ρ is below the tolerance can't move any neighbour by ≥ tol (S[j,x] ≤ dₓ), so its
   * pushes are all skipped without visiting its neighbours, with ρ·ratio[j] as their error.
   */
  ratio: Float64Array;
}

interface Journal {
  scale: number;
  src: number[];
  dst: number[];
  w: number[];
}

/**
 * FastRP embeddings of a {@link BehaviourGraph}, kept fresh event by event.
 *
 * The state is the k intermediate matrices Nᵢ (unnormalized) and the degrees. After an edge
 * change ΔS, with S' the new adjacency and Xᵢ₋₁ the previous level (X₀ = L·R):
 *   Uᵢ = D·Nᵢ,  ΔUᵢ = S'·δXᵢ₋₁ + ΔS·Xᵢ₋₁(old),  Nᵢ' = (Uᵢ + ΔUᵢ) / D',
 * so only the rows that depend on changed rows are recomputed, hop by hop: the edge
 * endpoints, then the neighbours of rows that changed at the previous level ("push"). Pushes
 * are ordered by relative change and cut by a budget; what is cut accumulates as a drift
 * estimate, and past a threshold a full recompute is due (the caller schedules it).
 */
export class IncrementalFastRP {
  readonly options: Readonly<CompiledFastRPOptions>;
  private readonly inc: z.output<typeof IncrementalSchema>;
  private state: State;
  private readonly kernel: KernelState;
  private readonly contentP: Float32Array | undefined;
  private errSum = 0;
  private flagged = false;
  private readonly listeners = new Set<(drift: number) => void>();
  private journal: Journal | undefined;
  private pending: Promise<FullRecomputeResult> | undefined;
  private frontier: RowSet;
  private next: RowSet;
  private readonly scratch: DeltaScratch;
  private readonly levelWeight: Float64Array;

  private constructor(
    readonly graph: BehaviourGraph,
    options: IncrementalFastRPOptions,
  ) {
    const { maxTouchedPerEdge, propagationTolerance, driftThreshold, epsilon, metric, ...fastrp } = options;
    this.options = compileFastRPOptions(fastrp);
    const r = IncrementalSchema.safeParse({ maxTouchedPerEdge, propagationTolerance, driftThreshold, epsilon, metric });
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new ConfigError(`IncrementalFastRPOptions.${issue.path.join('.')}: ${issue.message}`);
    }
    this.inc = r.data;
    const o = this.options;
    this.kernel = { ...emptyKernelState(o) };
    this.contentP = o.contentDim > 0 ? contentProjection(o.contentInputDim, o.contentDim, o.seed) : undefined;
    this.state = emptyState(o, 0);
    this.frontier = new RowSet(o.dim, 1024);
    this.next = new RowSet(o.dim, 1024);
    this.scratch = new DeltaScratch(o.dim, 1024);
    // An error at level i reaches levels i..k; weigh it by their share of Σ|α|.
    const a = o.iterationWeights;
    const total = a.reduce((s, x) => s + Math.abs(x), 0) || 1;
    this.levelWeight = new Float64Array(a.length + 1);
    for (let i = a.length; i >= 1; i--) {
      let s = 0;
      for (let l = i; l <= a.length; l++) s += Math.abs(a[l - 1]!);
      this.levelWeight[i] = s / total;
    }
  }

  /** Builds the embedder and runs the first full computation on the graph as it is. */
  static async create(graph: BehaviourGraph, options: IncrementalFastRPOptions = {}): Promise<IncrementalFastRP> {
    const e = new IncrementalFastRP(graph, options);
    await e.fullRecompute();
    return e;
  }

  get dim(): number {
    return this.options.dim;
  }

  /** Nodes covered by the embeddings. */
  get nodeCount(): number {
    return this.state.n;
  }

  /** Mean estimated relative error per node accumulated since the last full recompute. */
  get drift(): number {
    return this.state.n > 0 ? Math.max(0, this.errSum) / this.state.n : 0;
  }

  /** True once the drift passed `driftThreshold`; cleared by {@link fullRecompute}. */
  get needsFullRecompute(): boolean {
    return this.flagged;
  }

  /** Called once each time the drift crosses the threshold. Returns an unsubscribe function. */
  onNeedsFullRecompute(listener: (drift: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Row-normalized copy of node `index`'s embedding (zeros for an isolated node). */
  vector(index: number): Float32Array {
    if (index < 0 || index >= this.state.n) throw new RangeError(`no embedding for node ${index}`);
    const d = this.options.dim;
    const v = this.state.out.slice(index * d, index * d + d);
    let norm = 0;
    for (let c = 0; c < d; c++) norm += v[c]! * v[c]!;
    if (norm > 0) {
      const k = 1 / Math.sqrt(norm);
      for (let c = 0; c < d; c++) v[c]! *= k;
    }
    return v;
  }

  vectorOf(kind: NodeKind, id: string): Float32Array | undefined {
    const i = this.graph.nodeIndex(kind, id);
    return i === undefined || i >= this.state.n ? undefined : this.vector(i);
  }

  /** All embeddings, row-major `nodeCount × dim`, not normalized (a view: copy before keeping). */
  embeddings(): Float32Array {
    return this.state.out.subarray(0, this.state.n * this.options.dim);
  }

  /** Bytes of the typed arrays held (iterates, embeddings, degrees, counters). */
  memoryBytes(): number {
    const s = this.state;
    return s.iter.reduce((b, a) => b + a.byteLength, 0) + s.out.byteLength + s.deg.byteLength + s.moved.byteLength + this.kernel.seeds.byteLength;
  }

  /**
   * Folds a {@link GraphDelta} (from `graph.apply`, applied to the same graph) into the
   * embeddings. Synchronous; cost is bounded by `maxTouchedPerEdge × edges × dim × k`.
   */
  update(delta: GraphDelta): UpdateResult {
    if (this.journal !== undefined) {
      const j = this.journal;
      if (delta.rescale !== 1) {
        j.scale *= delta.rescale;
        for (let e = 0; e < j.w.length; e++) j.w[e]! *= delta.rescale;
      }
      for (let e = 0; e < delta.edgeSrc.length; e++) {
        j.src.push(delta.edgeSrc[e]!);
        j.dst.push(delta.edgeDst[e]!);
        j.w.push(delta.edgeWeight[e]!);
      }
    }
    if (delta.rescale !== 1) this.rescaleState(this.state, delta.rescale);
    const r = this.propagate(this.state, delta.edgeSrc, delta.edgeDst, delta.edgeWeight, true);
    return { ...r, drift: this.drift, needsFullRecompute: this.checkDrift() };
  }

  /**
   * Recomputes everything with the batch algorithm (worker threads) and swaps the new state
   * in at once. Updates that arrive meanwhile go to the old state and are journaled, then
   * replayed on the new state right before the swap, so nothing is lost. Concurrent calls
   * share one run.
   */
  fullRecompute(): Promise<FullRecomputeResult> {
    if (this.pending === undefined) {
      this.pending = this.runFull().finally(() => {
        this.pending = undefined;
        this.journal = undefined;
      });
    }
    return this.pending;
  }

  /** Embedding state as a buffer (degrees, iterates, embeddings), for a fast restart. */
  snapshot(): Buffer {
    const s = this.state;
    const o = this.options;
    const sections: Record<string, Float32Array | Float64Array> = {
      deg: s.deg.subarray(0, s.n),
      out: s.out.subarray(0, s.n * o.dim),
      err: s.err.subarray(0, s.n),
    };
    s.iter.forEach((a, i) => (sections[`iter${i}`] = a.subarray(0, s.n * o.dim)));
    return encodeSnapshot({ kind: 'fastrp-state', n: s.n, fingerprint: fingerprint(o), driftSum: this.errSum }, sections);
  }

  /** Restores a {@link snapshot} taken with the same options on the same graph state. */
  static restore(graph: BehaviourGraph, buf: Uint8Array, options: IncrementalFastRPOptions = {}): IncrementalFastRP {
    const e = new IncrementalFastRP(graph, options);
    const snap = decodeSnapshot(buf);
    const meta = snap.meta as { kind: string; n: number; fingerprint: string; driftSum: number };
    if (meta.kind !== 'fastrp-state') throw new ValidationError(`snapshot holds a ${meta.kind}, not a fastrp-state`);
    if (meta.fingerprint !== fingerprint(e.options)) {
      throw new ValidationError('FastRP snapshot was taken with different options; run fullRecompute() instead');
    }
    if (meta.n > graph.nodeCount) throw new ValidationError(`snapshot covers ${meta.n} nodes, graph has ${graph.nodeCount}`);
    const o = e.options;
    const s = emptyState(o, meta.n);
    s.n = meta.n;
    s.deg.set(asFloat64(snap.section('deg')));
    s.out.set(asFloat32(snap.section('out')));
    s.iter.forEach((a, i) => a.set(asFloat32(snap.section(`iter${i}`))));
    e.state = s;
    e.errSum = meta.driftSum;
    s.err.set(asFloat32(snap.section('err')));
    e.syncNodes(s);
    graph.adjacency.compact();
    ratioSums(graph.adjacency, s);
    return e;
  }

  private async runFull(): Promise<FullRecomputeResult> {
    const t = performance.now();
    const csr = this.graph.adjacency;
    csr.compact();
    const n = csr.nodeCount;
    this.journal = { scale: 1, src: [], dst: [], w: [] };
    const graph = this.graph;
    // Headroom so the first new nodes after the swap don't copy the whole state.
    const cap = Math.max(1024, Math.ceil(n * 1.25));
    const res = await fastRP({ nodeCount: n, rowPtr: csr.rowPtr, cols: csr.cols, vals: csr.vals, keys: (j) => graph.nodeKey(j) }, this.options, cap);
    // Adopt the batch buffers (no copy: at 1M nodes × 128 dims each iterate is 512 MB).
    const next: State = {
      n,
      cap,
      deg: res.degrees,
      iter: res.iterates,
      out: res.embeddings,
      moved: new Float32Array(cap),
      err: new Float32Array(cap),
      ratio: new Float64Array(cap),
    };
    ratioSums(csr, next);
    this.syncNodes(next);
    const j = this.journal;
    this.journal = undefined;
    let replayedEdges = 0;
    this.errSum = 0;
    if (j.src.length > 0 || j.scale !== 1) {
      if (j.scale !== 1) this.rescaleState(next, j.scale);
      replayedEdges = j.src.length;
      this.propagate(next, Int32Array.from(j.src), Int32Array.from(j.dst), Float32Array.from(j.w), false);
    }
    this.syncNodes(next);
    const changed = this.diffStates(this.state, next);
    this.state = next;
    this.flagged = false;
    return { changed, durationMs: performance.now() - t, replayedEdges };
  }

  /** Grows the per-node arrays of `s` (and the shared seeds/content slots) to the graph's node count. */
  private syncNodes(s: State): void {
    const n = this.graph.nodeCount;
    const o = this.options;
    const k = this.kernel;
    if (k.seeds.length < n) {
      const cap = Math.max(n, k.seeds.length * 2, 1024);
      const seeds = new Uint32Array(cap);
      seeds.set(k.seeds.subarray(0, k.n));
      const slots = new Int32Array(cap).fill(-1);
      slots.set(k.contentSlot.subarray(0, k.n));
      k.seeds = seeds;
      k.contentSlot = slots;
    }
    for (let j = k.n; j < n; j++) {
      const key = this.graph.nodeKey(j);
      k.seeds[j] = nodeSeed(key, o.seed);
      const content = o.contentEmbeddings?.get(key);
      if (content !== undefined && this.contentP !== undefined) {
        const slot = k.contentRows.length / o.contentDim;
        if ((slot + 1) * o.contentDim > k.contentRows.length) {
          const rows = new Float32Array(Math.max((slot + 1) * o.contentDim, k.contentRows.length * 2));
          rows.set(k.contentRows);
          k.contentRows = rows;
        }
        projectOne(o, this.contentP, content, k.contentRows, slot * o.contentDim);
        k.contentSlot[j] = slot;
      }
    }
    k.n = Math.max(k.n, n);
    if (s.cap < n) growState(s, o, Math.max(n, s.cap * 2));
    s.n = Math.max(s.n, n);
    this.frontier.ensureCapacity(s.cap);
    this.next.ensureCapacity(s.cap);
    this.scratch.ensureCapacity(s.cap);
  }

  private rescaleState(s: State, c: number): void {
    // Nᵢ scale by c^β when S does by c (A is scale-free, L = D^β is not); E is unchanged.
    const f = Math.pow(c, this.options.normalizationStrength);
    const d = this.options.dim;
    const row = this.scratch.rowB;
    for (let u = 0; u < s.n; u++) {
      const deg = s.deg[u]! * c;
      const off = u * d;
      if (deg > DEAD_DEGREE || s.deg[u] === 0) {
        s.deg[u] = deg;
        for (const a of s.iter) for (let p = off; p < off + d; p++) a[p]! *= f;
        continue;
      }
      // Every float32 weight of u's row rounded to 0 in the graph's rescale: u is isolated now,
      // as a full recompute would see it. Scaling its rows instead would give X₀ = (c·d)^β·R,
      // past float32's range for a rebase over a long gap (±∞, then NaN in every neighbour).
      s.deg[u] = 0;
      s.ratio[u] = 0;
      for (const a of s.iter) a.fill(0, off, off + d);
      this.embedRow(s, u, row);
      s.out.set(row, off);
      this.addError(s, u, 0, true);
    }
  }

  private propagate(
    s: State,
    src: Int32Array,
    dst: Int32Array,
    w: Float32Array,
    report: boolean,
  ): { changed: Int32Array; touchedRows: number; droppedPushes: number } {
    this.syncNodes(s);
    const o = this.options;
    const d = o.dim;
    const k = o.iterationWeights.length;
    const csr = this.graph.adjacency;
    const beta = o.normalizationStrength;
    const tol = this.inc.propagationTolerance;
    const budget = this.inc.maxTouchedPerEdge * Math.max(1, src.length);
    const sc = this.scratch;

    // Endpoints: their rows of A (and of L) change. Keep their old degrees, and the weight
    // increments per pair so pushes can use the old weights (see below).
    sc.collect(src, dst, w, s.deg);
    for (let e = 0; e < src.length; e++) {
      s.deg[src[e]!]! += w[e]!;
      if (src[e] !== dst[e]) s.deg[dst[e]!]! += w[e]!;
    }
    const ends = sc.ends;
    for (let q = 0; q < ends.size; q++) {
      const a = ends.items[q]!;
      sc.loadIncrements(a);
      for (let t = 0; t < sc.incr.size; t++) {
        const b = sc.incr.items[t]!;
        const now = csr.weight(a, b);
        const before = now - sc.incrOf[b]!;
        const d0 = sc.oldDegree(b, s.deg);
        s.ratio[a]! += now / s.deg[b]! - (before > 0 && d0 > 0 ? before / d0 : 0);
      }
    }

    const touched = sc.touched;
    touched.clear();
    for (let q = 0; q < ends.size; q++) touched.add(ends.items[q]!);
    const pulled = sc.pulled;
    let touchedRows = 0;
    let droppedPushes = 0;
    let frontier = this.frontier;
    let next = this.next;
    frontier.clear();

    // Level 0: δX₀ = (d'^β − d^β)·R for endpoints.
    for (let q = 0; q < ends.size; q++) {
      const x = ends.items[q]!;
      const a = degreeScale(sc.endOld[q]!, beta);
      const b = degreeScale(s.deg[x]!, beta);
      if (a === b) continue;
      const off = frontier.row(x);
      initialRow(this.kernel, x, frontier.data, off, b - a);
    }

    const { rowPtr, cols, vals, head, dDst, dVal, dNext, baseRows } = csr;
    for (let i = 1; i <= k; i++) {
      next.clear();
      pulled.clear();
      const prev = i === 1 ? undefined : s.iter[i - 2]!;
      const cur = s.iter[i - 1]!;
      // Written as ΔUᵢ = S·δXᵢ₋₁ + ΔS·Xᵢ₋₁(new) rather than S'·δ + ΔS·X(old): the same in exact
      // arithmetic, but when a node's degree jumps (a lazy-decay rebase makes old weights
      // tiny) δ and X(old) are huge and would cancel catastrophically in float32.
      for (let e = 0; e < src.length; e++) {
        this.edgeTerm(s, next, src[e]!, dst[e]!, w[e]!, prev);
        if (src[e] !== dst[e]) this.edgeTerm(s, next, dst[e]!, src[e]!, w[e]!, prev);
      }
      // Push term S·δXᵢ₋₁ (old weights), largest relative changes first, within the budget.
      const m = frontier.size;
      sc.reserveOrder(m);
      const fd = frontier.data;
      for (let t = 0; t < m; t++) {
        const x = frontier.nodes[t]!;
        const f = t * d;
        let dn = 0;
        let xn = 0;
        let on = 0;
        if (prev === undefined) {
          for (let c = 0; c < d; c++) dn += fd[f + c]! * fd[f + c]!;
          // X₀ = d^β·R is regenerated on demand: its norms follow from the degree scales.
          const b = degreeScale(s.deg[x]!, beta);
          const a = degreeScale(sc.oldDegree(x, s.deg), beta);
          xn = b * b * d;
          on = a * a * d;
        } else {
          const base = x * d;
          for (let c = 0; c < d; c++) {
            const dv = fd[f + c]!;
            const xv = prev[base + c]!;
            dn += dv * dv;
            xn += xv * xv;
            on += (xv - dv) * (xv - dv);
          }
        }
        sc.order[t] = t;
        sc.orderRho[t] = xn > 0 ? Math.sqrt(dn / xn) : dn > 0 ? Infinity : 0;
        sc.orderShrank[t] = xn < PULL_BELOW * PULL_BELOW * on ? 1 : 0;
      }
      const rhos = sc.orderRho;
      sc.order.subarray(0, m).sort((p, q) => rhos[q]! - rhos[p]!);
      const lw = this.levelWeight[i]!;
      for (let t = 0; t < m; t++) {
        const slot = sc.order[t]!;
        const j = frontier.nodes[slot]!;
        const rho = rhos[slot]!;
        if (rho === 0) continue;
        if (sc.orderShrank[slot] === 1) {
          // X[j] shrank by orders of magnitude: adding δ would subtract nearly equal float32
          // numbers in the neighbours' sums. Recompute those rows from scratch (exact, O(deg·d)).
          if (j < baseRows) for (let p = rowPtr[j]!, end = rowPtr[j + 1]!; p < end; p++) pulled.add(cols[p]!);
          for (let e = head[j]!; e >= 0; e = dNext[e]!) pulled.add(dDst[e]!);
          continue;
        }
        if (rho < tol) {
          // Every push from j would move its target by (S[j,x]/dₓ)·ρ < tol: skip them all
          // without the O(deg j) scan (hubs), their summed error bounded by ρ·Σₓ S[j,x]/dₓ.
          droppedPushes++;
          this.errSum += rho * s.ratio[j]! * lw;
          continue;
        }
        // Push-style threshold (as in approximate personalized PageRank): a contribution is
        // applied only if it moves the target row by at least `tol` relative to itself,
        // roughly (S[x,j]/d_x)·ρ_j; hubs thus absorb small changes without work.
        sc.loadIncrements(j);
        const f = slot * d;
        if (j < baseRows) {
          for (let p = rowPtr[j]!, end = rowPtr[j + 1]!; p < end; p++) {
            if (!this.push(s, next, frontier.data, f, cols[p]!, vals[p]!, rho, tol, lw, budget)) droppedPushes++;
          }
        }
        for (let e = head[j]!; e >= 0; e = dNext[e]!) {
          if (!this.push(s, next, frontier.data, f, dDst[e]!, dVal[e]!, rho, tol, lw, budget)) droppedPushes++;
        }
      }
      // New rows: Nᵢ' = (D·Nᵢ + ΔUᵢ) / D'. Endpoints rescale even without a push.
      for (let q = 0; q < ends.size; q++) next.row(ends.items[q]!);
      for (let t = 0; t < pulled.size; t++) {
        const x = pulled.items[t]!;
        const off = next.row(x);
        this.pullRow(s, x, prev, next.data, off);
        this.addError(s, x, 0, true);
      }
      const nd = next.data;
      for (let t = 0; t < next.size; t++) {
        const x = next.nodes[t]!;
        const off = t * d;
        const d0 = pulled.has(x) ? 0 : sc.oldDegree(x, s.deg);
        const d1 = s.deg[x]!;
        const inv = d1 > 0 ? 1 / d1 : 0;
        const base = x * d;
        for (let c = 0; c < d; c++) {
          const old = cur[base + c]!;
          const nv = (d0 * old + nd[off + c]!) * inv;
          cur[base + c] = nv;
          nd[off + c] = nv - old; // the row becomes δXᵢ for the next level
        }
        touched.add(x);
      }
      touchedRows += next.size;
      // next now holds δXᵢ: it becomes the frontier of level i + 1.
      this.frontier = next;
      this.next = frontier;
      frontier = this.frontier;
      next = this.next;
    }
    return this.finish(s, touched, touchedRows, droppedPushes, report);
  }

  /** next[x] += w·Xᵢ₋₁[y] with the current X (X₀ = d^β·R regenerated). */
  private edgeTerm(s: State, next: RowSet, x: number, y: number, w: number, prev: Float32Array | undefined): void {
    const d = this.options.dim;
    let r: Float32Array;
    let ro: number;
    if (prev === undefined) {
      r = this.scratch.rowA;
      ro = 0;
      initialRow(this.kernel, y, r, 0, degreeScale(s.deg[y]!, this.options.normalizationStrength));
    } else {
      r = prev;
      ro = y * d;
    }
    const off = next.row(x);
    const nd = next.data;
    for (let c = 0; c < d; c++) nd[off + c]! += w * r[ro + c]!;
  }

  /**
   * Pushes S[j,x]·δⱼ (old weight: the delta's increment is taken out) into next[x] if it moves
   * row x by at least `tol` relative to itself and the budget allows; otherwise adds its
   * estimated error to x's drift. Returns whether it was applied (or had nothing to push).
   */
  private push(
    s: State,
    next: RowSet,
    fd: Float32Array,
    f: number,
    x: number,
    sw: number,
    rho: number,
    tol: number,
    lw: number,
    budget: number,
  ): boolean {
    const sc = this.scratch;
    const old = sc.incr.has(x) ? sw - sc.incrOf[x]! : sw;
    if (old <= 0) return true;
    const dx = s.deg[x]!;
    const e = Math.min(1, dx > 0 ? (old / dx) * rho : rho);
    if (e < tol || (next.size >= budget && next.offset(x) < 0)) {
      this.addError(s, x, e * lw);
      return false;
    }
    const off = next.row(x);
    const nd = next.data;
    const d = this.options.dim;
    for (let c = 0; c < d; c++) nd[off + c]! += old * fd[f + c]!;
    return true;
  }

  /** Writes Uᵢ[x] = Σⱼ S'[x,j]·Xᵢ₋₁[j] (current weights and values) at `out[off..]`. */
  private pullRow(s: State, x: number, prev: Float32Array | undefined, out: Float32Array, off: number): void {
    const d = this.options.dim;
    const beta = this.options.normalizationStrength;
    const row = this.scratch.rowB;
    out.fill(0, off, off + d);
    this.graph.adjacency.forEachNeighbor(x, (j, sw) => {
      if (prev === undefined) {
        initialRow(this.kernel, j, row, 0, degreeScale(s.deg[j]!, beta));
        for (let c = 0; c < d; c++) out[off + c]! += sw * row[c]!;
      } else {
        for (let c = 0; c < d; c++) out[off + c]! += sw * prev[j * d + c]!;
      }
    });
  }

  /**
   * Adds an estimated relative error e to row x (errors from independent skipped pushes add in
   * quadrature) and keeps Σₓ √err[x] current; `reset` clears x's error (it was recomputed).
   */
  private addError(s: State, x: number, e: number, reset = false): void {
    const a = s.err[x]!;
    const b = reset ? 0 : a + e * e;
    s.err[x] = b;
    this.errSum += Math.sqrt(b) - Math.sqrt(a);
  }

  /** Recomputes E for touched rows and reports those that moved ≥ ε since last reported. */
  private finish(
    s: State,
    touched: NodeSet,
    touchedRows: number,
    droppedPushes: number,
    report: boolean,
  ): { changed: Int32Array; touchedRows: number; droppedPushes: number } {
    const d = this.options.dim;
    const prev = this.scratch.rowA;
    const row = this.scratch.rowB;
    const changed = this.scratch.pulled; // free again: reused as the list of changed nodes
    changed.clear();
    const threshold = this.threshold();
    for (let t = 0; t < touched.size; t++) {
      const x = touched.items[t]!;
      const off = x * d;
      for (let c = 0; c < d; c++) prev[c] = s.out[off + c]!;
      this.embedRow(s, x, row);
      for (let c = 0; c < d; c++) s.out[off + c] = row[c]!;
      if (!report) continue;
      const m = this.movement(prev, row);
      s.moved[x]! += m;
      if (s.moved[x]! >= threshold || (m > 0 && isZero(prev))) {
        s.moved[x] = 0;
        changed.add(x);
      }
    }
    return { changed: changed.items.slice(0, changed.size).sort(), touchedRows, droppedPushes };
  }

  private embedRow(s: State, x: number, out: Float32Array): void {
    const o = this.options;
    const d = o.dim;
    out.fill(0);
    if (o.selfWeight !== 0) {
      initialRow(this.kernel, x, out, 0, 1);
      let norm = 0;
      for (let c = 0; c < d; c++) norm += out[c]! * out[c]!;
      const f = norm > 0 ? o.selfWeight / Math.sqrt(norm) : 0;
      for (let c = 0; c < d; c++) out[c]! *= f;
    }
    const off = x * d;
    for (let i = 0; i < s.iter.length; i++) {
      const a = s.iter[i]!;
      let norm = 0;
      for (let c = 0; c < d; c++) norm += a[off + c]! * a[off + c]!;
      if (norm === 0) continue;
      const f = o.iterationWeights[i]! / Math.sqrt(norm);
      for (let c = 0; c < d; c++) out[c]! += a[off + c]! * f;
    }
  }

  /** Per-update movement in the reporting metric's additive form (a metric, so sums bound the total). */
  private movement(a: Float32Array, b: Float32Array): number {
    if (this.inc.metric === 'l2') {
      let s = 0;
      for (let c = 0; c < a.length; c++) s += (a[c]! - b[c]!) ** 2;
      return Math.sqrt(s);
    }
    // Chordal distance of the unit vectors: √(2(1 − cos)), so the threshold is √(2ε).
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let c = 0; c < a.length; c++) {
      ab += a[c]! * b[c]!;
      aa += a[c]! * a[c]!;
      bb += b[c]! * b[c]!;
    }
    if (aa === 0 || bb === 0) return aa === bb ? 0 : Math.SQRT2;
    return Math.sqrt(Math.max(0, 2 - (2 * ab) / Math.sqrt(aa * bb)));
  }

  private threshold(): number {
    return this.inc.metric === 'l2' ? this.inc.epsilon : Math.sqrt(2 * this.inc.epsilon);
  }

  private diffStates(a: State, b: State): Int32Array {
    const d = this.options.dim;
    const out: number[] = [];
    const t = this.threshold();
    for (let x = 0; x < b.n; x++) {
      const rowB = b.out.subarray(x * d, x * d + d);
      const rowA = x < a.n ? a.out.subarray(x * d, x * d + d) : new Float32Array(d);
      const m = this.movement(rowA, rowB);
      if (m >= t || (m > 0 && isZero(rowA))) out.push(x);
    }
    return Int32Array.from(out);
  }

  private checkDrift(): boolean {
    if (!this.flagged && this.drift > this.inc.driftThreshold) {
      this.flagged = true;
      for (const l of this.listeners) l(this.drift);
    }
    return this.flagged;
  }
}

function emptyState(o: CompiledFastRPOptions, cap: number): State {
  const c = Math.max(cap, 1024);
  return {
    n: 0,
    cap: c,
    deg: new Float64Array(c),
    iter: Array.from(o.iterationWeights, () => new Float32Array(c * o.dim)),
    out: new Float32Array(c * o.dim),
    moved: new Float32Array(c),
    err: new Float32Array(c),
    ratio: new Float64Array(c),
  };
}

function growState(s: State, o: CompiledFastRPOptions, cap: number): void {
  const grow = <T extends Float32Array | Float64Array>(a: T, len: number): T => {
    const b = new (a.constructor as new (n: number) => T)(len);
    b.set(a);
    return b;
  };
  s.deg = grow(s.deg, cap);
  s.out = grow(s.out, cap * o.dim);
  s.iter = s.iter.map((a) => grow(a, cap * o.dim));
  s.moved = grow(s.moved, cap);
  s.err = grow(s.err, cap);
  s.ratio = grow(s.ratio, cap);
  s.cap = cap;
}

/** Exact Σₓ S[j,x]/dₓ per row from a compacted adjacency and the state's degrees. */
function ratioSums(csr: DynamicCsr, s: State): void {
  const { rowPtr, cols, vals } = csr;
  const n = Math.min(csr.baseRows, s.n);
  for (let j = 0; j < n; j++) {
    let r = 0;
    for (let p = rowPtr[j]!, e = rowPtr[j + 1]!; p < e; p++) {
      const d = s.deg[cols[p]!]!;
      if (d > 0) r += vals[p]! / d;
    }
    s.ratio[j] = r;
  }
}

function isZero(v: Float32Array): boolean {
  for (let c = 0; c < v.length; c++) if (v[c] !== 0) return false;
  return true;
}

function fingerprint(o: CompiledFastRPOptions): string {
  return JSON.stringify([o.dim, [...o.iterationWeights], o.normalizationStrength, o.sparsity, o.seed, o.selfWeight, o.contentDim]);
}
