import type { RecKind } from '@affinity/contracts';
import { FEATURES, Ranker, compileRankerConfig, type BlendModel, type Feature, type KindModel, type RankRequest, type RankerConfigInput } from '@affinity/recommend';
import type { PipelineMethod } from './pipeline';
import { Progress } from './progress';
import type { TimeSplit } from './split';
import { buildTasks } from './tasks';
import { scoreQuery } from './metrics';
import type { MetricName, Query, TaskName } from './types';

type FitKind = Exclude<RecKind, 'trending'>;

/** One list gathered on the validation split, with the items the shopper then chose. */
export interface FitList {
  kind: FitKind;
  subject: string;
  request: RankRequest;
  targets: ReadonlySet<string>;
}

/** What is fitted: a kind's model, or its cold-start model (subjects without behaviour). */
export type FitSlot = FitKind | `${FitKind}:cold`;

/** A validation split's lists and questions, from one dataset. */
export interface FitData {
  dataset: string;
  /** By `kind:subject`. */
  lists: Map<string, FitList>;
  /** The questions each slot is judged by (basket completion, next items, next click; cold-start items and shoppers). */
  queries: Map<FitSlot, Query[]>;
}

export interface FitReport {
  slot: FitSlot;
  lists: number;
  rows: number;
  positives: number;
  /** Share of the chosen items that were among the gathered candidates at all. */
  candidateRecall: number;
  threshold: number;
  /** The objective (mean over datasets) with the base configuration (−1 if it has no model for the slot), the logistic fit alone, and after coordinate ascent. */
  base: number;
  logistic: number;
  objective: number;
}

/** The task that judges each slot on the validation split, and its metric's cut-off. */
const TASK_OF: Record<FitSlot, { task: TaskName; k: number }> = {
  complementary: { task: 'basket', k: 10 },
  personalized: { task: 'next-items', k: 20 },
  similar: { task: 'session', k: 20 },
  'complementary:cold': { task: 'cold-items', k: 20 },
  'personalized:cold': { task: 'cold-users', k: 20 },
  'similar:cold': { task: 'cold-items', k: 20 },
};
const SLOTS = Object.keys(TASK_OF) as FitSlot[];
const kindOf = (slot: FitSlot): FitKind => slot.split(':')[0] as FitKind;

/**
 * Gathers the lists of the validation split's questions through the pipeline (fitted on the
 * validation training part): the complementary list of every item of a held-out basket, the
 * personalized list of every shopper with history, the similar list of every item a session
 * moved on from.
 */
export async function gatherFitData(
  pipeline: PipelineMethod,
  split: TimeSplit,
  dataset: string,
  options: { maxQueries?: number; progress?: boolean; tasks?: readonly TaskName[] } = {},
): Promise<FitData> {
  const tasks = new Map([...buildTasks(split.train, split.test, { maxQueries: options.maxQueries ?? 1500, seed: 7 })].filter(([t]) => options.tasks === undefined || options.tasks.includes(t)));
  const lists = new Map<string, FitList>();
  const queries = new Map<FitSlot, Query[]>();
  const wanted = new Map<string, { kind: FitKind; subject: string; targets: Set<string> }>();
  for (const slot of SLOTS) {
    const kind = kindOf(slot);
    // Cold-start items are asked about with the list kind the log uses for them (complementary for baskets, similar for sessions).
    const qs = (tasks.get(TASK_OF[slot].task) ?? []).filter((q) => q.list.kind === kind);
    if (qs.length === 0) continue;
    queries.set(slot, qs);
    for (const q of qs) {
      const l = q.list;
      // Every item of a basket is a complement of every other: one list per anchor, all of them as targets.
      const subjects = l.kind === 'complementary' ? l.anchors : l.kind === 'personalized' ? [l.user] : [l.item];
      for (const subject of subjects) {
        const key = `${kind}:${subject}`;
        const w = wanted.get(key) ?? { kind, subject, targets: new Set<string>() };
        for (const t of q.targets) w.targets.add(t);
        wanted.set(key, w);
      }
    }
  }
  const progress = new Progress(`${dataset}: gathering validation lists`, wanted.size, options.progress ?? false);
  let done = 0;
  for (const [key, w] of wanted) {
    const g = await pipeline.gather(w.kind, w.subject);
    progress.update(++done);
    if (g) lists.set(key, { kind: w.kind, subject: w.subject, request: g.request, targets: w.targets });
  }
  progress.done();
  return { dataset, lists, queries };
}

