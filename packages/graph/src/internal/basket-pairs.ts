import { DynamicCsr } from './dynamic-csr';

/**
 * Item–item co-occurrence counts over "baskets" (an order, or a session): how many baskets
 * hold each item, how many hold each pair, and how many baskets there are, which is all
 * that lift and PMI need. A pair counts once per basket however often it is repeated.
 *
 * Open baskets are bounded (least recently used evicted) and so is a basket's size: a bot
 * session with thousands of views would otherwise cost O(k²) pair updates.
 */
export class BasketPairs {
  readonly pairs = new DynamicCsr(1024, 1024);
  itemBaskets = new Float64Array(1024);
  basketCount = 0;
  private readonly open = new Map<string, number[]>();

  constructor(
    readonly maxBasketItems: number,
    readonly maxOpenBaskets: number,
  ) {}

  ensureNodes(n: number): void {
    this.pairs.ensureNodes(n);
    if (n > this.itemBaskets.length) {
      const next = new Float64Array(Math.max(n, this.itemBaskets.length * 2));
      next.set(this.itemBaskets);
      this.itemBaskets = next;
    }
  }

  add(basket: string, item: number): void {
    let items = this.open.get(basket);
    if (items === undefined) {
      items = [];
      this.basketCount++;
    } else {
      this.open.delete(basket);
    }
    this.open.set(basket, items);
    if (this.open.size > this.maxOpenBaskets) {
      const oldest = this.open.keys().next();
      if (oldest.done !== true) this.open.delete(oldest.value);
    }
    if (items.length >= this.maxBasketItems || items.includes(item)) return;
    this.itemBaskets[item]! += 1;
    for (const other of items) this.pairs.addUndirected(item, other, 1);
    items.push(item);
  }

  /** lift = P(a,b) / (P(a)·P(b)) = c_ab·B / (c_a·c_b); PMI = ln(lift). */
  lift(a: number, b: number, count: number): number {
    const ca = this.itemBaskets[a] ?? 0;
    const cb = this.itemBaskets[b] ?? 0;
    return ca > 0 && cb > 0 ? (count * this.basketCount) / (ca * cb) : 0;
  }

  maybeCompact(ratio: number, minDelta: number): void {
    const csr = this.pairs;
    if (csr.deltaCount >= minDelta && csr.deltaCount > ratio * csr.rowPtr[csr.baseRows]!) csr.compact();
  }

  openBaskets(): Array<[string, number[]]> {
    return [...this.open.entries()];
  }

  loadOpen(entries: ReadonlyArray<readonly [string, readonly number[]]>): void {
    this.open.clear();
    for (const [k, v] of entries) this.open.set(k, [...v]);
  }
}
