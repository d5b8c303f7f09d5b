import { findPatterns, type PatternMatch } from '../patterns';
import { type CategoryVocab, type ValueStat, leadingKeys } from './category-vocab';
import { hashFeature } from './crf';
import { type GazetteerHit, lookupAll } from './gazetteer';
import type { TokenClusters } from '../token-clusters';
import { type Token, tokenize } from './tokenize';

/** Everything extraction needs to know about one title (or description), computed once. */
export interface TextAnalysis {
  text: string;
  tokens: Token[];
  patterns: PatternMatch[];
  /** Token range of each pattern match (undefined when not token-aligned). */
  patternTokens: ([number, number] | undefined)[];
  hits: GazetteerHit<ValueStat[]>[];
  globalHits: GazetteerHit<ValueStat[]>[];
}

/**
 * What the title itself contributed to the vocabulary. Training subtracts it so that a title never
 * sees its own labels as gazetteer evidence (leave-one-out), which keeps the CRF from learning to
 * trust gazetteer features more than unseen titles will deserve.
 */
export interface OwnContribution {
  /** `${attr}\u0000${key}` of the title's labelled values. */
  labels: Set<string>;
  /** `${attr}\u0000${token}` of the tokens inside the title's labelled values. */
  tokenAttrs: Set<string>;
}

export function analyseText(text: string, vocab: CategoryVocab | undefined, global: CategoryVocab | undefined): TextAnalysis {
  const tokens = tokenize(text);
  const patterns = findPatterns(text);
  const patternTokens = patterns.map((p) => {
    let s = -1;
    let e = -1;
    tokens.forEach((t, i) => {
      if (t.start >= p.start && t.end <= p.end) {
        if (s < 0) s = i;
        e = i + 1;
      }
    });
    return s >= 0 ? ([s, e] as [number, number]) : undefined;
  });
  const hits = vocab === undefined ? [] : lookupAll(tokens, vocab.values, vocab.prefixes);
  const globalHits = global === undefined ? [] : lookupAll(tokens, global.values, global.prefixes);
  return { text, tokens, patterns, patternTokens, hits, globalHits };
}

/** Character classes with runs collapsed: "Women's" → "Xx'x", "17.6oz" → "d.dx". */
function shape(t: string): string {
  let s = '';
  let last = '';
  for (const ch of t) {
    const lo = ch.toLowerCase();
    const up = ch.toUpperCase();
    const c = lo !== up ? (ch === up ? 'X' : 'x') : ch >= '0' && ch <= '9' ? 'd' : ch;
    if (c !== last) s += c;
    last = c;
  }
  return s;
}

// Conjoining every feature with the category doubles the cost; these are the ones whose meaning
// differs most between categories (which word, where, which gazetteer).
const CONJOINED = /^(?:b|w=|w-1=|w\+1=|pos=|seg=|g:|ld:|p:|df=[^|]*$)/;

const SEPARATORS = new Set([',', '(', ')', '|', '–', '—', '-', ':', ';', '[', ']']);

function bucket(n: number): string {
  return n >= 10 ? '10' : n >= 4 ? '4' : n >= 2 ? '2' : '1';
}

function dfBucket(n: number): string {
  return n <= 0 ? '0' : n === 1 ? '1' : n <= 3 ? '3' : n <= 9 ? '9' : n <= 29 ? '29' : 'many';
}

function lpBucket(lp: number): string {
  return lp >= 0.7 ? 'h' : lp >= 0.3 ? 'm' : 'l';
}

function position(i: number, s: number, e: number): string {
  return e - s === 1 ? 'S' : i === s ? 'B' : i === e - 1 ? 'E' : 'I';
}