/**
 * The metric a kind is judged by on validation data: recall@10 of basket completion from the
 * fused complementary lists, recall@20 of personalized and similar lists. Mean over datasets,
 * each weighing the same once it has {@link FULL_WEIGHT_QUERIES} questions.
 */
export function objective(config: RankerConfigInput, data: readonly FitData[], slot: FitSlot): number {
  const { values, weights } = objectiveParts(config, data, slot);
  const total = weights.reduce((a, b) => a + b, 0);
  return total > 0 ? values.reduce((a, v, i) => a + v * weights[i]!, 0) / total : 0;
}

/** The slot's metric on each dataset that has questions for it, and each dataset's weight. */
function objectiveParts(config: RankerConfigInput, data: readonly FitData[], slot: FitSlot): { values: number[]; weights: number[] } {
  const ranker = new Ranker(config);
  const kind = kindOf(slot);
  const { k } = TASK_OF[slot];
  const values: number[] = [];
  const weights: number[] = [];
  for (const d of data) {
    const qs = d.queries.get(slot) ?? [];
    if (qs.length === 0) continue;
    const ranked = new Map<string, { productId: string; score: number }[]>();
    const listOf = (subject: string) => {
      const key = `${kind}:${subject}`;
      let r = ranked.get(key);
      if (!r) {
        const l = d.lists.get(key);
        ranked.set(key, (r = l ? ranker.rank(l.request, { explain: false }) : []));
      }
      return r;
    };
    let sum = 0;
    for (const q of qs) {
      let list: { productId: string; score: number }[];
      const l = q.list;
      if (l.kind === 'complementary') {
        const fused = new Map<string, number>();
        for (const a of l.anchors) for (const i of listOf(a)) fused.set(i.productId, (fused.get(i.productId) ?? 0) + i.score);
        list = [...fused].map(([productId, score]) => ({ productId, score })).sort((a, b) => b.score - a.score || (a.productId < b.productId ? -1 : 1));
      } else list = listOf(l.kind === 'personalized' ? l.user : l.item);
      sum += scoreQuery(q, list).metrics[`recall@${k}` as MetricName];
    }
    values.push(sum / qs.length);
    weights.push(Math.min(1, qs.length / FULL_WEIGHT_QUERIES));
  }
  return { values, weights };
}

/**
 * How a pooled fit compares candidates: the weighted mean over datasets of each dataset's
 * metric relative to the reference model's on that dataset, and no dataset may fall more than
 * 2% below its reference — one configuration for every catalog must not buy a gain on one log
 * with a loss on another, nor let the logs with the highest absolute recall decide alone.
 * With one dataset it is the plain metric.
 */
function pooledScore(parts: { values: number[]; weights: number[] }, reference: { values: number[] } | undefined): number {
  const { values, weights } = parts;
  if (values.length <= 1 || !reference) {
    const total = weights.reduce((a, b) => a + b, 0);
    return total > 0 ? values.reduce((a, v, i) => a + v * weights[i]!, 0) / total : 0;
  }
  let sum = 0;
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const ratio = reference.values[i]! > 0 ? values[i]! / reference.values[i]! : 1;
    if (ratio < MIN_POOLED_RATIO) return -Infinity;
    sum += ratio * weights[i]!;
    total += weights[i]!;
  }
  return total > 0 ? sum / total : 0;
}

/** No dataset of a pooled fit may fall below this share of its reference metric. */
const MIN_POOLED_RATIO = 0.98;

/** A dataset with fewer validation questions for a slot than this weighs proportionally less (its metric is noisier). */
const FULL_WEIGHT_QUERIES = 300;
/** A slot is fitted only on at least this many validation questions in all; with fewer it keeps the base model. */
const MIN_FIT_QUERIES = 100;

/**
 * L2-regularised logistic regression by Newton's method (IRLS) on standardised features, with
 * per-row weights. Returns the intercept and weights on the original feature scale.
 */
