/** Counts behind a co-purchase (or co-session) relation between items x and y. */
export interface CoOccurrence {
  /** Baskets containing both. */
  both: number;
  /** Baskets containing x, and containing y. */
  x: number;
  y: number;
  /** All baskets. */
  total: number;
}

/** Lift P(x,y) / (P(x)·P(y)): > 1 means bought together more often than chance. */
export function lift(c: CoOccurrence): number {
  if (c.both <= 0 || c.x <= 0 || c.y <= 0 || c.total <= 0) return 0;
  return (c.both * c.total) / (c.x * c.y);
}

/**
 * Normalized PMI in [-1, 1] (Bouma, 2009): log(P(x,y)/(P(x)P(y))) / −log P(x,y).
 * Unlike lift it does not explode for rare items, which is what makes one global
 * threshold usable across the catalog.
 */
export function npmi(c: CoOccurrence): number {
  if (c.both <= 0 || c.x <= 0 || c.y <= 0 || c.total <= 0) return -1;
  const pxy = c.both / c.total;
  if (pxy >= 1) return 1;
  return Math.log(lift(c)) / -Math.log(pxy);
}

/**
 * NPMI shrunk towards 0 for small counts (c / (c + k)): two baskets sharing two rare
 * items should not outrank three hundred baskets sharing two popular ones.
 */
export function shrunkNpmi(c: CoOccurrence, k = 3): number {
  return npmi(c) * (c.both / (c.both + k));
}
