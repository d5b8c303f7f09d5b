/**
 * Exact-match evaluation of attribute extraction, with the counting of the ExtractGPT study
 * (Brinkmann et al., "Product Attribute Value Extraction using Large Language Models", 2023):
 * per (product, attribute) one of NN (gold n/a, predicted n/a), NV (gold n/a, predicted a value:
 * false positive), VN (gold value, predicted n/a: false negative), VC (predicted exactly the gold
 * value), VW (a different value: both a false positive and a false negative);
 * P = VC / (NV + VC + VW), R = VC / (VN + VC + VW), F1 their harmonic mean.
 */
import { mulberry32 } from '@affinity/contracts';
import type { CategorySchema } from './category-schema';
import { AttributeExtractor } from './attribute-extractor';
import { SchemaIndex } from './internal/schema-index';
import { type LearnVocabularyOptions, learnVocabulary } from './learn-vocabulary';
import { Vocabulary } from './vocabulary';

export interface GoldExample {
  title: string;
  category: string;
  /** Gold value per attribute key ("Brand", "Net content"); missing or "n/a" means absent. */
  gold: Readonly<Record<string, string>>;
}

export interface ExactMatchCounts {
  nn: number;
  nv: number;
  vn: number;
  vc: number;
  vw: number;
}

export interface Scores extends ExactMatchCounts {
  precision: number;
  recall: number;
  f1: number;
}

export interface EvaluationReport {
  micro: Scores;
  /** Mean of the per (category, attribute) F1 scores, as the study's macro score. */
  macroF1: number;
  perAttribute: Record<string, Scores>;
  perCategory: Record<string, Scores>;
}

/** Which (product, attribute) pairs are scored. */
export type Protocol =
  /** Every attribute of the category's schema; absent gold = n/a, so a value there is a false positive (NV). */
  | 'schema'
  /** Only attributes the product is annotated with, as the study's released code scores OA-Mine (NV never occurs). */
  | 'annotated';

export interface Prediction {
  /** Attribute name → predicted surface form and its confidence. */
  values: Map<string, { raw: string; confidence: number }>;
}

export function emptyCounts(): ExactMatchCounts {
  return { nn: 0, nv: 0, vn: 0, vc: 0, vw: 0 };
}

export function scores(c: ExactMatchCounts): Scores {
  const pDen = c.nv + c.vc + c.vw;
  const rDen = c.vn + c.vc + c.vw;
  const precision = pDen > 0 ? c.vc / pDen : 0;
  const recall = rDen > 0 ? c.vc / rDen : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { ...c, precision, recall, f1 };
}

function add(into: ExactMatchCounts, key: keyof ExactMatchCounts): void {
  into[key]++;
}

/** Gold keys mapped to schema attribute names, values trimmed (the study strips gold values). */
export function goldByAttribute(index: SchemaIndex, example: GoldExample): Map<string, string> {
  const schema = index.resolve(example.category).schema;
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(example.gold)) {
    const name = index.attributeName(schema, k);
    const value = v.trim();
    if (name !== undefined && value !== '' && value !== 'n/a') out.set(name, value);
  }
  return out;
}

/**
 * Scores predictions against gold. A prediction below `minConfidence` counts as n/a; extraction
 * that chose greedily by confidence with threshold 0 and is thresholded here gives exactly what
 * extraction with that threshold would have given.
 */
export function scoreExactMatch(
  examples: readonly GoldExample[],
  predictions: readonly Prediction[],
  schemas: readonly CategorySchema[],
  protocol: Protocol,
  minConfidence = 0,
): EvaluationReport {
  const index = new SchemaIndex(schemas);
  const total = emptyCounts();
  const perPair = new Map<string, ExactMatchCounts>();
  const perAttribute = new Map<string, ExactMatchCounts>();
  const perCategory = new Map<string, ExactMatchCounts>();
  const get = (m: Map<string, ExactMatchCounts>, k: string) => {
    let c = m.get(k);
    if (c === undefined) {
      c = emptyCounts();
      m.set(k, c);
    }
    return c;
  };
  examples.forEach((ex, i) => {
    const schema = index.resolve(ex.category).schema;
    const gold = goldByAttribute(index, ex);
    const pred = predictions[i]?.values ?? new Map();
    const attrs = protocol === 'schema' ? schema.attributes.map((a) => a.name) : [...gold.keys()];
    for (const attr of attrs) {
      const g = gold.get(attr);
      const p0 = pred.get(attr);
      const p = p0 !== undefined && p0.confidence >= minConfidence ? p0.raw : undefined;
      const key: keyof ExactMatchCounts = g === undefined ? (p === undefined ? 'nn' : 'nv') : p === undefined ? 'vn' : p === g ? 'vc' : 'vw';
      for (const c of [total, get(perPair, `${ex.category}\u0000${attr}`), get(perAttribute, attr), get(perCategory, ex.category)]) add(c, key);
    }
  });
  const pairF1 = [...perPair.values()].filter((c) => c.nv + c.vc + c.vw + c.vn > 0).map((c) => scores(c).f1);
  const obj = (m: Map<string, ExactMatchCounts>) =>
    Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, c]) => [k, scores(c)]));
  return {
    micro: scores(total),
    macroF1: pairF1.length > 0 ? pairF1.reduce((a, b) => a + b, 0) / pairF1.length : 0,
    perAttribute: obj(perAttribute),
    perCategory: obj(perCategory),
  };
}


