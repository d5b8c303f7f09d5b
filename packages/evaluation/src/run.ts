import type { Interaction } from '@affinity/contracts';
import { Aggregator, type Aggregate } from './metrics';
import { Progress } from './progress';
import { timeSplit } from './split';
import { buildTasks } from './tasks';
import { TASKS, type EvalDataset, type Method, type MetricName, type Query, type TaskName, type TrainingData } from './types';

/** A method, or a family of variants of one baseline whose best member is picked per task on a validation split. */
export type MethodSpec = Method | { name: string; variants: () => Method[] };

export interface EvalOptions {
  /** Share of the events (in time order) that trains. @defaultValue 0.8 */
  trainFraction?: number;
  /** Queries per task, at most. @defaultValue 3000 */
  maxQueries?: number;
  /** List length requested. @defaultValue 20 */
  k?: number;
  /** Print progress to stderr. @defaultValue false */
  progress?: boolean;
  /** Called with each step's name when it starts. */
  log?: (message: string) => void;
}

export interface MethodResult extends Aggregate {
  /** The variant a tuned baseline used for this task (chosen on the validation split). */
  variant?: string;
  seconds: number;
}

export interface TaskResult {
  queries: number;
  methods: Record<string, MethodResult>;
}

export interface EvalResult {
  dataset: { name: string; description: string; attribution: string; products: number; events: number; users: number };
  split: { splitTs: string; train: number; test: number; validationTrain: number };
  main: { task: TaskName; metric: MetricName };
  tasks: Partial<Record<TaskName, TaskResult>>;
  /** The main metric: the pipeline's, the best baseline's, and their ratio. */
  verdict?: { pipeline: string; value: number; bestBaseline: string; baselineValue: number; ratio: number };
  seconds: number;
}

const isFamily = (m: MethodSpec): m is { name: string; variants: () => Method[] } => 'variants' in m;

