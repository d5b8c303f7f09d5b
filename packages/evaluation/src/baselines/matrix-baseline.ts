import type { Interaction } from '@affinity/contracts';
import type { Method, Query, RankedItem, TrainingData } from '../types';
import { ContextMatrix, type ContextKind } from './contexts';
import { topK } from './scoring';

/** Whether a personalized list may hold items the shopper already has (groceries are rebought; films are not). */
export type HistoryPolicy = 'include' | 'exclude';

export interface MatrixBaselineOptions {
  history?: HistoryPolicy;
}

const MATRICES = new WeakMap<readonly Interaction[], Map<ContextKind, ContextMatrix>>();

/** One matrix per training log and context kind, shared by every baseline (and its co-occurrence cache). */
function sharedMatrix(events: readonly Interaction[], kind: ContextKind): ContextMatrix {
  let byKind = MATRICES.get(events);
  if (!byKind) MATRICES.set(events, (byKind = new Map()));
  let m = byKind.get(kind);
  if (!m) byKind.set(kind, (m = new ContextMatrix(events, kind)));
  return m;
}

/** The list kind each context kind answers. */
const CONTEXT_OF: Record<Query['list']['kind'], ContextKind> = { complementary: 'basket', similar: 'session', personalized: 'user' };

/**
 * A baseline scoring items from a context × item matrix: complementary lists from baskets,
 * similar lists from sessions, personalized lists from each shopper's whole history
 * (scored from every item in it, the textbook item-based recommender).
 */
export abstract class MatrixBaseline implements Method {
  readonly kind = 'baseline' as const;
  /** What the baseline is, without its settings. */
  protected abstract readonly label: string;
  private train: TrainingData | undefined;
  private readonly popular = new Map<ContextKind, number[]>();
  private readonly prepared = new Set<ContextKind>();
  private readonly userContext = new Map<string, Int32Array>();
  protected readonly history: HistoryPolicy;

  constructor(options: MatrixBaselineOptions = {}) {
    this.history = options.history ?? 'exclude';
  }

  async fit(train: TrainingData): Promise<void> {
    this.train = train;
    this.prepared.clear();
    this.popular.clear();
    this.userContext.clear();
  }

  protected matrix(kind: ContextKind): ContextMatrix {
    const m = sharedMatrix(this.train!.events, kind);
    if (this.prepared.has(kind)) return m;
    this.prepared.add(kind);
    this.prepare(m);
    if (kind === 'user') m.contextKeys.forEach((u, c) => this.userContext.set(u, m.contexts[c]!));
    return m;
  }

  /** The baseline and its settings, e.g. "ItemKNN (cosine), history exclude". */
  get name(): string {
    return [this.label, ...this.settings()].join(', ');
  }

  protected settings(): string[] {
    return [`history ${this.history}`];
  }

  /** Called once per matrix after it is built (precompute model state). */
  protected prepare(_m: ContextMatrix): void {}

  /** Scores of candidate items given anchor items (indices into `m`). */
  protected abstract score(m: ContextMatrix, anchors: readonly number[]): Map<number, number>;

  async recommend(query: Query, k: number): Promise<RankedItem[]> {
    const kind = CONTEXT_OF[query.list.kind];
    const m = this.matrix(kind);
    let popular = this.popular.get(kind);
    if (!popular) this.popular.set(kind, (popular = m.byPopularity().slice(0, 1000)));
    let anchors: number[];
    const skip = new Set<number>();
    switch (query.list.kind) {
      case 'complementary':
        anchors = query.list.anchors.flatMap((a) => (m.index.has(a) ? [m.index.get(a)!] : []));
        for (const a of anchors) skip.add(a);
        break;
      case 'similar': {
        const i = m.index.get(query.list.item);
        anchors = i === undefined ? [] : [i];
        if (i !== undefined) skip.add(i);
        break;
      }
      case 'personalized':
        anchors = [...(this.userContext.get(query.list.user) ?? [])];
        if (this.history === 'exclude') for (const a of anchors) skip.add(a);
        break;
    }
    const scores = anchors.length > 0 ? this.score(m, anchors) : new Map<number, number>();
    return topK(m, scores, k, skip, popular);
  }
}

/** Most popular items (contexts holding them), the same list for every query. */
export class PopularityBaseline extends MatrixBaseline {
  protected readonly label = 'popularity';
  protected score(): Map<number, number> {
    return new Map();
  }
}

/** Sum over anchors of raw co-occurrence counts. */
export class CoCountBaseline extends MatrixBaseline {
  protected readonly label = 'co-occurrence counts';
  protected score(m: ContextMatrix, anchors: readonly number[]): Map<number, number> {
    const out = new Map<number, number>();
    for (const a of anchors) for (const [c, n] of m.row(a)) out.set(c, (out.get(c) ?? 0) + n);
    return out;
  }
}

/** ItemKNN: sum over anchors of the cosine between item columns, c(a,b) / √(n_a·n_b). */
export class ItemKnnBaseline extends MatrixBaseline {
  protected readonly label = 'ItemKNN (cosine)';
  protected score(m: ContextMatrix, anchors: readonly number[]): Map<number, number> {
    const out = new Map<number, number>();
    for (const a of anchors) {
      const na = m.support(a);
      for (const [c, n] of m.row(a)) out.set(c, (out.get(c) ?? 0) + n / Math.sqrt(na * m.support(c)));
    }
    return out;
  }
}
