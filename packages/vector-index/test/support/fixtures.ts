import { AVAILABILITY } from '@affinity/contracts';
import type { ItemAttributes, SearchFilter } from '../../src/index';
import type { SyntheticSet } from './synthetic';

const BRANDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Tyrell'];
const COLOURS = ['red', 'blue', 'green', 'black', 'white'];
const ROOTS = ['Home', 'Garden', 'Toys', 'Books'];

/**
 * Attributes for item i: category and brand follow the vector's cluster (as in a catalog,
 * where similar products share a category), `sel` tags have independent known selectivity.
 */
export function attributesFor(set: SyntheticSet, i: number): ItemAttributes {
  const c = set.cluster[i]!;
  const u = set.u[i]!;
  return {
    categoryPath: [ROOTS[c % ROOTS.length]!, `Sub ${c % 7}`, `Leaf ${c}`],
    brand: BRANDS[(c * 7 + (i % 3)) % BRANDS.length]!,
    price: Math.round((5 + ((i * 37) % 995)) * 100) / 100,
    availability: AVAILABILITY[i % AVAILABILITY.length]!,
    attributes: {
      colour: i % 11 === 0 ? [COLOURS[i % 5]!, COLOURS[(i + 1) % 5]!] : COLOURS[i % 5]!,
      s50: u < 0.5 ? 'y' : 'n',
      s10: u < 0.1 ? 'y' : 'n',
      s1: u < 0.01 ? 'y' : 'n',
      s01: u < 0.001 ? 'y' : 'n',
    },
  };
}

function listOf<T>(v: T | readonly T[] | undefined): readonly T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? (v as readonly T[]) : [v as T];
}

const norm = (s: string): string => s.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();

/** Reference semantics of SearchFilter, written independently of the index. */
export function matchesFilter(a: ItemAttributes, f: SearchFilter): boolean {
  if (f.categoryPath && f.categoryPath.length > 0) {
    const path = a.categoryPath ?? [];
    if (path.length < f.categoryPath.length) return false;
    if (!f.categoryPath.every((p, i) => norm(p) === norm(path[i]!))) return false;
  }
  const brands = listOf(f.brand);
  if (brands.length > 0 && (a.brand === undefined || !brands.some((b) => norm(b) === norm(a.brand!)))) return false;
  const avail = listOf(f.availability);
  if (avail.length > 0 && (a.availability === undefined || !avail.includes(a.availability))) return false;
  for (const [name, want] of Object.entries(f.attributes ?? {})) {
    const wants = listOf(want);
    if (wants.length === 0) continue;
    const have = listOf(a.attributes?.[Object.keys(a.attributes ?? {}).find((k) => norm(k) === norm(name)) ?? '']).map(norm);
    if (!wants.some((w) => have.includes(norm(w)))) return false;
  }
  if (f.price && (f.price.min !== undefined || f.price.max !== undefined)) {
    if (a.price === undefined) return false;
    if (a.price < (f.price.min ?? 0) || a.price > (f.price.max ?? Infinity)) return false;
  }
  return true;
}
