import type { Interaction } from '@affinity/contracts';
import { SeededRandom } from '@affinity/contracts';
import type { Query, TaskName } from './types';

export interface TaskOptions {
  /** At most this many queries per task (a seeded sample, the same for every method). @defaultValue 3000 */
  maxQueries?: number;
  /** Seed of that sample. @defaultValue 1 */
  seed?: number;
}

const BROWSING = new Set<Interaction['type']>(['view', 'click']);
const BASKET = new Set<Interaction['type']>(['purchase', 'add_to_cart']);

function historyBucket(n: number): string {
  if (n <= 1) return 'history 1';
  if (n <= 4) return 'history 2-4';
  if (n <= 19) return 'history 5-19';
  return 'history 20+';
}

/** Popularity segment of an item by its training events: new, tail (bottom half of the items seen), head. */
function popularityBucket(count: number, median: number): string {
  if (count === 0) return 'item new';
  return count <= median ? 'item tail' : 'item head';
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    if (k === undefined) continue;
    const list = out.get(k);
    if (list) list.push(x);
    else out.set(k, [x]);
  }
  return out;
}

const distinct = (xs: readonly string[]): string[] => [...new Set(xs)];

function sample<T>(xs: T[], max: number, seed: number): T[] {
  if (xs.length <= max) return xs;
  const rng = new SeededRandom(seed);
  const copy = [...xs];
  // Partial Fisher–Yates: the first `max` positions are a uniform sample.
  for (let i = 0; i < max; i++) {
    const j = i + Math.floor(rng.next() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, max);
}

/**
 * The evaluation questions a split allows (see {@link TaskName}), each list read as of the
 * split. Items and shoppers are judged by what the training part knows about them.
 */
export function buildTasks(train: readonly Interaction[], test: readonly Interaction[], options: TaskOptions = {}): Map<TaskName, Query[]> {
  const maxQueries = options.maxQueries ?? 3000;
  const seed = options.seed ?? 1;
  const itemCount = new Map<string, number>();
  const userItems = new Map<string, Set<string>>();
  for (const e of train) {
    itemCount.set(e.productId, (itemCount.get(e.productId) ?? 0) + 1);
    let s = userItems.get(e.userId);
    if (!s) userItems.set(e.userId, (s = new Set()));
    s.add(e.productId);
  }
  const counts = [...itemCount.values()].sort((a, b) => a - b);
  const median = counts[Math.floor(counts.length / 2)] ?? 0;
  const tasks = new Map<TaskName, Query[]>();
  const add = (task: TaskName, q: Omit<Query, 'task'>) => {
    let list = tasks.get(task);
    if (!list) tasks.set(task, (list = []));
    list.push({ task, ...q });
  };

  // Baskets: purchases and add-to-carts of one order (or, without an order id, one session).
  const baskets = groupBy(
    test.filter((e) => BASKET.has(e.type)),
    (e) => e.orderId ?? `session:${e.sessionId}`,
  );
  for (const events of baskets.values()) {
    const items = distinct(events.map((e) => e.productId));
    if (items.length < 2) continue;
    for (const hidden of items) {
      const rest = items.filter((i) => i !== hidden);
      add('basket', { list: { kind: 'complementary', anchors: rest }, targets: new Set([hidden]), known: new Set(rest), segment: popularityBucket(itemCount.get(hidden) ?? 0, median) });
      if (!itemCount.has(hidden)) add('cold-items', { list: { kind: 'complementary', anchors: [hidden] }, targets: new Set(rest), known: new Set([hidden]), segment: 'item new' });
    }
  }

  // Browsing sessions: the next distinct item after each one.
  const sessions = groupBy(
    test.filter((e) => BROWSING.has(e.type)),
    (e) => e.sessionId,
  );
  for (const events of sessions.values()) {
    for (let i = 0; i + 1 < events.length; i++) {
      const a = events[i]!.productId;
      const b = events[i + 1]!.productId;
      if (a === b) continue;
      const task = itemCount.has(a) ? 'session' : 'cold-items';
      if (task === 'cold-items' && baskets.size > 0) continue;
      add(task, { list: { kind: 'similar', item: a }, targets: new Set([b]), known: new Set([a]), segment: popularityBucket(itemCount.get(a) ?? 0, median) });
    }
  }

  // Shoppers: the next basket and everything after the split.
  const byUser = groupBy(test, (e) => e.userId);
  for (const [user, events] of byUser) {
    const history = userItems.get(user);
    const items = new Set(events.map((e) => e.productId));
    if (!history) {
      add('cold-users', { list: { kind: 'personalized', user }, targets: items, known: new Set(), segment: 'history 0' });
      continue;
    }
    const segment = historyBucket(history.size);
    add('next-items', { list: { kind: 'personalized', user }, targets: items, known: new Set(), segment });
    const firstOrder = events.find((e) => e.orderId !== undefined && BASKET.has(e.type))?.orderId;
    if (firstOrder !== undefined) {
      const basket = new Set(events.filter((e) => e.orderId === firstOrder).map((e) => e.productId));
      add('next-basket', { list: { kind: 'personalized', user }, targets: basket, known: new Set(), segment });
    }
  }
  for (const [task, queries] of tasks) tasks.set(task, sample(queries, maxQueries, seed));
  return tasks;
}
