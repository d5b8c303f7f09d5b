import { ConfigError, type ExtractedAttribute, normalizeMultiline, normalizeText, sha256Hex } from '@affinity/contracts';
import { type AttributeSpec, type CategorySchema, loadCategorySchemas } from './category-schema';
import type { CategoryVocab } from './internal/category-vocab';
import { type TextAnalysis, analyseText, featureStrings, hashFeatures, wordVectorFeatures } from './internal/features';
import { SchemaIndex } from './internal/schema-index';
import { allowedTags } from './internal/tags';
import type { Token } from './internal/tokenize';
import { ZeroShotChooser, type EmbedTexts } from './internal/zero-shot';
import { type LabelledProduct, type LearnVocabularyOptions, learnVocabulary, longestLeading, titleWords } from './learn-vocabulary';
import type { PatternMatch } from './patterns';
import { Vocabulary } from './vocabulary';

export type { EmbedTexts } from './internal/zero-shot';

/**
 * Contextual word vectors from an embedding model; `Embedder` from @affinity/embeddings fits.
 * Given texts as word lists, returns one row-major `words × dim` matrix per text.
 */
export interface WordVectorSource {
  readonly modelId: string;
  readonly dim: number;
  embedWordsInContext(texts: readonly (readonly string[])[]): Promise<Float32Array[]>;
}

export interface AttributeExtractorOptions {
  /** Category schemas (see `loadCategorySchemas`, `mergeCategorySchemas`). @defaultValue the bundled schemas */
  schemas?: readonly CategorySchema[];
  /** Learned vocabulary and tagger. Without one, only patterns and schema seed values apply. @defaultValue empty */
  vocabulary?: Vocabulary;
  /**
   * Values below this confidence (0..1) are dropped unless the attribute's schema sets its own
   * `minConfidence`. A wrong brand in a filter costs more than a missing one, hence not lower.
   * @defaultValue 0.5
   */
  minConfidence?: number;
  /** Confidence (0..1) of a pattern match for an attribute the vocabulary has no statistics on. @defaultValue 0.8 */
  patternConfidence?: number;
  /** Confidence (0..1) of a schema seed value. @defaultValue 0.7 */
  seedConfidence?: number;
  /** Values found only in the description get this factor (0..1) on their confidence. @defaultValue 0.85 */
  descriptionFactor?: number;
  /** Characters of the description that are searched; the rest is ignored to bound latency. @defaultValue 4000 */
  maxDescriptionChars?: number;
  /** Optional text embedder for {@link AttributeExtractor.extractWithZeroShot}. @defaultValue undefined */
  embed?: EmbedTexts;
  /** Cosine similarity (0..1) a zero-shot choice needs. @defaultValue 0.85 */
  zeroShotMinSimilarity?: number;
  /**
   * Where {@link AttributeExtractor.extractAll} gets title word vectors when the vocabulary's tagger
   * reads them ({@link Vocabulary.wordVectorModel}); must be that same model. @defaultValue undefined
   */
  wordVectors?: WordVectorSource;
}

export interface ExtractInput {
  title: string;
  description?: string;
  /** Category name or path (root first). @defaultValue the "*" schema */
  category?: string | readonly string[];
  /** Values the catalog already knows: they win and are reported with source 'catalog'. */
  catalogAttributes?: Readonly<Record<string, string>>;
  /**
   * Contextual vectors of `titleWords(title)` from the vocabulary's word-vector model (row-major,
   * words × dim). Required by {@link AttributeExtractor.extract} when the tagger reads word vectors;
   * {@link AttributeExtractor.extractAll} computes them.
   */
  titleWordVectors?: Float32Array;
}

interface Candidate {
  attr: string;
  field: 'title' | 'description';
  start: number;
  end: number;
  value: string;
  raw: string;
  confidence: number;
  source: 'pattern' | 'vocabulary';
  /** Which extractor proposed it; agreement between different ones raises confidence. */
  origin: 'tagger' | 'leading' | 'pattern' | 'lookup' | 'seed';
}

const MAX_VALUE = 256;
/** Tagger spans below this probability are not even candidates. */
const MIN_SPAN_PROBABILITY = 0.05;

