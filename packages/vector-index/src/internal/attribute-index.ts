import { ValidationError } from '@affinity/contracts';
import type { ItemAttributes, SearchFilter } from '../types';
import { Bitset } from './bitset';
import { Posting } from './posting';

/** The slots that satisfy a filter: a list when few, a bitset when many. */
export interface MatchSet {
  count: number;
  list: Uint32Array | null;
  bits: Bitset | null;
}

interface Clause {
  postings: Posting[];
  /** Upper bound of the matches: the sum of the postings' sizes. */
  estimate: number;
  /** Term ids any of which a slot must hold; null for the price clause. */
  termIds: Uint32Array | null;
  min: number;
  max: number;
}

/** Serialized form (see snapshot-io). */
export interface AttributeState {
  terms: (string | null)[];
  offsets: Uint32Array;
  termIds: Uint32Array;
  prices: Float64Array;
}

const SEP = '\u001f';
/** 8 buckets per doubling of price: a range's two edge buckets hold ~9% of an octave each. */
const PRICE_BUCKETS_PER_OCTAVE = 8;

export function fold(s: string): string {
  return s.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();
}

function priceBucket(p: number): number {
  return Math.floor(Math.log2(p + 1) * PRICE_BUCKETS_PER_OCTAVE);
}

function asList<T>(v: T | readonly T[] | undefined): readonly T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? (v as readonly T[]) : [v as T];
}

/** Term strings for an item: every category prefix, brand, availability, each name=value. */
export function termsOf(a: ItemAttributes): string[] {
  const out = new Set<string>();
  const path = a.categoryPath ?? [];
  let prefix = '';
  for (let i = 0; i < path.length; i++) {
    prefix = i === 0 ? fold(path[i]!) : prefix + SEP + fold(path[i]!);
    out.add(`c:${prefix}`);
  }
  if (a.brand !== undefined && a.brand !== '') out.add(`b:${fold(a.brand)}`);
  if (a.availability !== undefined) out.add(`a:${a.availability}`);
  for (const [name, value] of Object.entries(a.attributes ?? {})) {
    for (const v of asList(value)) out.add(`x:${fold(name)}=${fold(v)}`);
  }
  return [...out];
}

/**
 * Posting lists per attribute term (category prefix, brand, availability, name=value) and
 * price buckets, so a filter's match count and match set cost O(matches) or O(capacity/32)
 * words, never a scan of item records.
 */
export class AttributeIndex {
  private readonly termIds = new Map<string, number>();
  private terms: (string | null)[] = [];
  private postings: (Posting | undefined)[] = [];
  private freeTermIds: number[] = [];
  private slotTerms: (Uint32Array | undefined)[] = [];
  private prices = new Float64Array(0);
  private readonly priceBuckets = new Map<number, Posting>();
  capacity = 0;

  ensureCapacity(n: number): void {
    if (n <= this.capacity) return;
    const prices = new Float64Array(n).fill(NaN);
    prices.set(this.prices);
    this.prices = prices;
    this.slotTerms.length = n;
    this.capacity = n;
  }

  set(slot: number, a: ItemAttributes): void {
    const terms = termsOf(a);
    const ids = new Uint32Array(terms.length);
    for (let i = 0; i < terms.length; i++) {
      const id = this.internTerm(terms[i]!);
      ids[i] = id;
      this.postings[id]!.add(slot, this.capacity);
    }
    ids.sort();
    this.slotTerms[slot] = ids;
    const p = a.price;
    if (p !== undefined && Number.isFinite(p) && p >= 0) {
      this.prices[slot] = p;
      const b = priceBucket(p);
      let posting = this.priceBuckets.get(b);
      if (!posting) this.priceBuckets.set(b, (posting = new Posting()));
      posting.add(slot, this.capacity);
    } else this.prices[slot] = NaN;
  }

