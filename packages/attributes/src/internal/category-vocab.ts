import type { Token } from './tokenize';

/** How one surface form behaves for one attribute in one category. */
export interface ValueStat {
  attr: string;
  /** Most recent spelling as labelled. */
  surface: string;
  /** Titles in which this form was the attribute's labelled value. */
  labelled: number;
  /** Occurrences of the form in titles at all (labelled or not): labelled / seen estimates precision. */
  seen: number;
}

/** Vocabulary learned for one category (or for all of them, in the global one). */
export class CategoryVocab {
  titles = 0;
  /** token key → one stat per attribute that used this form. */
  readonly values = new Map<string, ValueStat[]>();
  /** Token key of a title's first n tokens → number of titles starting so. */
  readonly leading = new Map<string, number>();
  /** `${attr}\u0000${patternKind}` → [pattern match was exactly the labelled value, pattern matched]. */
  readonly patternStats = new Map<string, [number, number]>();
  /** Attributes that labelled titles of this category used. */
  readonly attrs = new Set<string>();
  /** Attribute → titles labelled with it. */
  readonly labelCounts = new Map<string, number>();
  /** Lower-cased token → titles containing it; rare words near the start are brands and model names. */
  readonly df = new Map<string, number>();

  /** Lower-cased token → attribute → titles where the token was inside that attribute's value. */
  readonly tokenAttrs = new Map<string, Map<string, number>>();

  addTokenAttr(token: string, attr: string, n = 1): void {
    let m = this.tokenAttrs.get(token);
    if (m === undefined) {
      m = new Map();
      this.tokenAttrs.set(token, m);
    }
    m.set(attr, (m.get(attr) ?? 0) + n);
  }

  addDocument(tokens: readonly Token[]): void {
    for (const w of new Set(tokens.map((t) => t.lower))) this.df.set(w, (this.df.get(w) ?? 0) + 1);
  }

  /** Every token-prefix of every key in `values`, so lookups stop as soon as no value can match. */
  readonly prefixes = new Set<string>();

  /** The stats list of `key`, created (and its prefixes indexed) on first use. */
  valueList(key: string): ValueStat[] {
    let list = this.values.get(key);
    if (list === undefined) {
      list = [];
      this.values.set(key, list);
      let at = key.indexOf(' ');
      while (at >= 0) {
        this.prefixes.add(key.slice(0, at));
        at = key.indexOf(' ', at + 1);
      }
      this.prefixes.add(key);
    }
    return list;
  }

  addLabel(key: string, attr: string, surface: string): void {
    const list = this.valueList(key);
    let st = list.find((s) => s.attr === attr);
    if (st === undefined) {
      st = { attr, surface, labelled: 0, seen: 0 };
      list.push(st);
    }
    st.labelled++;
    st.surface = surface;
    this.attrs.add(attr);
    this.labelCounts.set(attr, (this.labelCounts.get(attr) ?? 0) + 1);
  }

  addLeading(tokens: readonly Token[]): void {
    for (const k of leadingKeys(tokens)) this.leading.set(k, (this.leading.get(k) ?? 0) + 1);
  }

  addPatternStat(attr: string, kind: string, hit: boolean): void {
    const k = `${attr}\u0000${kind}`;
    const s = this.patternStats.get(k) ?? [0, 0];
    s[0] += hit ? 1 : 0;
    s[1] += 1;
    this.patternStats.set(k, s);
  }

  /** Laplace-smoothed share of pattern matches that were exactly the attribute's value, or undefined if never seen. */
  patternPrecision(attr: string, kind: string): number | undefined {
    const s = this.patternStats.get(`${attr}\u0000${kind}`);
    return s === undefined ? undefined : (s[0] + 1) / (s[1] + 2);
  }
}

const LEADING_STOP = new Set([',', '(', ')', '|', '–', '—', ':', ';', '[', ']', '/']);
export const MAX_LEADING_TOKENS = 6;

/** Keys of the title's first 1..6 tokens, stopping at a separator ("Arm & Hammer", "Dr. Martens" keep theirs). */
export function leadingKeys(tokens: readonly Token[]): string[] {
  const out: string[] = [];
  let k = '';
  for (let i = 0; i < Math.min(tokens.length, MAX_LEADING_TOKENS); i++) {
    const t = tokens[i] as Token;
    if (LEADING_STOP.has(t.text) || (t.text === '-' && i > 0)) break;
    k += (i > 0 ? ' ' : '') + t.lower;
    out.push(k);
  }
  return out;
}