function addGazetteer(
  feats: string[][],
  hits: readonly GazetteerHit<ValueStat[]>[],
  prefix: string,
  own: OwnContribution | undefined,
): void {
  const occurrences = new Map<string, number>();
  if (own !== undefined) for (const h of hits) occurrences.set(h.key, (occurrences.get(h.key) ?? 0) + 1);
  for (const h of hits) {
    for (const st of h.entry) {
      let labelled = st.labelled;
      let seen = st.seen;
      if (own !== undefined) {
        labelled -= own.labels.has(`${st.attr}\u0000${h.key}`) ? 1 : 0;
        seen -= occurrences.get(h.key) ?? 0;
      }
      if (labelled <= 0) continue;
      const lp = lpBucket(labelled / Math.max(seen, labelled, 1));
      for (let i = h.start; i < h.end; i++) {
        const f = feats[i] as string[];
        const pos = position(i, h.start, h.end);
        f.push(`${prefix}${st.attr}:${pos}`, `${prefix}${st.attr}:${pos}${lp}`);
      }
    }
  }
}

/**
 * Feature strings per token. Features are emitted plain and, for the templates in `CONJOINED`, also
 * conjoined with the category, so categories share what generalizes (brands open titles everywhere)
 * and keep what doesn't (Daumé III, "Frustratingly Easy Domain Adaptation", ACL 2007).
 */
export function featureStrings(
  a: TextAnalysis,
  categoryKey: string,
  vocab: CategoryVocab | undefined,
  own: OwnContribution | undefined,
  clusters?: TokenClusters,
): string[][] {
  const { tokens } = a;
  const T = tokens.length;
  const feats: string[][] = tokens.map(() => []);
  let seg = 0;
  let segStart = 0;
  const segOf: number[] = [];
  const segPos: number[] = [];
  tokens.forEach((t, i) => {
    if (SEPARATORS.has(t.text) && i > 0) {
      seg++;
      segStart = i + 1;
    }
    segOf.push(seg);
    segPos.push(i - segStart);
  });
  const w = (i: number): string => (i < 0 ? '<s>' : i >= T ? '</s>' : (tokens[i] as Token).lower);
  const shapes = tokens.map((t) => shape(t.text));
  const sh = (i: number): string => (i < 0 ? '^' : i >= T ? '$' : (shapes[i] as string));
  for (let i = 0; i < T; i++) {
    const t = tokens[i] as Token;
    const f = feats[i] as string[];
    f.push(
      'b',
      `w=${t.lower}`,
      `sh=${sh(i)}`,
      `w-1=${w(i - 1)}`,
      `w+1=${w(i + 1)}`,
      `w-2=${w(i - 2)}`,
      `w+2=${w(i + 2)}`,
      `bg-=${w(i - 1)}|${t.lower}`,
      `bg+=${t.lower}|${w(i + 1)}`,
      `pos=${Math.min(i, 6)}`,
      `rpos=${Math.min(T - 1 - i, 4)}`,
      `seg=${Math.min(segOf[i] ?? 0, 4)}`,
      `segpos=${Math.min(segPos[i] ?? 0, 4)}`,
      `shp=${sh(i - 1)}|${sh(i)}|${sh(i + 1)}`,
    );
    if (t.kind === 'word' && t.lower.length > 3) f.push(`p3=${t.lower.slice(0, 3)}`, `s3=${t.lower.slice(-3)}`);
    if (vocab !== undefined && t.kind !== 'punct') {
      const df = dfBucket((vocab.df.get(t.lower) ?? 0) - (own !== undefined ? 1 : 0));
      f.push(`df=${df}`, `df=${df}|${Math.min(i, 4)}`, `df=${df}|${dfBucket((vocab.df.get(w(i - 1)) ?? 0) - (own !== undefined && i > 0 ? 1 : 0))}`);
      const ta = vocab.tokenAttrs.get(t.lower);
      if (ta !== undefined) {
        const docs = (vocab.df.get(t.lower) ?? 0) - (own !== undefined ? 1 : 0);
        for (const [attr, n0] of ta) {
          const n = n0 - (own?.tokenAttrs.has(`${attr}\u0000${t.lower}`) === true ? 1 : 0);
          if (n > 0) f.push(`ta=${attr}:${lpBucket(n / Math.max(docs, n))}`);
        }
      }
    }
  }
  if (clusters !== undefined) addClusters(feats, tokens, clusters);
  a.patterns.forEach((p, j) => {
    const r = a.patternTokens[j];
    // Measures only: codes are candidates of their own attributes, not evidence for the tagger.
    if (r === undefined || p.kind === 'model_number' || p.kind === 'gtin') return;
    for (let i = r[0]; i < r[1]; i++) (feats[i] as string[]).push(`p:${p.kind}:${position(i, r[0], r[1])}`);
  });
  addGazetteer(feats, a.hits, 'g:', own);
  addGazetteer(feats, a.globalHits, 'G:', own);
  if (vocab !== undefined) {
    const keys = leadingKeys(tokens);
    keys.forEach((k, n) => {
      const count = (vocab.leading.get(k) ?? 0) - (own !== undefined ? 1 : 0);
      if (count <= 0) return;
      for (let i = 0; i <= n; i++) (feats[i] as string[]).push(`ld:${i === n ? 'E' : 'I'}${bucket(count)}`);
    });
  }
  const prefix = `${categoryKey}|`;
  for (const f of feats) {
    const n = f.length;
    for (let j = 0; j < n; j++) {
      const x = f[j] as string;
      if (CONJOINED.test(x)) f.push(prefix + x);
    }
  }
  return feats;
}

