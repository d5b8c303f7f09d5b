import type { Interaction } from '@affinity/contracts';

export interface TimeSplit {
  /** Event time of the split: training events are older, test events are this old or newer. */
  splitTs: number;
  train: Interaction[];
  test: Interaction[];
}

/**
 * A global time split: the first `fraction` of the events (by count, in event time) train,
 * the rest is held out. An order is never cut in two: it belongs to the side of its first
 * event. Events without an order (views, ratings) are split by their own time, so a session in
 * progress at the split contributes its earlier part to training, as it would live.
 */
export function timeSplit(events: readonly Interaction[], fraction = 0.8): TimeSplit {
  if (events.length === 0) return { splitTs: 0, train: [], test: [] };
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  const splitTs = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!.ts;
  const orderStart = new Map<string, number>();
  for (const e of sorted) if (e.orderId !== undefined && !orderStart.has(e.orderId)) orderStart.set(e.orderId, e.ts);
  const train: Interaction[] = [];
  const test: Interaction[] = [];
  for (const e of sorted) {
    const t = e.orderId !== undefined ? orderStart.get(e.orderId)! : e.ts;
    (t < splitTs ? train : test).push(e);
  }
  return { splitTs, train, test };
}