  clear(slot: number): void {
    const ids = this.slotTerms[slot];
    if (ids) {
      for (const id of ids) {
        const posting = this.postings[id]!;
        posting.delete(slot, this.capacity);
        if (posting.count === 0) this.releaseTerm(id);
      }
      this.slotTerms[slot] = undefined;
    }
    const p = this.prices[slot]!;
    if (!Number.isNaN(p)) {
      const b = priceBucket(p);
      const posting = this.priceBuckets.get(b)!;
      posting.delete(slot, this.capacity);
      if (posting.count === 0) this.priceBuckets.delete(b);
      this.prices[slot] = NaN;
    }
  }

  /** null when the filter constrains nothing. */
  match(filter: SearchFilter): MatchSet | null {
    const clauses = this.compile(filter);
    if (clauses === null) return null;
    if (clauses.length === 0 || clauses.some((c) => c.estimate === 0)) return { count: 0, list: null, bits: null };
    clauses.sort((a, b) => a.estimate - b.estimate);
    const first = clauses[0]!;
    // Walking the smallest clause's members costs O(estimate); building bitsets O(capacity/32) per clause.
    if (first.estimate * 32 <= this.capacity) {
      const out = new Uint32Array(first.estimate);
      let n = 0;
      const startCheck = first.termIds === null ? 0 : 1;
      for (let pi = 0; pi < first.postings.length; pi++) {
        first.postings[pi]!.forEach((slot) => {
          for (let pj = 0; pj < pi; pj++) if (first.postings[pj]!.has(slot)) return;
          for (let ci = startCheck; ci < clauses.length; ci++) if (!this.test(clauses[ci]!, slot)) return;
          out[n++] = slot;
        });
      }
      return { count: n, list: out.subarray(0, n), bits: null };
    }
    const bits = new Bitset(this.capacity);
    for (const p of first.postings) p.orInto(bits);
    const scratch = new Bitset(this.capacity);
    for (let ci = 1; ci < clauses.length; ci++) {
      scratch.words.fill(0);
      for (const p of clauses[ci]!.postings) p.orInto(scratch);
      const w = bits.words;
      const s = scratch.words;
      for (let i = 0; i < w.length; i++) w[i]! &= s[i]!;
    }
    const price = clauses.find((c) => c.termIds === null);
    if (price) {
      const prices = this.prices;
      bits.forEach((slot) => {
        const p = prices[slot]!;
        if (!(p >= price.min && p <= price.max)) bits.delete(slot);
      });
    }
    return { count: bits.count(), list: null, bits };
  }

  memoryBytes(): number {
    let bytes = this.prices.byteLength + this.capacity * 8;
    for (const ids of this.slotTerms) if (ids) bytes += ids.byteLength + 64;
    for (const p of this.postings) if (p) bytes += p.byteLength();
    for (const p of this.priceBuckets.values()) bytes += p.byteLength();
    for (const t of this.terms) if (t !== null) bytes += 2 * t.length + 80;
    return bytes;
  }

  exportState(slotsUsed: number): AttributeState {
    let total = 0;
    for (let s = 0; s < slotsUsed; s++) total += this.slotTerms[s]?.length ?? 0;
    const offsets = new Uint32Array(slotsUsed + 1);
    const termIds = new Uint32Array(total);
    let at = 0;
    for (let s = 0; s < slotsUsed; s++) {
      offsets[s] = at;
      const ids = this.slotTerms[s];
      if (ids) {
        termIds.set(ids, at);
        at += ids.length;
      }
    }
    offsets[slotsUsed] = at;
    return { terms: this.terms.slice(), offsets, termIds, prices: this.prices.slice(0, slotsUsed) };
  }

