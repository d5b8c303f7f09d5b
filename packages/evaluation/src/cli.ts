/**
 * `./dev eval <dataset|all|dir>... [options]`: replays real logs through the production ranking
 * code and the baselines on one time split, and writes JSON, Markdown and an HTML report.
 *
 *   --fit             also fit the ranker on a validation split of each log's training part
 *                     (writes <out>/<name>.ranker.json, loadable with RECS_RANKER_CONFIG) and
 *                     evaluate the fitted configuration next to the default one
 *   --write-default   with --fit: fit one configuration on every given log's validation split
 *                     together and write it as the bundled default (packages/recommend/src/default-ranker.json)
 *   --base FILE       the ranker configuration fits start from (default: the bundled default)
 *   --config FILE     evaluate this ranker configuration as "Affinity" instead of the bundled default
 *   --fit-only        fit and write configurations, skip the evaluation on the test split
 *   --out DIR         where the reports go (default .affinity/eval)
 *   --events N        only the first N events of each log (and the products they touch): a quick run
 *   --queries N       at most N questions per task (default 3000)
 *   --no-baselines    the pipeline only
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_RANKER_CONFIG, type RankerConfigInput } from '@affinity/recommend';
import { parseEnv, redisConnection, redisEnv } from '@affinity/stream';
import { baselineFamilies } from './baselines';
import { DATASETS, datasetSummaries, loadDataset } from './datasets';
import { fitRanker, gatherFitData, type FitData } from './fit';
import { EnrichedCatalog, PipelineMethod } from './pipeline';
import { htmlReport, markdownReport } from './report';
import { evaluate, type EvalResult } from './run';
import { timeSplit } from './split';
import type { EvalDataset, Method } from './types';

const DEFAULT_CONFIG_PATH = resolve(import.meta.dirname, '../../recommend/src/default-ranker.json');

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** The first `n` events and the products they touch. */
function head(d: EvalDataset, n: number): EvalDataset {
  const events = d.events.slice(0, n);
  const used = new Set(events.map((e) => e.productId));
  return { ...d, events, products: d.products.filter((p) => used.has(p.productId)), description: `${d.description} First ${events.length} events only.` };
}

