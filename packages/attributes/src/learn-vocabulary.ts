import { normalizeText } from '@affinity/contracts';
import { type CategorySchema, loadCategorySchemas } from './category-schema';
import { CategoryVocab, leadingKeys } from './internal/category-vocab';
import { type CrfSequence, LinearChainCrf } from './internal/crf';
import { analyseText, featureStrings, hashFeatures, wordVectorFeatures } from './internal/features';
import { MAX_VALUE_TOKENS, alignSpan, lookupAll, tokenKey } from './internal/gazetteer';
import { findPatterns } from './patterns';
import { SchemaIndex } from './internal/schema-index';
import { allowedTags } from './internal/tags';
import { type Token, tokenize } from './internal/tokenize';
import type { TokenClusters } from './token-clusters';
import { Vocabulary } from './vocabulary';

/** A catalog product as learning sees it; `attributes` are known values (catalog-supplied or labelled). */
export interface LabelledProduct {
  title: string;
  /** A category name or a category path (root first). */
  category?: string | readonly string[];
  /** Known attribute values by key ("Brand", "net_content", ...); values that occur in the title teach the tagger. */
  attributes?: Readonly<Record<string, string>>;
  /**
   * Contextual vectors of `titleWords(title)` (row-major, words × dim), from the model named in
   * {@link LearnVocabularyOptions.wordVectors}; required then for every product with attributes.
   */
  titleWordVectors?: Float32Array;
}

export interface LearnVocabularyOptions {
  /** Category schemas. @defaultValue the bundled schemas (`loadCategorySchemas()`) */
  schemas?: readonly CategorySchema[];
  /** Passes of SGD over the labelled titles. @defaultValue 6 */
  epochs?: number;
  /** Initial SGD step size (decays linearly to a tenth). @defaultValue 0.1 */
  learningRate?: number;
  /** log2 of the number of hashed tagger weights (2^18 floats = 1 MiB, fits a core's cache; 2^20 scored within 0.001 F1 on OA-Mine). @defaultValue 18 */
  hashBits?: number;
  /** Seed of the training shuffle, so the same catalog gives the same vocabulary. @defaultValue 1 */
  seed?: number;
  /** Train the CRF tagger; without it extraction uses lookups, patterns and leading n-grams only. @defaultValue true */
  tagger?: boolean;
  /**
   * Word clusters whose ids become tagger features (see {@link TokenClusters}); `false` for none.
   * The vocabulary keeps them, since extraction must compute the same features.
   * @defaultValue false
   */
  tokenClusters?: TokenClusters | false;
  /**
   * Train the tagger on contextual word vectors too (each product's `titleWordVectors`), from this
   * embedding model; extraction then needs vectors from the same model. OA-Mine CV: +0.01 F1.
   * @defaultValue undefined (none)
   */
  wordVectors?: { model: string; dim: number };
}

const DEFAULT_EPOCHS = 6;
const DEFAULT_LEARNING_RATE = 0.1;

interface Prepared {
  key: string;
  schema: CategorySchema;
  title: string;
  tokens: Token[];
  /** [attr, token start, token end, char start, char end] */
  spans: [string, number, number, number, number][];
  /** Scaled word-vector features, when learning with word vectors. */
  dense: Float32Array | undefined;
  labels: Set<string>;
  tokenAttrs: Set<string>;
}

/** First occurrence of `value` in `title` that is token-aligned and overlaps nothing taken; case-sensitive first. */
function locate(title: string, tokens: readonly Token[], value: string, taken: readonly boolean[]): [number, number] | undefined {
  for (const hay of [title, title.toLowerCase()]) {
    const needle = hay === title ? value : value.toLowerCase();
    let from = 0;
    for (;;) {
      const at = hay.indexOf(needle, from);
      if (at < 0) break;
      const r = alignSpan(tokens, at, at + needle.length);
      if (r !== undefined && !taken.slice(r[0], r[1]).some(Boolean)) return r;
      from = at + 1;
    }
  }
  return undefined;
}

/**
 * Where a product's known values sit in its (normalized) title: token ranges, longest value first,
 * never overlapping; values that are not in the title come back in `missing`.
 */