export function logisticRegression(rows: readonly Float64Array[], labels: readonly number[], weights: readonly number[], l2: number): { bias: number; w: Float64Array } {
  const d = rows[0]?.length ?? 0;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  let wsum = 0;
  rows.forEach((x, r) => {
    wsum += weights[r]!;
    for (let j = 0; j < d; j++) mean[j]! += weights[r]! * x[j]!;
  });
  for (let j = 0; j < d; j++) mean[j]! /= wsum || 1;
  rows.forEach((x, r) => {
    for (let j = 0; j < d; j++) std[j]! += weights[r]! * (x[j]! - mean[j]!) ** 2;
  });
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]! / (wsum || 1)) || 1;
  // Parameters: θ[0] intercept, θ[1..d] standardised weights.
  const p = d + 1;
  const theta = new Float64Array(p);
  const z = new Float64Array(p);
  for (let iter = 0; iter < 50; iter++) {
    const grad = new Float64Array(p);
    const hess = new Float64Array(p * p);
    for (let r = 0; r < rows.length; r++) {
      const x = rows[r]!;
      z[0] = 1;
      for (let j = 0; j < d; j++) z[j + 1] = (x[j]! - mean[j]!) / std[j]!;
      let logit = 0;
      for (let j = 0; j < p; j++) logit += theta[j]! * z[j]!;
      const mu = 1 / (1 + Math.exp(-logit));
      const w = weights[r]!;
      const g = w * (mu - labels[r]!);
      const h = w * Math.max(mu * (1 - mu), 1e-9);
      for (let a = 0; a < p; a++) {
        grad[a]! += g * z[a]!;
        for (let b = 0; b <= a; b++) hess[a * p + b]! += h * z[a]! * z[b]!;
      }
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) hess[b * p + a] = hess[a * p + b]!;
    // The intercept is not penalised.
    for (let a = 1; a < p; a++) {
      grad[a]! += l2 * theta[a]!;
      hess[a * p + a]! += l2;
    }
    const step = solve(hess, grad, p);
    let change = 0;
    for (let a = 0; a < p; a++) {
      theta[a]! -= step[a]!;
      change = Math.max(change, Math.abs(step[a]!));
    }
    if (change < 1e-6) break;
  }
  const w = new Float64Array(d);
  let bias = theta[0]!;
  for (let j = 0; j < d; j++) {
    w[j] = theta[j + 1]! / std[j]!;
    bias -= w[j]! * mean[j]!;
  }
  return { bias, w };
}

/** Solves A x = b for a symmetric positive definite A (Gaussian elimination with partial pivoting). */
function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let k = 0; k < n; k++) {
    let piv = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]!) > Math.abs(m[piv * n + k]!)) piv = i;
    if (piv !== k) {
      for (let j = 0; j < n; j++) [m[k * n + j], m[piv * n + j]] = [m[piv * n + j]!, m[k * n + j]!];
      [x[k], x[piv]] = [x[piv]!, x[k]!];
    }
    const d = m[k * n + k]! || 1e-12;
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k]! / d;
      if (f === 0) continue;
      for (let j = k; j < n; j++) m[i * n + j]! -= f * m[k * n + j]!;
      x[i]! -= f * x[k]!;
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    let s = x[k]!;
    for (let j = k + 1; j < n; j++) s -= m[k * n + j]! * x[j]!;
    x[k] = s / (m[k * n + k]! || 1e-12);
  }
  return x;
}

const THRESHOLDS = [0, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2];

/**
 * Fits the ranker per list kind on validation data: a logistic regression of "chosen" on the
 * candidates' features (each dataset of a pooled fit weighs the same) gives calibrated
 * relevances; then the relevance cut-off and the weights are refined by coordinate ascent on
 * the kind's own metric (the cut-off decides where fillers take over; the metric is what the
 * lists are judged by). Kinds without validation questions keep the base model.
 */
