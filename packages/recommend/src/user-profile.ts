import { normalizeInPlace } from './vector-math';

export interface ProfileEvent {
  vector: Float32Array;
  /** Interaction weight (view < click < add_to_cart < purchase). */
  weight: number;
  /** Epoch ms. */
  ts: number;
}

export interface UserProfileOptions {
  /** Half-life of an interaction's influence. @defaultValue 7 days */
  halfLifeMs?: number;
}

/**
 * A user's taste as one vector: the time-decayed, weighted mean of the (unit) vectors of the
 * items they interacted with, renormalized. Returns undefined when there is no history.
 */
export function userProfile(events: readonly ProfileEvent[], now: number, options: UserProfileOptions = {}): Float32Array | undefined {
  const first = events[0];
  if (first === undefined) return undefined;
  const halfLife = options.halfLifeMs ?? 7 * 24 * 3600 * 1000;
  const out = new Float32Array(first.vector.length);
  let total = 0;
  for (const e of events) {
    if (e.vector.length !== out.length) continue;
    const w = e.weight * 0.5 ** (Math.max(0, now - e.ts) / halfLife);
    if (!(w > 0)) continue;
    total += w;
    for (let i = 0; i < out.length; i++) out[i]! += w * e.vector[i]!;
  }
  return total > 0 ? normalizeInPlace(out) : undefined;
}

/** Interaction weights used by the profile and the trending counts. */
export const INTERACTION_WEIGHT = { view: 1, click: 2, add_to_cart: 4, purchase: 8, rating: 3 } as const;

/**
 * Forward decay (Cormode et al., ICDE 2009): adding w·2^((t − epoch)/halfLife) to a score
 * makes every stored score decay at the same rate without ever rewriting old entries, so
 * trending counters stay O(1) per event in a Redis sorted set. Divide by
 * 2^((now − epoch)/halfLife) to read a score back in "recent interactions" units.
 */
export function forwardDecayIncrement(weight: number, ts: number, epoch: number, halfLifeMs: number): number {
  return weight * 2 ** ((ts - epoch) / halfLifeMs);
}

export function forwardDecayValue(stored: number, now: number, epoch: number, halfLifeMs: number): number {
  return stored / 2 ** ((now - epoch) / halfLifeMs);
}
