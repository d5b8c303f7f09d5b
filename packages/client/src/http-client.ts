import {
  AffinityError,
  RecommendationUpdate,
  UnavailableError,
  parseWith,
  type CatalogEventInput,
  type InteractionInput,
  type RecKind,
} from '@affinity/contracts';

export interface AffinityHttpClientOptions {
  /** e.g. `http://affinity-api` (no trailing slash needed). */
  baseUrl: string;
  /** Sent as `x-api-key`. */
  apiKey?: string;
  /** Per request. @defaultValue 10000 ms */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** API events may leave out what the server fills in. */
export type ProductInput = Omit<CatalogEventInput & { type: 'product.upsert' }, 'type' | 'eventId' | 'updatedAt'> & Partial<Pick<CatalogEventInput, 'eventId' | 'updatedAt'>>;
export type InteractionEventInput = Omit<InteractionInput, 'eventId' | 'ts'> & Partial<Pick<InteractionInput, 'eventId' | 'ts'>>;

export interface Accepted {
  accepted: number;
  eventIds: string[];
}

export interface SearchFilters {
  k?: number;
  brand?: string;
  /** Category path prefix, root first. */
  category?: readonly string[];
  minPrice?: number;
  maxPrice?: number;
  availability?: 'in_stock' | 'out_of_stock' | 'preorder' | 'discontinued';
  /** Extracted attributes, e.g. `{ color: 'red' }`. */
  attributes?: Readonly<Record<string, string>>;
}

export interface SearchResult {
  query: string;
  modelId: string;
  /** False when some index shard did not answer: results cover part of the catalog. */
  complete: boolean;
  missingShards: number[];
  results: { productId: string; score: number; item: Record<string, unknown> | null }[];
}

/** An error answer of the API, with its stable code and field issues. */
export class ApiError extends AffinityError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly issues: readonly { path: string; message: string }[] = [],
  ) {
    super(code, `${status} ${code}: ${message}`, { retriable: status === 429 || status >= 500 });
  }
}

/**
 * Typed client of the Affinity HTTP API. Lists come back parsed and validated with the same
 * schema the recommender publishes with; `undefined` means "no list yet" (404).
 */
export class AffinityHttpClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly o: AffinityHttpClientOptions) {
    this.base = o.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = o.fetch ?? fetch;
  }

  private headers(): Record<string, string> {
    return { 'content-type': 'application/json', ...(this.o.apiKey ? { 'x-api-key': this.o.apiKey } : {}) };
  }

  private async request(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}${path}`, {
        method,
        headers: this.headers(),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new UnavailableError(`${method} ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const text = await res.text();
    const json: unknown = text.length > 0 ? JSON.parse(text) : undefined;
    if (res.status >= 400 && res.status !== 404) {
      const e = (json ?? {}) as { error?: string; message?: string; issues?: { path: string; message: string }[] };
      throw new ApiError(res.status, e.error ?? 'HTTP', e.message ?? res.statusText, e.issues ?? []);
    }
    return { status: res.status, json };
  }

  async publishProducts(products: readonly ProductInput[]): Promise<Accepted> {
    return (await this.request('POST', '/v1/products', { events: products })).json as Accepted;
  }

  async deleteProduct(productId: string): Promise<Accepted> {
    return (await this.request('DELETE', `/v1/products/${encodeURIComponent(productId)}`)).json as Accepted;
  }

  async publishInteractions(events: readonly InteractionEventInput[]): Promise<Accepted> {
    return (await this.request('POST', '/v1/interactions', { events })).json as Accepted;
  }

  /** A stored list, or its first `k` items. */
  private async list(path: string, k: number | undefined): Promise<RecommendationUpdate | undefined> {
    const r = await this.request('GET', k === undefined ? path : `${path}?k=${k}`);
    if (r.status === 404) return undefined;
    return parseWith(RecommendationUpdate, r.json, 'recommendation list');
  }

  recommendations(userId: string, k?: number): Promise<RecommendationUpdate | undefined> {
    return this.list(`/v1/users/${encodeURIComponent(userId)}/recommendations`, k);
  }

  similar(productId: string, k?: number): Promise<RecommendationUpdate | undefined> {
    return this.list(`/v1/items/${encodeURIComponent(productId)}/similar`, k);
  }

  complementary(productId: string, k?: number): Promise<RecommendationUpdate | undefined> {
    return this.list(`/v1/items/${encodeURIComponent(productId)}/complementary`, k);
  }

  trending(k?: number): Promise<RecommendationUpdate | undefined> {
    return this.list('/v1/trending', k);
  }

  async search(query: string, f: SearchFilters = {}): Promise<SearchResult> {
    const p = new URLSearchParams({ q: query });
    if (f.k !== undefined) p.set('k', String(f.k));
    if (f.brand) p.set('brand', f.brand);
    if (f.category) p.set('category', f.category.join(' > '));
    if (f.minPrice !== undefined) p.set('minPrice', String(f.minPrice));
    if (f.maxPrice !== undefined) p.set('maxPrice', String(f.maxPrice));
    if (f.availability) p.set('availability', f.availability);
    for (const [k, v] of Object.entries(f.attributes ?? {})) p.set(`attr.${k}`, v);
    return (await this.request('GET', `/v1/search?${p.toString()}`)).json as SearchResult;
  }

  /**
   * Live updates of one list over server-sent events: the current list first, then every
   * change (`null` when the list was deleted). Returns a function that closes the stream.
   */
  subscribe(kind: RecKind, subjectId: string, onUpdate: (u: RecommendationUpdate | null) => void, onError?: (err: unknown) => void): () => void {
    const controller = new AbortController();
    void (async () => {
      const res = await this.fetchImpl(`${this.base}/v1/subscribe/${kind}/${encodeURIComponent(subjectId)}`, { headers: this.headers(), signal: controller.signal });
      if (!res.ok || !res.body) throw new ApiError(res.status, 'SUBSCRIBE', await res.text());
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === 'deleted') onUpdate(null);
          else if (event === 'update' && data) onUpdate(parseWith(RecommendationUpdate, JSON.parse(data), 'recommendation update'));
        }
      }
    })().catch((err: unknown) => {
      if (!controller.signal.aborted) onError?.(err);
    });
    return () => controller.abort();
  }
}