async function main(argv: string[]): Promise<number> {
  const valued = new Set(['--out', '--events', '--queries', '--base', '--config']);
  const names = argv.filter((a, i) => !a.startsWith('--') && !valued.has(argv[i - 1] ?? ''));
  if (names.length === 0) {
    console.log('usage: ./dev eval <dataset|all|dir>... [--fit] [--fit-only] [--write-default] [--base FILE] [--config FILE] [--out DIR] [--events N] [--queries N] [--no-baselines]\n');
    for (const d of datasetSummaries()) console.log(`  ${d.name.padEnd(14)} ${d.summary}`);
    console.log(`  ${'<dir>'.padEnd(14)} your own log: products.csv and events.csv (see the README's Evaluation section)`);
    return 2;
  }
  const fitOnly = argv.includes('--fit-only');
  const fit = argv.includes('--fit') || fitOnly;
  const baseFile = option(argv, '--base');
  const base: RankerConfigInput = baseFile ? (JSON.parse(readFileSync(baseFile, 'utf8')) as RankerConfigInput) : DEFAULT_RANKER_CONFIG;
  const configFile = option(argv, '--config');
  const evaluated: RankerConfigInput | undefined = configFile ? (JSON.parse(readFileSync(configFile, 'utf8')) as RankerConfigInput) : undefined;
  const writeDefault = argv.includes('--write-default');
  if (writeDefault && !fit) throw new Error('--write-default needs --fit');
  const out = resolve(option(argv, '--out') ?? '.affinity/eval');
  const events = option(argv, '--events');
  const queries = option(argv, '--queries');
  // REDIS_URL and the credential/TLS settings, as the services read them.
  const redisUrl = redisConnection(parseEnv(redisEnv));
  const command = `./dev eval ${argv.join(' ')}`;
  mkdirSync(out, { recursive: true });
  const prefix = `affinity-eval-${process.pid}`;

  const results: EvalResult[] = [];
  const pooled: FitData[] = [];
  for (const name of names.flatMap((n) => (n === 'all' ? DATASETS : [n]))) {
    const loaded = loadDataset(name);
    const dataset = events ? head(loaded.dataset, Number(events)) : loaded.dataset;
    const rejected = loaded.rejected;
    console.error(`\n${dataset.name}: ${dataset.products.length} products, ${dataset.events.length} events${rejected.events + rejected.products > 0 ? ` (rejected: ${rejected.products} products, ${rejected.events} events; first: ${rejected.firstReason})` : ''}`);
    const catalog = new EnrichedCatalog(dataset.products, redisUrl, true);
    const methods: Method[] = [new PipelineMethod({ name: 'Affinity', prefix: `${prefix}-a`, catalog, redisUrl, progress: true, ...(evaluated ? { ranker: evaluated } : {}) })];
    if (fit) {
      const validation = timeSplit(timeSplit(dataset.events).train);
      const fitter = new PipelineMethod({ name: 'Affinity (validation)', prefix: `${prefix}-v`, catalog, redisUrl, progress: true });
      await fitter.fit({ products: dataset.products, events: validation.train, splitTs: validation.splitTs });
      const data = await gatherFitData(fitter, validation, dataset.name, { progress: true, tasks: dataset.tasks });
      await fitter.close();
      pooled.push(data);
      const { config, reports } = fitRanker(base, [data], `fitted on ${dataset.name}'s validation split (${new Date().toISOString().slice(0, 10)})`, { log: (m) => console.error(`  ${m}`) });
      for (const r of reports) {
        console.error(`  fitted ${r.slot}: ${r.lists} lists, ${r.positives} chosen of ${r.rows} candidates (candidate recall ${r.candidateRecall.toFixed(3)}), cut-off ${r.threshold}, validation: base ${r.base.toFixed(4)}, logistic ${r.logistic.toFixed(4)}, fitted ${r.objective.toFixed(4)}`);
      }
      writeFileSync(resolve(out, `${dataset.name}.ranker.json`), `${JSON.stringify(config, null, 2)}\n`);
      methods.push(new PipelineMethod({ name: 'Affinity (fitted)', prefix: `${prefix}-f`, catalog, redisUrl, progress: true, ranker: config }));
    }
    if (fitOnly) continue;
    const specs = argv.includes('--no-baselines') ? methods : [...methods, ...baselineFamilies()];
    const result = await evaluate(dataset, specs, { progress: true, maxQueries: queries ? Number(queries) : undefined, log: (m) => console.error(`  ${m}`) });
    results.push(result);
    writeFileSync(resolve(out, `${dataset.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    if (result.verdict) {
      const v = result.verdict;
      console.error(`  ${dataset.name} ${result.main.task} ${result.main.metric}: ${v.pipeline} ${v.value.toFixed(4)} vs ${v.bestBaseline} ${v.baselineValue.toFixed(4)} → ${v.ratio.toFixed(3)}×`);
    }
  }
  if (writeDefault) {
    const { config, reports } = fitRanker(base, pooled, `fitted on the validation splits of ${pooled.map((d) => d.dataset).join(', ')}, each weighing the same (./dev eval ${names.join(' ')} --fit --write-default, ${new Date().toISOString().slice(0, 10)})`, {
      log: (m) => console.error(`  pooled ${m}`),
    });
    for (const r of reports) console.error(`  pooled ${r.slot}: cut-off ${r.threshold}, validation: base ${r.base.toFixed(4)}, logistic ${r.logistic.toFixed(4)}, fitted ${r.objective.toFixed(4)}`);
    writeFileSync(DEFAULT_CONFIG_PATH, `${JSON.stringify(config satisfies RankerConfigInput, null, 2)}\n`);
    console.error(`  wrote ${DEFAULT_CONFIG_PATH}`);
  }
  if (results.length === 0) return 0;
  writeFileSync(resolve(out, 'report.md'), `${markdownReport(results, command)}\n`);
  writeFileSync(resolve(out, 'report.html'), htmlReport(results, command));
  console.log(markdownReport(results, command));
  console.error(`\nreports: ${resolve(out, 'report.html')}, ${resolve(out, 'report.md')}, ${results.map((r) => `${r.dataset.name}.json`).join(', ')}`);
  return 0;
}

process.exit(await main(process.argv.slice(2)));