/** Cluster ids of the word and, at the middle granularity, of its neighbours; `oov` marks words outside the table. */
function addClusters(feats: string[][], tokens: readonly Token[], clusters: TokenClusters): void {
  const ids = tokens.map((t) => (t.kind === 'word' ? clusters.clustersOf(t.lower) : undefined));
  const mid = Math.floor(clusters.levels.length / 2);
  const at = (i: number): string => {
    const t = tokens[i];
    if (t === undefined) return i < 0 ? '<s>' : '</s>';
    if (t.kind !== 'word') return t.kind === 'number' ? '#' : t.text;
    const c = ids[i];
    return c === undefined ? 'oov' : String(c[mid]);
  };
  tokens.forEach((t, i) => {
    if (t.kind !== 'word') return;
    const f = feats[i] as string[];
    const c = ids[i];
    if (c === undefined) f.push('c=oov');
    else c.forEach((id, l) => f.push(`c${l}=${id}`));
    f.push(`c-1=${at(i - 1)}`, `c+1=${at(i + 1)}`);
  });
}

export function hashFeatures(feats: readonly string[][]): Uint32Array[] {
  return feats.map((f) => Uint32Array.from(f, hashFeature));
}

/**
 * Norm every token's word vector is scaled to. Unit rows would leave the dense weights too weak
 * next to ~50 binary features per token; larger rows overfit (OA-Mine CV: scale 1, 2, 3, 4, 8 gave
 * F1 0.748, 0.755, 0.755, 0.750, 0.741).
 */
const WORD_VECTOR_NORM = 3;

/**
 * The tagger's dense features: each token's contextual word vector (row-major `tokens × dim`, as
 * `Embedder.embedWordsInContext` returns them for `titleWords`) scaled to a fixed norm, so
 * features do not depend on the model's activation scale. Zero rows (truncated words) stay zero.
 */
export function wordVectorFeatures(vectors: Float32Array, tokens: number, dim: number, what: string): Float32Array {
  if (vectors.length !== tokens * dim) throw new TypeError(`${what}: expected ${tokens} word vectors of ${dim} (${tokens * dim} floats), got ${vectors.length} floats`);
  const out = new Float32Array(vectors.length);
  for (let r = 0; r < tokens; r++) {
    let n = 0;
    for (let d = 0; d < dim; d++) n += (vectors[r * dim + d] as number) ** 2;
    if (n === 0) continue;
    const k = WORD_VECTOR_NORM / Math.sqrt(n);
    for (let d = 0; d < dim; d++) out[r * dim + d] = (vectors[r * dim + d] as number) * k;
  }
  return out;
}