export function fitRanker(base: RankerConfigInput, data: readonly FitData[], source: string, options: { l2?: number; passes?: number; log?: (m: string) => void } = {}): { config: RankerConfigInput; reports: FitReport[] } {
  const l2 = options.l2 ?? 1;
  const config = structuredClone(compileRankerConfig(base)) as RankerConfigInput & { kinds: Record<RecKind, KindModel> };
  delete config.version;
  config.source = source;
  const reports: FitReport[] = [];
  // A kind without a cold-start model ranks new subjects with its warm model. Fitting the warm
  // model on behaviour-rich lists must not change how new subjects rank (a catalog without
  // behaviour yet would get weights learnt from co-purchases): they keep the base model.
  for (const kind of Object.keys(config.kinds) as RecKind[]) {
    const m = config.kinds[kind];
    if (kind !== 'trending' && !m.cold) m.cold = { bias: m.bias, weights: { ...m.weights }, threshold: m.threshold };
  }
  for (const slot of SLOTS) {
    const kind = kindOf(slot);
    const cold = slot.endsWith(':cold');
    const withQueries = data.filter((d) => (d.queries.get(slot)?.length ?? 0) > 0);
    const questions = withQueries.reduce((n, d) => n + d.queries.get(slot)!.length, 0);
    if (questions < MIN_FIT_QUERIES) {
      if (questions > 0) options.log?.(`${slot}: ${questions} validation questions, too few to fit; keeping the base model`);
      continue;
    }
    // The lists this slot ranks: its kind's, warm or cold as the builder judged the subject.
    const lists = withQueries.flatMap((d) => [...d.lists.values()].filter((l) => l.kind === kind && (l.request.cold ?? false) === cold).map((l) => ({ l, dataset: d.dataset })));
    if (lists.length === 0) continue;
    const perDataset = new Map<string, number>();
    const rows: Float64Array[] = [];
    const labels: number[] = [];
    const rowDataset: string[] = [];
    let positives = 0;
    let targets = 0;
    let found = 0;
    for (const { l, dataset } of lists) {
      const seen = new Set<string>();
      for (const c of l.request.candidates) {
        if (seen.has(c.productId) || l.request.exclude?.has(c.productId)) continue;
        seen.add(c.productId);
        rows.push(Float64Array.from(FEATURES, (f) => c.features[f] ?? 0));
        const y = l.targets.has(c.productId) ? 1 : 0;
        labels.push(y);
        positives += y;
        rowDataset.push(dataset);
        perDataset.set(dataset, (perDataset.get(dataset) ?? 0) + 1);
      }
      targets += l.targets.size;
      for (const t of l.targets) if (seen.has(t)) found++;
    }
    if (positives === 0) continue;
    const weights = rowDataset.map((d) => rows.length / (perDataset.size * perDataset.get(d)!));
    const { bias, w } = logisticRegression(rows, labels, weights, l2);
    const model: BlendModel = { bias: round(bias), weights: {}, threshold: 0 };
    FEATURES.forEach((f: Feature, j) => {
      if (Math.abs(w[j]!) > 1e-6) model.weights[f] = round(w[j]!);
    });
    let evaluations = 0;
    const started = performance.now();
    const warm = config.kinds[kind];
    const parts = (m: BlendModel) => {
      config.kinds[kind] = cold ? { ...warm, cold: m } : { ...m, ...(warm.cold ? { cold: warm.cold } : {}) };
      evaluations++;
      return objectiveParts(config, withQueries, slot);
    };
    const mean = (p: { values: number[]; weights: number[] }) => pooledScore(p, undefined);
    // Start from the better of the base configuration's model and the logistic fit (at its best cut-off).
    const baseModel = cold ? warm.cold : warm;
    const baseParts = baseModel ? parts(baseModel) : undefined;
    const baseValue = baseParts ? mean(baseParts) : -1;
    let start = { model: { ...model }, parts: parts(model) };
    for (const threshold of THRESHOLDS) {
      const m = { ...model, threshold };
      const p = parts(m);
      if (mean(p) > mean(start.parts) + 1e-9) start = { model: m, parts: p };
    }
    const logistic = mean(start.parts);
    if (baseModel && baseParts && baseValue > logistic) start = { model: { ...baseModel }, parts: baseParts };
    // Candidates are judged relative to the starting point, dataset by dataset (see pooledScore).
    const reference = start.parts;
    const evaluate = (m: BlendModel) => pooledScore(parts(m), reference);
    let best = { model: start.model, value: pooledScore(reference, reference) };
    // Coordinate ascent on the metric itself, starting from the logistic fit.
    for (let pass = 0; pass < (options.passes ?? 2); pass++) {
      let improved = false;
      for (const f of FEATURES) {
        const cur = best.model.weights[f] ?? 0;
        for (const next of [cur * 1.5, cur * 0.67, cur + 0.5, cur - 0.5, 0]) {
          if (next === cur) continue;
          const m = { ...best.model, weights: { ...best.model.weights, [f]: round(next) } };
          const v = evaluate(m);
          if (v > best.value + 1e-4) {
            best = { model: m, value: v };
            improved = true;
          }
        }
      }
      for (const threshold of THRESHOLDS) {
        const m = { ...best.model, threshold };
        const v = evaluate(m);
        if (v > best.value + 1e-4) best = { model: m, value: v };
      }
      options.log?.(`${slot}: pass ${pass + 1}, score ${best.value.toFixed(4)} (${evaluations} evaluations, ${((performance.now() - started) / 1000).toFixed(0)} s)`);
      if (!improved) break;
    }
    const fitted = mean(parts(best.model));
    reports.push({ slot, lists: lists.length, rows: rows.length, positives, candidateRecall: targets > 0 ? found / targets : 0, threshold: best.model.threshold, base: baseValue, logistic, objective: fitted });
  }
  return { config, reports };
}

const round = (x: number): number => Number(x.toPrecision(4));
