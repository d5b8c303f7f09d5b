import { DynamicCsr } from './dynamic-csr';

/**
 * Item–item co-occurrence counts over "baskets" (an order, or a session): how many baskets
 * hold each item, how many hold each pair, and how many baskets there are, which is all
 * that lift and PMI need. A pair counts once per basket however often it is repeated.
 *
 * Open baskets are bounded (the oldest opened is closed first) and so is a basket's size: a bot
 * session with thousands of views would otherwise cost O(k²) pair updates.
 */
export class BasketPairs {
  readonly pairs = new DynamicCsr(1024, 1024);
  itemBaskets = new Float64Array(1024);
  basketCount = 0;
  private readonly open = new Map<string, number[]>();
  // Oldest-opened first; a ring, not the Map's iterator (see DedupeWindow for why).
  private readonly ring: Array<string | undefined>;
  private pos = 0;

  constructor(
    readonly maxBasketItems: number,
    readonly maxOpenBaskets: number,
  ) {
    this.ring = new Array<string | undefined>(maxOpenBaskets);
  }

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
      this.remember(basket, items);
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

  /** Open baskets, oldest first. */
  openBaskets(): Array<[string, number[]]> {
    const out: Array<[string, number[]]> = [];
    for (let k = 0; k < this.maxOpenBaskets; k++) {
      const key = this.ring[(this.pos + k) % this.maxOpenBaskets];
      if (key !== undefined) out.push([key, this.open.get(key)!]);
    }
    return out;
  }

  loadOpen(entries: ReadonlyArray<readonly [string, readonly number[]]>): void {
    this.open.clear();
    this.ring.fill(undefined);
    this.pos = 0;
    for (const [k, v] of entries.slice(Math.max(0, entries.length - this.maxOpenBaskets))) this.remember(k, [...v]);
  }

  /** Opens a basket, closing the oldest one when the bound is reached. */
  private remember(basket: string, items: number[]): void {
    const evicted = this.ring[this.pos];
    if (evicted !== undefined) this.open.delete(evicted);
    this.ring[this.pos] = basket;
    this.pos = (this.pos + 1) % this.maxOpenBaskets;
    this.open.set(basket, items);
  }
}
