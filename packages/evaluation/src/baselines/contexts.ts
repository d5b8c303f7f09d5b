import type { Interaction } from '@affinity/contracts';

/** What a co-occurrence counts as "together": one order, one browsing session, or one shopper's history. */
export type ContextKind = 'basket' | 'session' | 'user';

const BASKET = new Set<Interaction['type']>(['purchase', 'add_to_cart']);

/**
 * Items as rows of a binary context × item matrix (each context holds distinct items, in
 * first-seen order), with the inverted index and lazily computed co-occurrence rows. The
 * common ground of the count-based baselines.
 */
export class ContextMatrix {
  readonly itemIds: string[] = [];
  readonly index = new Map<string, number>();
  readonly contexts: Int32Array[] = [];
  /** The order, session or shopper id of each context. */
  readonly contextKeys: string[] = [];
  /** Contexts holding each item. */
  readonly itemContexts: number[][] = [];
  private readonly rows = new Map<number, Map<number, number>>();

  constructor(events: readonly Interaction[], readonly kind: ContextKind) {
    const byContext = new Map<string, number[]>();
    for (const e of events) {
      let key: string;
      if (kind === 'basket') {
        if (!BASKET.has(e.type)) continue;
        key = e.orderId ?? e.sessionId;
      } else key = kind === 'session' ? e.sessionId : e.userId;
      const item = this.intern(e.productId);
      let list = byContext.get(key);
      if (!list) byContext.set(key, (list = []));
      if (!list.includes(item)) list.push(item);
    }
    for (const [key, items] of byContext) {
      const c = this.contexts.length;
      this.contextKeys.push(key);
      this.contexts.push(Int32Array.from(items));
      for (const i of items) this.itemContexts[i]!.push(c);
    }
  }

  private intern(id: string): number {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.itemIds.length;
      this.index.set(id, i);
      this.itemIds.push(id);
      this.itemContexts.push([]);
    }
    return i;
  }

  get itemCount(): number {
    return this.itemIds.length;
  }

  /** Contexts holding item i. */
  support(i: number): number {
    return this.itemContexts[i]!.length;
  }

  /** Co-occurrence counts of item i with every item it shares a context with (cached). */
  row(i: number): Map<number, number> {
    let r = this.rows.get(i);
    if (r) return r;
    r = new Map();
    for (const c of this.itemContexts[i]!) {
      for (const j of this.contexts[c]!) if (j !== i) r.set(j, (r.get(j) ?? 0) + 1);
    }
    this.rows.set(i, r);
    return r;
  }

  /** Item indices by support, most supported first. */
  byPopularity(): number[] {
    return Array.from({ length: this.itemCount }, (_, i) => i).sort((a, b) => this.support(b) - this.support(a) || a - b);
  }
}