  importState(st: AttributeState, slotsUsed: number): void {
    this.ensureCapacity(Math.max(1, slotsUsed));
    this.terms = st.terms.slice();
    this.postings = this.terms.map((t) => (t === null ? undefined : new Posting()));
    this.termIds.clear();
    this.freeTermIds = [];
    this.terms.forEach((t, id) => {
      if (t === null) this.freeTermIds.push(id);
      else this.termIds.set(t, id);
    });
    for (let s = 0; s < slotsUsed; s++) {
      const from = st.offsets[s]!;
      const to = st.offsets[s + 1]!;
      if (to > from) {
        const ids = st.termIds.slice(from, to);
        for (const id of ids) {
          const posting = this.postings[id];
          if (!posting) throw new Error(`snapshot slot ${s} refers to unknown term ${id}`);
          posting.add(s, this.capacity);
        }
        this.slotTerms[s] = ids;
      }
      const p = st.prices[s]!;
      this.prices[s] = p;
      if (!Number.isNaN(p)) {
        const b = priceBucket(p);
        let posting = this.priceBuckets.get(b);
        if (!posting) this.priceBuckets.set(b, (posting = new Posting()));
        posting.add(s, this.capacity);
      }
    }
  }

  private test(c: Clause, slot: number): boolean {
    if (c.termIds === null) {
      const p = this.prices[slot]!;
      return p >= c.min && p <= c.max;
    }
    const have = this.slotTerms[slot];
    if (!have) return false;
    for (const id of c.termIds) if (binaryHas(have, id)) return true;
    return false;
  }

  /** null: no constraint at all. */
  private compile(f: SearchFilter): Clause[] | null {
    const clauses: Clause[] = [];
    const terms = (list: readonly string[]): void => {
      const ids: number[] = [];
      const postings: Posting[] = [];
      let estimate = 0;
      for (const t of new Set(list)) {
        const id = this.termIds.get(t);
        if (id === undefined) continue;
        ids.push(id);
        const p = this.postings[id]!;
        postings.push(p);
        estimate += p.count;
      }
      clauses.push({ postings, estimate, termIds: Uint32Array.from(ids), min: 0, max: 0 });
    };
    if (f.categoryPath !== undefined && f.categoryPath.length > 0) terms([`c:${f.categoryPath.map(requireString('categoryPath')).map(fold).join(SEP)}`]);
    const brands = asList(f.brand);
    if (brands.length > 0) terms(brands.map(requireString('brand')).map((b) => `b:${fold(b)}`));
    const avail = asList(f.availability);
    if (avail.length > 0) terms(avail.map(requireString('availability')).map((a) => `a:${a}`));
    for (const [name, value] of Object.entries(f.attributes ?? {})) {
      const values = asList(value);
      if (values.length > 0) terms(values.map(requireString(`attributes.${name}`)).map((v) => `x:${fold(name)}=${fold(v)}`));
    }
    if (f.price !== undefined && (f.price.min !== undefined || f.price.max !== undefined)) {
      const min = f.price.min ?? 0;
      const max = f.price.max ?? Infinity;
      if (Number.isNaN(min) || Number.isNaN(max) || min > max) {
        throw new ValidationError(`price filter needs min <= max, got ${String(f.price.min)}..${String(f.price.max)}`, [{ path: 'filter.price', message: 'min > max' }]);
      }
      const lo = priceBucket(Math.max(0, min));
      const hi = max === Infinity ? Infinity : priceBucket(max);
      const postings: Posting[] = [];
      let estimate = 0;
      for (const [b, p] of this.priceBuckets) {
        if (b >= lo && b <= hi) {
          postings.push(p);
          estimate += p.count;
        }
      }
      clauses.push({ postings, estimate, termIds: null, min, max });
    }
    return clauses.length === 0 ? null : clauses;
  }

  private internTerm(term: string): number {
    let id = this.termIds.get(term);
    if (id !== undefined) return id;
    id = this.freeTermIds.pop() ?? this.terms.length;
    this.termIds.set(term, id);
    this.terms[id] = term;
    this.postings[id] = new Posting();
    return id;
  }

  private releaseTerm(id: number): void {
    const term = this.terms[id]!;
    this.termIds.delete(term);
    this.terms[id] = null;
    this.postings[id] = undefined;
    this.freeTermIds.push(id);
  }
}

function requireString(path: string): (v: unknown) => string {
  return (v) => {
    if (typeof v !== 'string') throw new ValidationError(`filter.${path} must be a string or a list of strings`, [{ path: `filter.${path}`, message: 'not a string' }]);
    return v;
  };
}

function binaryHas(sorted: Uint32Array, x: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid]!;
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