/** Fold id per example: within each category a seeded shuffle dealt round-robin, so folds keep the category mix. */
export function stratifiedFolds(categories: readonly string[], folds: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const byCat = new Map<string, number[]>();
  categories.forEach((c, i) => byCat.set(c, [...(byCat.get(c) ?? []), i]));
  const out = new Array<number>(categories.length).fill(0);
  for (const c of [...byCat.keys()].sort()) {
    const idx = byCat.get(c) as number[];
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
    }
    idx.forEach((ex, k) => (out[ex] = k % folds));
  }
  return out;
}

export interface CrossValidationOptions {
  /** @defaultValue 5 */
  folds?: number;
  /** Seed of the fold assignment. @defaultValue 7 */
  seed?: number;
  schemas: readonly CategorySchema[];
  /** Learning options, or false to extract with the schemas alone (an empty vocabulary). @defaultValue {} */
  learn?: Omit<LearnVocabularyOptions, 'schemas'> | false;
  /**
   * Learn from the held-out fold's gold too. Only to measure how much the cross-validated score
   * loses to unseen values; never a result to report as accuracy.
   * @defaultValue false
   */
  leak?: boolean;
  /**
   * Contextual vectors of `titleWords(examples[i].title)`, aligned with `examples`, when
   * `learn.wordVectors` names their model: training and extraction both read them.
   */
  titleWordVectors?: readonly Float32Array[];
}

/**
 * k-fold cross-validation: vocabulary and tagger are learned from the other folds only, each held-out
 * title is extracted without its gold, and predictions are pooled over all folds.
 */
export function crossValidate(examples: readonly GoldExample[], options: CrossValidationOptions): Prediction[] {
  const k = options.folds ?? 5;
  const fold = stratifiedFolds(
    examples.map((e) => e.category),
    k,
    options.seed ?? 7,
  );
  const predictions: Prediction[] = examples.map(() => ({ values: new Map() }));
  for (let f = 0; f < k; f++) {
    const vectors = options.titleWordVectors;
    const train = examples.flatMap((e, i) => (options.leak === true || fold[i] !== f ? [{ title: e.title, category: e.category, attributes: e.gold, titleWordVectors: vectors?.[i] }] : []));
    const vocabulary = options.learn === false ? Vocabulary.empty() : learnVocabulary(train, { ...options.learn, schemas: options.schemas });
    const extractor = new AttributeExtractor({ schemas: options.schemas, vocabulary, minConfidence: 0 });
    examples.forEach((e, i) => {
      if (fold[i] !== f) return;
      const p = predictions[i] as Prediction;
      for (const a of extractor.extract({ title: e.title, category: e.category, titleWordVectors: vectors?.[i] })) {
        const cur = p.values.get(a.name);
        if (a.field === 'title' && (cur === undefined || a.confidence > cur.confidence)) p.values.set(a.name, { raw: a.raw ?? a.value, confidence: a.confidence });
      }
    });
  }
  return predictions;
}

/**
 * Reads the ExtractGPT JSONL format (`{input, category, target_scores: {attribute: {value: 1}}}`,
 * e.g. `data/oa-mine/train.jsonl`); the first value of each attribute is the gold value.
 */
export function parseExtractGptJsonl(text: string): GoldExample[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      const r = JSON.parse(line) as { input?: unknown; category?: unknown; target_scores?: Record<string, Record<string, number>> };
      if (typeof r.input !== 'string' || typeof r.category !== 'string' || typeof r.target_scores !== 'object') {
        throw new TypeError(`line ${i + 1}: expected {input, category, target_scores}`);
      }
      const gold: Record<string, string> = {};
      for (const [attr, values] of Object.entries(r.target_scores)) {
        const v = Object.keys(values)[0];
        if (v !== undefined) gold[attr] = v;
      }
      return { title: r.input, category: r.category, gold };
    });
}

export interface CrossValidatedEvaluation {
  /** Every schema attribute scored, absent gold = n/a (false positives count): the headline. */
  schema: EvaluationReport;
  /** Only annotated attributes scored, as the study's released code does for OA-Mine. */
  annotated: EvaluationReport;
  /** Micro scores of both protocols at several confidence thresholds. */
  curve: { threshold: number; schema: Scores; annotated: Scores }[];
  predictions: Prediction[];
}

/** Cross-validates and scores in one go, so the benchmark and the regression test measure the same thing. */
export function evaluateCrossValidated(
  examples: readonly GoldExample[],
  options: CrossValidationOptions & { minConfidence?: number; thresholds?: readonly number[] },
): CrossValidatedEvaluation {
  const predictions = crossValidate(examples, options);
  const th = options.minConfidence ?? 0.5;
  return {
    schema: scoreExactMatch(examples, predictions, options.schemas, 'schema', th),
    annotated: scoreExactMatch(examples, predictions, options.schemas, 'annotated', th),
    curve: (options.thresholds ?? []).map((t) => ({
      threshold: t,
      schema: scoreExactMatch(examples, predictions, options.schemas, 'schema', t).micro,
      annotated: scoreExactMatch(examples, predictions, options.schemas, 'annotated', t).micro,
    })),
    predictions,
  };
}