function clampValue(v: string): string {
  return v.length > MAX_VALUE ? v.slice(0, MAX_VALUE).trimEnd() : v;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Extracts attribute values from product titles and descriptions. Synchronous and allocation-light:
 * it runs on every product in the enricher's hot path.
 */
export class AttributeExtractor {
  private readonly index: SchemaIndex;
  private vocab: Vocabulary;
  private readonly minConfidence: number;
  private readonly patternConfidence: number;
  private readonly seedConfidence: number;
  private readonly descriptionFactor: number;
  private readonly maxDescriptionChars: number;
  private readonly zeroShot: ZeroShotChooser | undefined;
  private readonly wordVectors: WordVectorSource | undefined;
  private readonly seedMatchers = new Map<AttributeSpec, { re: RegExp; values: Map<string, string> }>();

  constructor(options: AttributeExtractorOptions = {}) {
    for (const k of ['minConfidence', 'patternConfidence', 'seedConfidence', 'descriptionFactor', 'zeroShotMinSimilarity'] as const) {
      const v = options[k];
      if (v !== undefined && !(v >= 0 && v <= 1)) throw new ConfigError(`AttributeExtractor option ${k} must be between 0 and 1, got ${v}`);
    }
    const m = options.maxDescriptionChars;
    if (m !== undefined && !(Number.isInteger(m) && m >= 0)) throw new ConfigError(`AttributeExtractor option maxDescriptionChars must be a non-negative integer, got ${m}`);
    this.index = new SchemaIndex(options.schemas ?? loadCategorySchemas());
    this.vocab = options.vocabulary ?? Vocabulary.empty();
    this.minConfidence = options.minConfidence ?? 0.5;
    this.patternConfidence = options.patternConfidence ?? 0.8;
    this.seedConfidence = options.seedConfidence ?? 0.7;
    this.descriptionFactor = options.descriptionFactor ?? 0.85;
    this.maxDescriptionChars = options.maxDescriptionChars ?? 4000;
    this.zeroShot = options.embed === undefined ? undefined : new ZeroShotChooser(options.embed, options.zeroShotMinSimilarity ?? 0.85);
    this.wordVectors = options.wordVectors;
  }

  get vocabulary(): Vocabulary {
    return this.vocab;
  }

  private fingerprintCache: { vocab: Vocabulary; value: string } | undefined;

  /**
   * Identifies everything extraction depends on besides its input (schemas, vocabulary, options):
   * equal fingerprints extract equal attributes from equal inputs, so results can be cached under
   * it. Computed once per vocabulary (hashes its serialized form).
   */
  get fingerprint(): string {
    if (this.fingerprintCache?.vocab !== this.vocab) {
      const options = [this.minConfidence, this.patternConfidence, this.seedConfidence, this.descriptionFactor, this.maxDescriptionChars];
      this.fingerprintCache = { vocab: this.vocab, value: sha256Hex(JSON.stringify([options, this.index.schemas, this.vocab.toJSON()])) };
    }
    return this.fingerprintCache.value;
  }

  get schemas(): readonly CategorySchema[] {
    return this.index.schemas;
  }

  /** Learns from catalog products with this extractor's schemas, replaces the vocabulary and returns it. */
  learnVocabulary(products: Iterable<LabelledProduct>, options: Omit<LearnVocabularyOptions, 'schemas'> = {}): Vocabulary {
    this.vocab = learnVocabulary(products, { ...options, schemas: this.index.schemas });
    return this.vocab;
  }

  /** The schema that `category` resolves to (the "*" schema when none matches). */
  schemaFor(category: string | readonly string[] | undefined): CategorySchema {
    return this.index.resolve(category).schema;
  }

  /**
   * {@link extract} for many products; when the tagger reads word vectors, the titles that lack
   * `titleWordVectors` are embedded in one call to the `wordVectors` source first.
   * @throws ConfigError when the tagger reads word vectors and no source of that model was given
   */
  async extractAll(inputs: readonly ExtractInput[]): Promise<ExtractedAttribute[][]> {
    const model = this.vocab.wordVectorModel;
    if (model === undefined) return inputs.map((i) => this.extract(i));
    const missing = inputs.flatMap((input, i) => (input.titleWordVectors === undefined ? [i] : []));
    if (missing.length === 0) return inputs.map((i) => this.extract(i));
    const source = this.wordVectors;
    if (source === undefined || source.modelId !== model) {
      throw new ConfigError(`the attribute tagger reads word vectors of ${model}; give the AttributeExtractor a wordVectors source of that model (got ${source?.modelId ?? 'none'})`);
    }
    const vectors = await source.embedWordsInContext(missing.map((i) => titleWords((inputs[i] as ExtractInput).title)));
    const withVectors = [...inputs];
    missing.forEach((i, j) => {
      withVectors[i] = { ...(inputs[i] as ExtractInput), titleWordVectors: vectors[j] };
    });
    return withVectors.map((i) => this.extract(i));
  }

  /** @throws TypeError when the tagger reads word vectors and `input.titleWordVectors` is missing (see {@link extractAll}) */
  extract(input: ExtractInput): ExtractedAttribute[] {
    const { key, schema } = this.index.resolve(input.category);
    const out: ExtractedAttribute[] = [];
    const filled = new Set<string>();
    for (const [k, v] of Object.entries(input.catalogAttributes ?? {})) {
      const name = this.index.attributeName(schema, k);
      const value = clampValue(normalizeText(v));
      if (name === undefined || value === '' || filled.has(name)) continue;
      filled.add(name);
      out.push({ name, value, raw: v.slice(0, 512), field: 'catalog', span: [0, value.length], confidence: 1, source: 'catalog' });
    }
    const specs = new Map(schema.attributes.map((a) => [a.name, a]));
    const vocab = this.vocab.categories.get(key);
    const title = normalizeText(input.title);
    const chosen: Candidate[] = [];
    if (title !== '') {
      const a = analyseText(title, vocab, this.vocab.tagger === undefined ? undefined : this.vocab.global);
      chosen.push(...this.choose(this.titleCandidates(a, key, schema, vocab, input.titleWordVectors), specs, filled));
    }
    const description = input.description === undefined ? '' : normalizeMultiline(input.description).slice(0, this.maxDescriptionChars);
    if (description !== '') {
      const descCands = this.textCandidates(analyseText(description, vocab, undefined), 'description', schema, vocab).map((c) => ({
        ...c,
        confidence: c.confidence * this.descriptionFactor,
      }));
      chosen.push(...this.choose(descCands, specs, filled));
    }
    for (const c of chosen) {
      out.push({ name: c.attr, value: clampValue(c.value), raw: c.raw.slice(0, 512), field: c.field, span: [c.start, c.end], confidence: round(c.confidence), source: c.source });
    }
    return out;
  }

  /**
   * {@link extract}, then for attributes marked `zeroShot` that found nothing, lets the injected
   * embedder choose among the attribute's known values (schema seeds and learned values) by cosine
   * similarity with the title's n-grams. Without an embedder this equals {@link extract}.
   */
  async extractWithZeroShot(input: ExtractInput): Promise<ExtractedAttribute[]> {
    const [found = []] = await this.extractAll([input]);
    if (this.zeroShot === undefined) return found;
    const { key, schema } = this.index.resolve(input.category);
    const have = new Set(found.map((a) => a.name));
    const title = normalizeText(input.title);
    for (const spec of schema.attributes) {
      if (!spec.zeroShot || have.has(spec.name)) continue;
      const known = new Map<string, string>();
      for (const v of spec.values) {
        if (typeof v === 'string') known.set(v, v);
        else for (const form of [v.value, ...v.match]) known.set(form, v.value);
      }
      for (const v of this.vocab.knownValues(key, spec.name)) if (v.labelled >= 2 && !known.has(v.value)) known.set(v.value, v.value);
      const pick = await this.zeroShot.choose(
        title,
        [...known].map(([text, value]) => ({ text, value })),
      );
      // A value the extractor already read from that span is better evidence than a similarity.
      if (pick === undefined || found.some((a) => a.field === 'title' && a.span[0] < pick.end && pick.start < a.span[1])) continue;
      found.push({ name: spec.name, value: clampValue(pick.value), raw: pick.raw, field: 'title', span: [pick.start, pick.end], confidence: round(pick.similarity), source: 'zero-shot' });
    }
    return found;
  }

  private titleCandidates(a: TextAnalysis, key: string, schema: CategorySchema, vocab: CategoryVocab | undefined, wordVectors: Float32Array | undefined): Candidate[] {
    const title = a.text;
    const out = this.textCandidates(a, 'title', schema, vocab);
    const tagger = this.vocab.tagger;
    if (tagger !== undefined) {
      const allowed = allowedTags(this.attrIndex(), schema, vocab);
      if (allowed.length > 1) {
        let dense: Float32Array | undefined;
        if (tagger.denseDim > 0) {
          if (wordVectors === undefined) throw new TypeError(`the attribute tagger reads word vectors of ${this.vocab.wordVectorModel}: give titleWordVectors, or use extractAll with a wordVectors source`);
          dense = wordVectorFeatures(wordVectors, a.tokens.length, tagger.denseDim, 'titleWordVectors');
        }
        const spans = tagger.spans({ features: hashFeatures(featureStrings(a, key, vocab, undefined, this.vocab.tokenClusters)), allowed, dense }, MIN_SPAN_PROBABILITY);
        for (const s of spans) {
          const attr = this.vocab.attributes[s.attr] as string;
          const start = (a.tokens[s.start] as Token).start;
          const end = (a.tokens[s.end - 1] as Token).end;
          const raw = title.slice(start, end);
          const spec = schema.attributes.find((x) => x.name === attr);
          out.push({ attr, field: 'title', start, end, raw, value: normalizedValue(spec, raw, a.patterns, start, end), confidence: s.probability, source: 'vocabulary', origin: 'tagger' });
        }
      }
    }
    if (vocab !== undefined) {
      const tokens = a.tokens;
      for (const spec of schema.attributes) {
        if (!spec.leading) continue;
        const n = longestLeading(tokens, vocab, false);
        if (n === undefined) continue;
        const end = (tokens[n - 1] as Token).end;
        const p = vocab.patternPrecision(spec.name, 'leading');
        if (p === undefined) continue;
        const start = (tokens[0] as Token).start;
        out.push({ attr: spec.name, field: 'title', start, end, raw: title.slice(start, end), value: title.slice(start, end), confidence: p, source: 'vocabulary', origin: 'leading' });
      }
    }
    return out;
  }

  /** Candidates any field can give: unit-aware patterns, learned values and schema seed values. */
  private textCandidates(a: TextAnalysis, field: 'title' | 'description', schema: CategorySchema, vocab: CategoryVocab | undefined): Candidate[] {
    const out: Candidate[] = [];
    const { text, patterns } = a;
    for (const spec of schema.attributes) {
      if (spec.patterns.length === 0) continue;
      for (const m of patterns) {
        if (!spec.patterns.includes(m.kind)) continue;
        const p = vocab?.patternPrecision(spec.name, m.kind) ?? this.patternConfidence;
        out.push({ attr: spec.name, field, start: m.start, end: m.end, raw: m.raw, value: m.value, confidence: p, source: 'pattern', origin: 'pattern' });
      }
    }
    if (vocab !== undefined) {
      const tokens = a.tokens;
      const wanted = new Set(schema.attributes.map((x) => x.name));
      for (const h of a.hits) {
        for (const st of h.entry) {
          if (!wanted.has(st.attr) && !vocab.attrs.has(st.attr)) continue;
          // Shrunk towards zero: a form labelled once and seen once is not yet a sure thing.
          const conf = st.labelled / (Math.max(st.seen, st.labelled) + 1);
          const start = (tokens[h.start] as Token).start;
          const end = (tokens[h.end - 1] as Token).end;
          const raw = text.slice(start, end);
          const spec = schema.attributes.find((x) => x.name === st.attr);
          out.push({ attr: st.attr, field, start, end, raw, value: normalizedValue(spec, raw, patterns, start, end), confidence: conf, source: 'vocabulary', origin: 'lookup' });
        }
      }
    }
    for (const spec of schema.attributes) {
      if (spec.values.length === 0) continue;
      const m = this.seedMatcher(spec);
      for (const hit of text.matchAll(m.re)) {
        const raw = hit[0];
        const start = hit.index;
        out.push({ attr: spec.name, field, start, end: start + raw.length, raw, value: m.values.get(raw.toLowerCase()) ?? raw, confidence: this.seedConfidence, source: 'vocabulary', origin: 'seed' });
      }
    }
    return out;
  }

  private attrIndexCache: { vocab: Vocabulary; index: Map<string, number> } | undefined;

  private attrIndex(): Map<string, number> {
    if (this.attrIndexCache?.vocab !== this.vocab) this.attrIndexCache = { vocab: this.vocab, index: new Map(this.vocab.attributes.map((a, i) => [a, i])) };
    return this.attrIndexCache.index;
  }

  private seedMatcher(spec: AttributeSpec): { re: RegExp; values: Map<string, string> } {
    let m = this.seedMatchers.get(spec);
    if (m === undefined) {
      const values = new Map<string, string>();
      for (const v of spec.values) {
        if (typeof v === 'string') values.set(v.toLowerCase(), v);
        else for (const f of v.match) values.set(f.toLowerCase(), v.value);
      }
      const forms = [...values.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
      m = { re: new RegExp(`(?<![\\p{L}\\p{N}])(?:${forms.join('|')})(?![\\p{L}\\p{N}])`, 'giu'), values };
      this.seedMatchers.set(spec, m);
    }
    return m;
  }

  /** Most confident first; a value needs its threshold, its attribute still open and its span free. */
  private choose(all: Candidate[], specs: ReadonlyMap<string, AttributeSpec>, filled: Set<string>): Candidate[] {
    const cands = agree(all);
    cands.sort((a, b) => b.confidence - a.confidence || b.end - b.start - (a.end - a.start) || a.start - b.start);
    const taken: [number, number][] = [];
    const out: Candidate[] = [];
    const multi = new Set<string>();
    for (const c of cands) {
      const spec = specs.get(c.attr);
      if (c.confidence < (spec?.minConfidence ?? this.minConfidence)) continue;
      if (filled.has(c.attr) && !multi.has(c.attr)) continue;
      if (taken.some(([s, e]) => c.start < e && s < c.end)) continue;
      if (multi.has(c.attr) && out.some((o) => o.attr === c.attr && o.value.toLowerCase() === c.value.toLowerCase())) continue;
      taken.push([c.start, c.end]);
      out.push(c);
      filled.add(c.attr);
      if (spec?.multiple === true) multi.add(c.attr);
    }
    return out.sort((a, b) => a.start - b.start);
  }
}

/**
 * One candidate per (attribute, span): the most confident, raised when another extractor proposed
 * the same span: p = p1 + (1 - p1) * p2 * AGREEMENT_WEIGHT. The weight stays well under 1 because
 * the extractors share evidence (the tagger sees the lookups as features).
 */
function agree(cands: readonly Candidate[]): Candidate[] {
  const by = new Map<string, Candidate[]>();
  for (const c of cands) {
    const k = `${c.attr}\u0000${c.start}\u0000${c.end}`;
    const list = by.get(k);
    if (list === undefined) by.set(k, [c]);
    else list.push(c);
  }
  const out: Candidate[] = [];
  for (const list of by.values()) {
    list.sort((a, b) => b.confidence - a.confidence);
    const best = list[0] as Candidate;
    const other = list.find((c) => c.origin !== best.origin);
    out.push(other === undefined ? best : { ...best, confidence: best.confidence + (1 - best.confidence) * other.confidence * AGREEMENT_WEIGHT });
  }
  return out;
}

const AGREEMENT_WEIGHT = 0.5;

function round(x: number): number {
  return Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;
}

/** Measures get their normalized form when a pattern of the attribute's kinds lies inside the span. */
function normalizedValue(spec: AttributeSpec | undefined, raw: string, patterns: readonly PatternMatch[], start: number, end: number): string {
  if (spec !== undefined && spec.patterns.length > 0) {
    const inside = patterns.filter((p) => p.start >= start && p.end <= end && spec.patterns.includes(p.kind));
    if (inside.length === 1) return (inside[0] as PatternMatch).value;
  }
  return raw;
}
