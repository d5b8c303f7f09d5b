import { ValidationError } from '@affinity/contracts';
import { z } from 'zod';
import { CategoryVocab } from './internal/category-vocab';
import { LinearChainCrf, MAX_HASH_BITS } from './internal/crf';
import type { TokenClusters } from './token-clusters';

export const VOCABULARY_FORMAT_VERSION = 1;

const Stats = z.object({
  titles: z.number().int().nonnegative(),
  /** [token key, attribute, surface, labelled, seen] */
  values: z.array(z.tuple([z.string(), z.string(), z.string(), z.number().int(), z.number().int()])),
  /** [token key, titles starting with it] */
  leading: z.array(z.tuple([z.string(), z.number().int()])),
  /** [attribute, pattern kind, hits, matches] */
  patternStats: z.array(z.tuple([z.string(), z.string(), z.number().int(), z.number().int()])),
  /** [attribute, titles labelled with it] */
  attrs: z.array(z.tuple([z.string(), z.number().int()])),
  /** [lower-cased token, titles containing it] */
  df: z.array(z.tuple([z.string(), z.number().int()])),
  /** [lower-cased token, attribute, titles where the token was inside that attribute's value] */
  tokenAttrs: z.array(z.tuple([z.string(), z.string(), z.number().int()])),
});
type Stats = z.output<typeof Stats>;

export const SerializedVocabulary = z.object({
  version: z.literal(VOCABULARY_FORMAT_VERSION),
  /** Tag order of the tagger: attribute k has tags 1 + 2k (B) and 2 + 2k (I). */
  attributes: z.array(z.string()),
  categories: z.record(z.string(), Stats),
  global: Stats,
  tagger: z
    .object({
      bits: z.number().int().min(8).max(MAX_HASH_BITS),
      /** base64 of little-endian float32, (attributes * 2 + 2) * (attributes * 2 + 1) entries. */
      transitions: z.string(),
      /** base64 of the indices (uint32) and values (float32) of the non-zero weights, when sparse... */
      index: z.string().optional(),
      weights: z.string().optional(),
      /** ...or of all 2^bits weights (float32), when more than half are non-zero. */
      dense: z.string().optional(),
      /** Weights of the contextual word-vector features (see `titleWords`), when the tagger reads them. */
      wordVectors: z
        .object({
          /** Embedding model id whose vectors the tagger was trained on; extraction must use the same. */
          model: z.string().min(1),
          dim: z.number().int().positive(),
          /** base64 of float32, (attributes * 2 + 1) * dim entries. */
          weights: z.string(),
        })
        .optional(),
    })
    .refine((t) => t.dense !== undefined || (t.index !== undefined && t.weights !== undefined), 'either dense or index + weights')
    .optional(),
});
export type SerializedVocabulary = z.output<typeof SerializedVocabulary>;

