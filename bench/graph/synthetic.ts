import { mulberry32, type Interaction, type InteractionType } from '@affinity/contracts';

/** The project's seeded PRNG (mulberry32), under the name the graph benches use. */
export const rng = mulberry32;

/** Inverse-CDF sampler of a Zipf(s) law over ranks 0..n−1. */
function zipf(n: number, s: number): (u: number) => number {
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let k = 0; k < n; k++) cdf[k] = acc += 1 / Math.pow(k + 1, s);
  for (let k = 0; k < n; k++) cdf[k]! /= acc;
  return (u) => {
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export interface SyntheticOptions {
  users: number;
  items: number;
  seed: number;
  /** Zipf exponents of item popularity and user activity (power-law degrees). */
  itemSkew: number;
  userSkew: number;
  /** Time span of the stream (ms); events are evenly spread over it. */
  spanMs: number;
}

const TYPES: ReadonlyArray<[InteractionType, number]> = [
  ['view', 0.7],
  ['click', 0.85],
  ['add_to_cart', 0.95],
  ['purchase', 1],
];

/**
 * A seeded, labelled synthetic interaction stream with power-law user and item degrees:
 * user ~ Zipf(userSkew), item ~ Zipf(itemSkew) (ranks shuffled by a hash so ids carry no
 * order), 70% views, 15% clicks, 10% carts, 5% purchases, one session per user and day.
 */
export function* syntheticStream(o: SyntheticOptions, count: number, startIndex = 0): Generator<Interaction> {
  const rand = rng(o.seed);
  const pickUser = zipf(o.users, o.userSkew);
  const pickItem = zipf(o.items, o.itemSkew);
  const t0 = Date.UTC(2026, 0, 1);
  const step = o.spanMs / Math.max(1, count + startIndex);
  for (let k = 0; k < startIndex + count; k++) {
    const u = pickUser(rand());
    const i = pickItem(rand());
    const r = rand();
    if (k < startIndex) continue;
    const type = TYPES.find(([, p]) => r < p)![0];
    const ts = Math.floor(t0 + k * step);
    const day = Math.floor((ts - t0) / 86_400_000);
    yield {
      type,
      eventId: `syn${o.seed}-${k}`,
      userId: `su${(u * 2654435761) % 4294967291}`,
      productId: `si${(i * 40503) % 1000003}`,
      sessionId: `ss${u}-${day}`,
      ...(type === 'purchase' ? { orderId: `so${u}-${day}` } : {}),
      ts,
    };
  }
}
