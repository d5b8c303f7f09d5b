import { CUTOFFS, type MetricName, type Query, type RankedItem } from './types';

export type QueryMetrics = Record<MetricName, number> & { length: number };

/**
 * Recall, NDCG and MRR at each cut-off for one query. Items the shopper already has in view
 * (`known`) are removed from the list first; the rest keeps its order.
 */
export function scoreQuery(query: Query, list: readonly RankedItem[]): { metrics: QueryMetrics; shown: string[] } {
  const shown: string[] = [];
  const seen = new Set<string>();
  for (const r of list) {
    if (query.known.has(r.productId) || seen.has(r.productId)) continue;
    seen.add(r.productId);
    shown.push(r.productId);
  }
  const metrics = { length: shown.length } as QueryMetrics;
  const n = query.targets.size;
  for (const k of CUTOFFS) {
    let hits = 0;
    let dcg = 0;
    let rr = 0;
    for (let i = 0; i < Math.min(k, shown.length); i++) {
      if (!query.targets.has(shown[i]!)) continue;
      hits++;
      dcg += 1 / Math.log2(i + 2);
      if (rr === 0) rr = 1 / (i + 1);
    }
    let ideal = 0;
    for (let i = 0; i < Math.min(k, n); i++) ideal += 1 / Math.log2(i + 2);
    metrics[`recall@${k}`] = n > 0 ? hits / n : 0;
    metrics[`ndcg@${k}`] = ideal > 0 ? dcg / ideal : 0;
    metrics[`mrr@${k}`] = rr;
  }
  return { metrics, shown };
}

export interface Aggregate {
  queries: number;
  metrics: Record<MetricName, number>;
  /** Mean list length after removing known items, and the share of empty lists. */
  meanLength: number;
  emptyShare: number;
  /** Distinct items shown in the top 20 over all queries, as a share of the catalog. */
  coverage: number;
  /**
   * Mean popularity percentile (0 = least, 1 = most popular item in training; 0 for items
   * without training events) of the items shown in the top 20.
   */
  popularityBias: number;
  /** Recall@20 (and count) per segment. */
  segments: Record<string, { queries: number; recall: number }>;
  /** Per source: share of top-20 items it carried, and share of the hits (pipeline only). */
  sources?: Record<string, { shown: number; hits: number }>;
  /** Recall at every cut-off 1..20 (for the recall-vs-K plot). */
  recallCurve: number[];
}

export class Aggregator {
  private n = 0;
  private readonly sums = new Map<string, number>();
  private empty = 0;
  private readonly items = new Set<string>();
  private popSum = 0;
  private popN = 0;
  private readonly segs = new Map<string, { queries: number; recall: number }>();
  private readonly sourceShown = new Map<string, number>();
  private readonly sourceHits = new Map<string, number>();
  private shownTotal = 0;
  private hitsTotal = 0;
  private readonly curve = new Float64Array(20);

  constructor(
    private readonly catalogSize: number,
    private readonly popularityPercentile: (id: string) => number,
  ) {}

  add(query: Query, list: readonly RankedItem[]): QueryMetrics {
    const { metrics, shown } = scoreQuery(query, list);
    this.n++;
    for (const [k, v] of Object.entries(metrics)) this.sums.set(k, (this.sums.get(k) ?? 0) + v);
    if (shown.length === 0) this.empty++;
    const source = new Map(list.map((r) => [r.productId, r.source]));
    for (let i = 0; i < Math.min(20, shown.length); i++) {
      const id = shown[i]!;
      this.items.add(id);
      this.popSum += this.popularityPercentile(id);
      this.popN++;
      const hit = query.targets.has(id);
      const s = source.get(id);
      if (s !== undefined) {
        this.sourceShown.set(s, (this.sourceShown.get(s) ?? 0) + 1);
        this.shownTotal++;
        if (hit) {
          this.sourceHits.set(s, (this.sourceHits.get(s) ?? 0) + 1);
          this.hitsTotal++;
        }
      }
    }
    // Recall@k for k = 1..20.
    let running = 0;
    for (let i = 0; i < 20; i++) {
      if (i < shown.length && query.targets.has(shown[i]!)) running++;
      this.curve[i]! += query.targets.size > 0 ? running / query.targets.size : 0;
    }
    const seg = this.segs.get(query.segment) ?? { queries: 0, recall: 0 };
    seg.queries++;
    seg.recall += metrics['recall@20'];
    this.segs.set(query.segment, seg);
    return metrics;
  }

  result(): Aggregate {
    const mean = (k: string) => (this.n > 0 ? (this.sums.get(k) ?? 0) / this.n : 0);
    const metrics = {} as Record<MetricName, number>;
    for (const k of ['recall@10', 'recall@20', 'ndcg@10', 'ndcg@20', 'mrr@10', 'mrr@20'] as const) metrics[k] = mean(k);
    const segments: Aggregate['segments'] = {};
    for (const [s, v] of [...this.segs].sort()) segments[s] = { queries: v.queries, recall: v.queries > 0 ? v.recall / v.queries : 0 };
    const out: Aggregate = {
      queries: this.n,
      metrics,
      meanLength: mean('length'),
      emptyShare: this.n > 0 ? this.empty / this.n : 0,
      coverage: this.catalogSize > 0 ? this.items.size / this.catalogSize : 0,
      popularityBias: this.popN > 0 ? this.popSum / this.popN : 0,
      segments,
      recallCurve: [...this.curve].map((v) => (this.n > 0 ? v / this.n : 0)),
    };
    if (this.shownTotal > 0) {
      out.sources = {};
      for (const [s, c] of [...this.sourceShown].sort((a, b) => b[1] - a[1])) {
        out.sources[s] = { shown: c / this.shownTotal, hits: this.hitsTotal > 0 ? (this.sourceHits.get(s) ?? 0) / this.hitsTotal : 0 };
      }
    }
    return out;
  }
}
