import type { Token } from './tokenize';

/** Longest value, in tokens, that lookups consider. */
export const MAX_VALUE_TOKENS = 8;

/** Key of a token range: the lower-cased tokens joined by spaces, so "Black/White" → "black / white". */
export function tokenKey(tokens: readonly Token[], start: number, end: number): string {
  let k = '';
  for (let i = start; i < end; i++) k += (i > start ? ' ' : '') + (tokens[i] as Token).lower;
  return k;
}

export interface GazetteerHit<T> {
  start: number;
  end: number;
  key: string;
  entry: T;
}

/**
 * Every token range of `tokens` whose key is in `index` (all lengths, overlapping), in start order.
 * `prefixes` (every token-prefix of every key) ends a scan as soon as no longer key can match.
 */
export function lookupAll<T>(tokens: readonly Token[], index: ReadonlyMap<string, T>, prefixes: ReadonlySet<string>, maxTokens = MAX_VALUE_TOKENS): GazetteerHit<T>[] {
  const out: GazetteerHit<T>[] = [];
  for (let s = 0; s < tokens.length; s++) {
    let k = '';
    for (let e = s + 1; e <= Math.min(tokens.length, s + maxTokens); e++) {
      k += (e > s + 1 ? ' ' : '') + (tokens[e - 1] as Token).lower;
      if (!prefixes.has(k)) break;
      const entry = index.get(k);
      if (entry !== undefined) out.push({ start: s, end: e, key: k, entry });
    }
  }
  return out;
}

/** Token range [start, end) whose characters are exactly [from, to), or undefined if not aligned. */
export function alignSpan(tokens: readonly Token[], from: number, to: number): [number, number] | undefined {
  let s = -1;
  for (let i = 0; i < tokens.length; i++) {
    const tk = tokens[i] as Token;
    if (tk.start === from) s = i;
    if (s >= 0 && tk.end === to) return [s, i + 1];
    if (tk.start > to) break;
  }
  return undefined;
}