function toBase64(a: Float32Array | Uint32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function fromBase64<T extends Float32Array | Uint32Array>(s: string, ctor: new (b: ArrayBuffer) => T): T {
  const b = Buffer.from(s, 'base64');
  const copy = new ArrayBuffer(b.byteLength);
  new Uint8Array(copy).set(b);
  return new ctor(copy);
}

function statsToJson(v: CategoryVocab): Stats {
  const values: Stats['values'] = [];
  for (const [key, list] of v.values) for (const s of list) values.push([key, s.attr, s.surface, s.labelled, s.seen]);
  return {
    titles: v.titles,
    values,
    leading: [...v.leading].filter(([, n]) => n >= 2),
    patternStats: [...v.patternStats].map(([k, [h, m]]) => {
      const [attr, kind] = k.split('\u0000') as [string, string];
      return [attr, kind, h, m];
    }),
    attrs: [...v.labelCounts],
    df: [...v.df],
    tokenAttrs: [...v.tokenAttrs].flatMap(([t, m]) => [...m].map(([a, n]) => [t, a, n] as [string, string, number])),
  };
}

function statsFromJson(s: Stats): CategoryVocab {
  const v = new CategoryVocab();
  v.titles = s.titles;
  for (const [key, attr, surface, labelled, seen] of s.values) v.valueList(key).push({ attr, surface, labelled, seen });
  for (const [k, n] of s.leading) v.leading.set(k, n);
  for (const [attr, kind, h, m] of s.patternStats) v.patternStats.set(`${attr}\u0000${kind}`, [h, m]);
  for (const [a, n] of s.attrs) {
    v.attrs.add(a);
    v.labelCounts.set(a, n);
  }
  for (const [w, n] of s.df) v.df.set(w, n);
  for (const [t, a, n] of s.tokenAttrs) v.addTokenAttr(t, a, n);
  return v;
}

/**
 * What extraction learned from a catalog: per-category value lists with how reliable each form is,
 * leading n-grams of titles (brand candidates), pattern reliabilities, and the CRF tagger.
 * Serializable with {@link Vocabulary.toJSON} / {@link Vocabulary.fromJSON} so the enricher can
 * learn once and persist.
 */
export class Vocabulary {
  readonly attributes: readonly string[];
  readonly categories: ReadonlyMap<string, CategoryVocab>;
  readonly global: CategoryVocab;
  /** @internal */
  readonly tagger: LinearChainCrf | undefined;
  /** Word clusters the tagger was trained with; extraction computes the same features. */
  readonly tokenClusters: TokenClusters | undefined;
  /**
   * Embedding model whose contextual word vectors the tagger reads (see `titleWords`), or
   * undefined when it reads none. Extraction needs vectors from this same model.
   */
  readonly wordVectorModel: string | undefined;

  /** @internal Use {@link learnVocabulary} or {@link Vocabulary.fromJSON}. */
  constructor(
    attributes: readonly string[],
    categories: ReadonlyMap<string, CategoryVocab>,
    global: CategoryVocab,
    tagger?: LinearChainCrf,
    tokenClusters?: TokenClusters,
    wordVectorModel?: string,
  ) {
    this.attributes = attributes;
    this.categories = categories;
    this.global = global;
    this.tagger = tagger;
    this.tokenClusters = tokenClusters;
    this.wordVectorModel = tagger !== undefined && tagger.denseDim > 0 ? wordVectorModel : undefined;
    if (tagger !== undefined && tagger.denseDim > 0 && wordVectorModel === undefined) throw new TypeError('a tagger with word-vector weights needs the model id of those vectors');
  }

  /** Length of the word vectors the tagger reads (0: none). */
  get wordVectorDim(): number {
    return this.tagger?.denseDim ?? 0;
  }

  static empty(): Vocabulary {
    return new Vocabulary([], new Map(), new CategoryVocab());
  }

  /** Categories (keys, lower-case) that have learned data. */
  get categoryKeys(): string[] {
    return [...this.categories.keys()];
  }

  /** Learned values of one attribute in one category, most labelled first. */
  knownValues(categoryKey: string, attr: string): { value: string; labelled: number; seen: number }[] {
    const v = this.categories.get(categoryKey);
    if (v === undefined) return [];
    const out: { value: string; labelled: number; seen: number }[] = [];
    for (const list of v.values.values()) for (const s of list) if (s.attr === attr) out.push({ value: s.surface, labelled: s.labelled, seen: s.seen });
    return out.sort((a, b) => b.labelled - a.labelled || a.value.localeCompare(b.value));
  }

  toJSON(): SerializedVocabulary {
    const categories: Record<string, Stats> = {};
    for (const [k, v] of this.categories) categories[k] = statsToJson(v);
    let tagger: SerializedVocabulary['tagger'];
    if (this.tagger !== undefined) {
      const w = this.tagger.weights;
      let nz = 0;
      for (let i = 0; i < w.length; i++) if (w[i] !== 0) nz++;
      const transitions = toBase64(this.tagger.transitions);
      if (nz * 2 > w.length) {
        tagger = { bits: this.tagger.bits, transitions, dense: toBase64(w) };
      } else {
        const index = new Uint32Array(nz);
        const weights = new Float32Array(nz);
        let j = 0;
        for (let i = 0; i < w.length; i++) {
          if (w[i] !== 0) {
            index[j] = i;
            weights[j++] = w[i] as number;
          }
        }
        tagger = { bits: this.tagger.bits, transitions, index: toBase64(index), weights: toBase64(weights) };
      }
      if (this.wordVectorModel !== undefined) tagger.wordVectors = { model: this.wordVectorModel, dim: this.tagger.denseDim, weights: toBase64(this.tagger.denseWeights) };
    }
    return { version: VOCABULARY_FORMAT_VERSION, attributes: [...this.attributes], categories, global: statsToJson(this.global), tagger };
  }

  /** @throws ValidationError when `json` is not a vocabulary of this format version. */
  static fromJSON(json: unknown): Vocabulary {
    const r = SerializedVocabulary.safeParse(json);
    if (!r.success) {
      throw new ValidationError(
        'not a serialized attribute vocabulary (version 1)',
        r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    const s = r.data;
    const categories = new Map<string, CategoryVocab>();
    for (const [k, v] of Object.entries(s.categories)) categories.set(k, statsFromJson(v));
    let tagger: LinearChainCrf | undefined;
    if (s.tagger !== undefined) {
      const numTags = s.attributes.length * 2 + 1;
      const transitions = fromBase64(s.tagger.transitions, Float32Array);
      const size = 1 << s.tagger.bits;
      const mismatch = (message: string) => new ValidationError('serialized tagger does not match its attribute list or size', [{ path: 'tagger', message }]);
      if (transitions.length !== (numTags + 1) * numTags) throw mismatch(`${transitions.length} transitions for ${numTags} tags`);
      let weights: Float32Array;
      if (s.tagger.dense !== undefined) {
        weights = fromBase64(s.tagger.dense, Float32Array);
        if (weights.length !== size) throw mismatch(`${weights.length} dense weights, expected ${size}`);
      } else {
        const index = fromBase64(s.tagger.index ?? '', Uint32Array);
        const values = fromBase64(s.tagger.weights ?? '', Float32Array);
        if (index.length !== values.length) throw mismatch('index and weights differ in length');
        weights = new Float32Array(size);
        for (let i = 0; i < index.length; i++) {
          const at = index[i] as number;
          if (at >= size) throw mismatch(`weight index ${at} >= ${size}`);
          weights[at] = values[i] as number;
        }
      }
      const wv = s.tagger.wordVectors;
      const denseWeights = wv === undefined ? undefined : fromBase64(wv.weights, Float32Array);
      if (wv !== undefined && denseWeights?.length !== numTags * wv.dim) throw mismatch(`${denseWeights?.length} word-vector weights, expected ${numTags} x ${wv.dim}`);
      tagger = new LinearChainCrf(numTags, s.tagger.bits, weights, transitions, wv?.dim ?? 0, denseWeights);
      return new Vocabulary(s.attributes, categories, statsFromJson(s.global), tagger, undefined, wv?.model);
    }
    return new Vocabulary(s.attributes, categories, statsFromJson(s.global));
  }
}