function popularityPercentiles(train: readonly Interaction[]): (id: string) => number {
  const counts = new Map<string, number>();
  for (const e of train) counts.set(e.productId, (counts.get(e.productId) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => a[1] - b[1]);
  const pct = new Map<string, number>();
  sorted.forEach(([id], i) => pct.set(id, sorted.length > 1 ? i / (sorted.length - 1) : 1));
  return (id) => pct.get(id) ?? 0;
}

async function runQueries(method: Method, queries: readonly Query[], k: number, agg: Aggregator, progress?: Progress): Promise<void> {
  let done = 0;
  for (const q of queries) {
    agg.add(q, await method.recommend(q, k + q.known.size));
    progress?.update(++done);
  }
}

/** The cut-off a metric name is measured at. */
const cutoff = (metric: MetricName): number => Number(metric.split('@')[1]);

/**
 * Replays a log split in event time and evaluates every method on every task the log allows,
 * on the same split and the same queries. Families of baseline variants pick, per task, the
 * variant with the best recall on a validation split carved from the training part (the
 * same fraction again), then are refit on the whole training part.
 */
export async function evaluate(dataset: EvalDataset, specs: readonly MethodSpec[], options: EvalOptions = {}): Promise<EvalResult> {
  const started = performance.now();
  const fraction = options.trainFraction ?? 0.8;
  const k = options.k ?? 20;
  const log = options.log ?? (() => undefined);
  const outer = timeSplit(dataset.events, fraction);
  const allowed = (t: TaskName) => dataset.tasks === undefined || dataset.tasks.includes(t);
  const tasks = new Map([...buildTasks(outer.train, outer.test, { maxQueries: options.maxQueries })].filter(([t]) => allowed(t)));
  const training: TrainingData = { products: dataset.products, events: outer.train, splitTs: outer.splitTs };
  const percentile = popularityPercentiles(outer.train);
  const catalog = dataset.products.length;
  const result: EvalResult = {
    dataset: {
      name: dataset.name,
      description: dataset.description,
      attribution: dataset.attribution,
      products: dataset.products.length,
      events: dataset.events.length,
      users: new Set(dataset.events.map((e) => e.userId)).size,
    },
    split: { splitTs: new Date(outer.splitTs).toISOString(), train: outer.train.length, test: outer.test.length, validationTrain: 0 },
    main: dataset.main,
    tasks: {},
    seconds: 0,
  };
  const taskNames = TASKS.filter((t) => (tasks.get(t)?.length ?? 0) > 0);
  for (const t of taskNames) result.tasks[t] = { queries: tasks.get(t)!.length, methods: {} };

  // Validation split for the baseline families.
  const inner = timeSplit(outer.train, fraction);
  result.split.validationTrain = inner.train.length;
  const innerTasks = new Map([...buildTasks(inner.train, inner.test, { maxQueries: Math.min(1000, options.maxQueries ?? 1000) })].filter(([t]) => allowed(t)));
  const innerTraining: TrainingData = { products: dataset.products, events: inner.train, splitTs: inner.splitTs };

  for (const spec of specs) {
    const chosen = new Map<TaskName, Method>();
    if (isFamily(spec)) {
      const variants = spec.variants();
      const best = new Map<TaskName, { method: Method; value: number }>();
      log(`${spec.name}: choosing among ${variants.length} variants on the validation split`);
      for (const v of variants) {
        await v.fit(innerTraining);
        for (const t of taskNames) {
          const qs = innerTasks.get(t) ?? [];
          if (qs.length === 0) continue;
          const agg = new Aggregator(catalog, percentile);
          await runQueries(v, qs, k, agg);
          const metric: MetricName = t === dataset.main.task ? dataset.main.metric : 'recall@20';
          const value = agg.result().metrics[`recall@${cutoff(metric)}` as MetricName];
          if (!best.has(t) || value > best.get(t)!.value) best.set(t, { method: v, value });
        }
      }
      for (const t of taskNames) chosen.set(t, best.get(t)?.method ?? variants[0]!);
    } else for (const t of taskNames) chosen.set(t, spec);

    const fitted = new Set<Method>();
    for (const t of taskNames) {
      const method = chosen.get(t)!;
      const fitStarted = performance.now();
      if (!fitted.has(method)) {
        log(`${spec.name}: fitting${method.name !== spec.name ? ` (${method.name})` : ''}`);
        await method.fit(training);
        fitted.add(method);
      }
      const queries = tasks.get(t)!;
      const agg = new Aggregator(catalog, percentile);
      const progress = new Progress(`${spec.name} · ${t}`, queries.length, options.progress ?? false);
      await runQueries(method, queries, k, agg, progress);
      progress.done();
      const r: MethodResult = { ...agg.result(), seconds: (performance.now() - fitStarted) / 1000 };
      if (method.name !== spec.name) r.variant = method.name;
      result.tasks[t]!.methods[spec.name] = r;
    }
    for (const m of fitted) await m.close?.();
  }

  const main = result.tasks[dataset.main.task];
  if (main) {
    const entries = Object.entries(main.methods);
    const isPipeline = (name: string) => specs.some((s) => !isFamily(s) && s.name === name && s.kind === 'pipeline');
    // The verdict is about the first pipeline given (the default configuration), against baselines only.
    const pipeline = entries.find(([name]) => isPipeline(name));
    const baselines = entries.filter(([name]) => !isPipeline(name)).sort((a, b) => b[1].metrics[dataset.main.metric] - a[1].metrics[dataset.main.metric]);
    if (pipeline && baselines[0]) {
      const value = pipeline[1].metrics[dataset.main.metric];
      const baselineValue = baselines[0][1].metrics[dataset.main.metric];
      result.verdict = { pipeline: pipeline[0], value, bestBaseline: baselines[0][0], baselineValue, ratio: baselineValue > 0 ? value / baselineValue : Infinity };
    }
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