function locateValues(
  title: string,
  tokens: readonly Token[],
  schema: CategorySchema,
  index: SchemaIndex,
  attributes: Readonly<Record<string, string>>,
): { spans: [string, number, number][]; missing: [string, string][] } {
  const taken = tokens.map(() => false);
  const entries = Object.entries(attributes)
    .map(([k, v]) => [index.attributeName(schema, k), normalizeText(v)] as const)
    .filter((e): e is [string, string] => e[0] !== undefined && e[1] !== '' && e[1].toLowerCase() !== 'n/a')
    .sort((a, b) => b[1].length - a[1].length);
  const spans: [string, number, number][] = [];
  const missing: [string, string][] = [];
  for (const [attr, value] of entries) {
    const r = locate(title, tokens, value, taken);
    if (r === undefined) {
      missing.push([attr, value]);
      continue;
    }
    for (let i = r[0]; i < r[1]; i++) taken[i] = true;
    spans.push([attr, r[0], r[1]]);
  }
  return { spans, missing };
}

/**
 * A labelled product as the tagger sees it: the words of its title (as {@link titleWords}), each
 * word's character range in the normalized title, the category's schema attributes, and the gold
 * spans the tagger learns from (word ranges). For training other taggers on the same labels.
 */
export function labelTitle(
  product: LabelledProduct,
  schemas: readonly CategorySchema[] = loadCategorySchemas(),
): { title: string; words: string[]; offsets: [number, number][]; attributes: string[]; spans: [string, number, number][] } {
  const index = new SchemaIndex(schemas);
  const title = normalizeText(product.title);
  const tokens = tokenize(title);
  const { schema } = index.resolve(product.category);
  const { spans } = locateValues(title, tokens, schema, index, product.attributes ?? {});
  return { title, words: tokens.map((t) => t.text), offsets: tokens.map((t) => [t.start, t.end]), attributes: schema.attributes.map((a) => a.name), spans };
}

/**
 * Learns a {@link Vocabulary} from catalog products: value lists and their reliability from the
 * products' known attributes, brand candidates from frequent leading n-grams of titles, pattern
 * reliabilities, and a CRF tagger trained on the titles whose known values occur in them.
 * Products without attributes still contribute leading n-grams and occurrence counts.
 */
