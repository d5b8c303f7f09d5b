import { encodeJson } from '@affinity/contracts';
import { ShardRegistry, type Redis, type ShardOwner } from '@affinity/store';
import { KnnResponse, type KnnFilter, type KnnHit } from './knn-protocol';

export interface IndexRouterOptions {
  redis: Redis;
  /** Registry namespace and group, as the indexers were configured. */
  namespace: string;
  group: string;
  /** Number of shards = partitions of products.enriched.v1. */
  shardCount: number;
  /** Per-request timeout (ms). @defaultValue 1000 */
  timeoutMs?: number;
  /** How long a registry read is reused (ms). @defaultValue 1000 */
  registryCacheMs?: number;
  fetch?: typeof fetch;
}

export interface RoutedSearch {
  modelId: string;
  vector: Float32Array;
  k: number;
  filter?: KnnFilter;
  ef?: number;
  exclude?: readonly string[];
}

export interface RoutedResult {
  hits: KnnHit[];
  /** False when any shard did not answer: the hits are then from part of the catalog only. */
  complete: boolean;
  answered: number[];
  missing: number[];
}

/**
 * Scatter-gather kNN across vector-index shards. Each live owner gets one request for all
 * the shards it holds; the per-shard top-k lists are merged by score. A shard with no live
 * owner, a timeout or an error is reported in `missing` (and `complete: false`) instead of
 * silently returning fewer results.
 */
export class IndexRouter {
  private cached: { at: number; owners: ShardOwner[] } | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: IndexRouterOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  async owners(): Promise<ShardOwner[]> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < (this.options.registryCacheMs ?? 1000)) return this.cached.owners;
    const owners = await ShardRegistry.read(this.options.redis, this.options.namespace, this.options.group);
    this.cached = { at: now, owners };
    return owners;
  }

  async search(q: RoutedSearch): Promise<RoutedResult> {
    const owners = (await this.owners()).filter((o) => o.alive && o.partition < this.options.shardCount);
    const byUrl = new Map<string, number[]>();
    for (const o of owners) byUrl.set(o.url, [...(byUrl.get(o.url) ?? []), o.partition]);
    const answered = new Set<number>();
    const hits: KnnHit[] = [];
    await Promise.all(
      [...byUrl].map(async ([url, partitions]) => {
        try {
          const res = await this.fetchImpl(`${url.replace(/\/$/, '')}/knn`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: encodeJson({ modelId: q.modelId, vector: q.vector, k: q.k, filter: q.filter, ef: q.ef, partitions, exclude: q.exclude }),
            signal: AbortSignal.timeout(this.options.timeoutMs ?? 1000),
          });
          if (!res.ok) return;
          const body = KnnResponse.parse(await res.json());
          for (const p of body.answered) answered.add(p);
          hits.push(...body.hits);
        } catch {
          // Reported below as missing shards.
        }
      }),
    );
    if (answered.size < byUrl.size || owners.length < this.options.shardCount) this.cached = undefined;
    const missing: number[] = [];
    for (let p = 0; p < this.options.shardCount; p++) if (!answered.has(p)) missing.push(p);
    const seen = new Set<string>();
    const merged = hits
      .sort((a, b) => b.score - a.score)
      .filter((h) => (seen.has(h.id) ? false : (seen.add(h.id), true)))
      .slice(0, q.k);
    return { hits: merged, complete: missing.length === 0, answered: [...answered].sort((a, b) => a - b), missing };
  }
}