export function learnVocabulary(products: Iterable<LabelledProduct>, options: LearnVocabularyOptions = {}): Vocabulary {
  const index = new SchemaIndex(options.schemas ?? loadCategorySchemas());
  const categories = new Map<string, CategoryVocab>();
  const global = new CategoryVocab();
  const prepared: Prepared[] = [];

  for (const p of products) {
    const title = normalizeText(p.title);
    if (title === '') continue;
    const { key, schema } = index.resolve(p.category);
    let vocab = categories.get(key);
    if (vocab === undefined) {
      vocab = new CategoryVocab();
      categories.set(key, vocab);
    }
    vocab.titles++;
    global.titles++;
    const tokens = tokenize(title);
    vocab.addLeading(tokens);
    vocab.addDocument(tokens);
    const { spans: found, missing } = locateValues(title, tokens, schema, index, p.attributes ?? {});
    for (const [attr, value] of missing) {
      // Not in the title: still a known value for lookups, keyed as the title would tokenize it.
      const vt = tokenize(value);
      if (vt.length > 0 && vt.length <= MAX_VALUE_TOKENS) {
        const k = tokenKey(vt, 0, vt.length);
        vocab.addLabel(k, attr, value);
        global.addLabel(k, attr, value);
      }
    }
    const spans: Prepared['spans'] = [];
    const labels = new Set<string>();
    const tokenAttrs = new Set<string>();
    for (const [attr, s, e] of found) {
      const start = (tokens[s] as Token).start;
      const end = (tokens[e - 1] as Token).end;
      const k = tokenKey(tokens, s, e);
      vocab.addLabel(k, attr, title.slice(start, end));
      global.addLabel(k, attr, title.slice(start, end));
      labels.add(`${attr}\u0000${k}`);
      for (let i = s; i < e; i++) {
        const ta = `${attr}\u0000${(tokens[i] as Token).lower}`;
        if (tokenAttrs.has(ta)) continue;
        tokenAttrs.add(ta);
        vocab.addTokenAttr((tokens[i] as Token).lower, attr);
      }
      spans.push([attr, s, e, start, end]);
    }
    const wv = options.wordVectors;
    let dense: Float32Array | undefined;
    if (wv !== undefined && spans.length > 0) {
      if (p.titleWordVectors === undefined) throw new TypeError(`learning with ${wv.model} word vectors: no titleWordVectors for "${title}"`);
      dense = wordVectorFeatures(p.titleWordVectors, tokens.length, wv.dim, `"${title}"`);
    }
    prepared.push({ key, schema, title, tokens, spans, dense, labels, tokenAttrs });
  }

  // Second pass: how often each known form occurs at all, and how reliable patterns and leading n-grams are.
  for (const r of prepared) {
    const vocab = categories.get(r.key) as CategoryVocab;
    for (const h of lookupAll(r.tokens, vocab.values, vocab.prefixes)) for (const s of h.entry) s.seen++;
    for (const h of lookupAll(r.tokens, global.values, global.prefixes)) for (const s of h.entry) s.seen++;
    if (r.spans.length === 0) continue;
    const gold = new Map(r.spans.map(([attr, , , s, e]) => [attr, `${s}:${e}`]));
    const patterns = findPatterns(r.title);
    for (const spec of r.schema.attributes) {
      if (spec.patterns.length === 0 || (!gold.has(spec.name) && !vocab.attrs.has(spec.name))) continue;
      for (const m of patterns) {
        if (spec.patterns.includes(m.kind)) vocab.addPatternStat(spec.name, m.kind, gold.get(spec.name) === `${m.start}:${m.end}`);
      }
    }
    for (const spec of r.schema.attributes) {
      if (!spec.leading) continue;
      const lead = longestLeading(r.tokens, vocab, true);
      if (lead === undefined) continue;
      const end = (r.tokens[lead - 1] as Token).end;
      vocab.addPatternStat(spec.name, 'leading', gold.get(spec.name) === `0:${end}` || gold.get(spec.name) === `${(r.tokens[0] as Token).start}:${end}`);
    }
  }

  const attributes: string[] = [];
  const seen = new Set<string>();
  const addAttr = (a: string) => {
    if (!seen.has(a)) {
      seen.add(a);
      attributes.push(a);
    }
  };
  for (const s of index.schemas) for (const a of s.attributes) addAttr(a.name);
  for (const v of categories.values()) for (const a of v.attrs) addAttr(a);

  const labelled = prepared.filter((r) => r.spans.length > 0);
  let tagger: LinearChainCrf | undefined;
  const clusters = options.tokenClusters === false ? undefined : options.tokenClusters;
  if (labelled.length > 0 && options.tagger !== false) {
    const attrIndex = new Map(attributes.map((a, i) => [a, i]));
    const seqs: CrfSequence[] = labelled.map((r) => {
      const vocab = categories.get(r.key) as CategoryVocab;
      const a = analyseText(r.title, vocab, global);
      const feats = hashFeatures(featureStrings(a, r.key, vocab, { labels: r.labels, tokenAttrs: r.tokenAttrs }, clusters));
      const allowed = allowedTags(attrIndex, r.schema, vocab);
      const goldTags = new Int32Array(r.tokens.length);
      for (const [attr, s, e] of r.spans) {
        const k = attrIndex.get(attr) as number;
        // Attributes too rare to get tags stay O: the tagger cannot say them anyway.
        if (!allowed.includes(1 + 2 * k)) continue;
        for (let i = s; i < e; i++) goldTags[i] = i === s ? 1 + 2 * k : 2 + 2 * k;
      }
      return { features: feats, allowed, gold: goldTags, dense: r.dense };
    });
    tagger = new LinearChainCrf(attributes.length * 2 + 1, options.hashBits ?? 18, undefined, undefined, options.wordVectors?.dim ?? 0);
    tagger.train(seqs, {
      epochs: options.epochs ?? DEFAULT_EPOCHS,
      learningRate: options.learningRate ?? DEFAULT_LEARNING_RATE,
      seed: options.seed ?? 1,
    });
  }
  return new Vocabulary(attributes, categories, global, tagger, tagger === undefined ? undefined : clusters, options.wordVectors?.model);
}

/**
 * Length (in tokens) of the longest leading n-gram that other titles of the category also start
 * with; `own` discounts the title itself when it was counted while learning.
 */
export function longestLeading(tokens: readonly Token[], vocab: CategoryVocab, own: boolean): number | undefined {
  let best: number | undefined;
  leadingKeys(tokens).forEach((k, n) => {
    if ((vocab.leading.get(k) ?? 0) - (own ? 1 : 0) >= 2) best = n + 1;
  });
  return best;
}

/**
 * The words of a title as the tagger tokenizes it (after the same text normalization), in order:
 * what `Embedder.embedWordsInContext` must be given to produce `titleWordVectors`.
 */
export function titleWords(title: string): string[] {
  return tokenize(normalizeText(title)).map((t) => t.text);
}
