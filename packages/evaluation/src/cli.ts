/**
 * ./dev eval <dataset|dir> [...] — see the README's "Evaluation" section.
 */
import { baselineFamilies } from './baselines';
import { datasetSummaries, loadDataset } from './datasets';
import { mkdirSync, writeFileSync } from 'node:fs';
import { DEFAULT_RANKER_CONFIG } from '@affinity/recommend';
import { fitRanker, gatherFitData } from './fit';
import { EnrichedCatalog, PipelineMethod } from './pipeline';
import { evaluate } from './run';
import { timeSplit } from './split';
import type { Method } from './types';

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('--'));
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
if (names.length === 0) {
  console.log('usage: ./dev eval <dataset|all|dir>...\n');
  for (const d of datasetSummaries()) console.log(`  ${d.name.padEnd(14)} ${d.summary}`);
  process.exit(2);
}
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
for (const name of names) {
  const { dataset, rejected } = loadDataset(name);
  console.error(`${dataset.name}: ${dataset.products.length} products, ${dataset.events.length} events (${rejected.events} rejected)`);
  const catalog = new EnrichedCatalog(dataset.products, redisUrl, true);
  const pipeline = new PipelineMethod({ name: 'Affinity', prefix: `affinity-eval-${process.pid}`, catalog, redisUrl, progress: true });
  const methods: Method[] = [pipeline];
  if (args.includes('--fit')) {
    const validation = timeSplit(timeSplit(dataset.events).train);
    const fitter = new PipelineMethod({ name: 'Affinity (validation)', prefix: `affinity-eval-${process.pid}-fit`, catalog, redisUrl, progress: true });
    await fitter.fit({ products: dataset.products, events: validation.train, splitTs: validation.splitTs });
    const data = await gatherFitData(fitter, validation, dataset.name, { progress: true });
    await fitter.close();
    const { config, reports } = fitRanker(DEFAULT_RANKER_CONFIG, [data], `fitted on ${dataset.name} (validation split, ${new Date().toISOString().slice(0, 10)})`, { log: (m) => console.error(`  ${m}`) });
    for (const r of reports) console.error(`  fit ${r.kind}: ${r.lists} lists, ${r.rows} rows, ${r.positives} positives, candidate recall ${r.candidateRecall.toFixed(3)}, threshold ${r.threshold}, logistic ${r.logistic.toFixed(4)} → ${r.objective.toFixed(4)}`);
    mkdirSync('.affinity/eval', { recursive: true });
    writeFileSync(`.affinity/eval/${dataset.name}.ranker.json`, `${JSON.stringify(config, null, 2)}\n`);
    console.error(JSON.stringify(config.kinds, null, 1));
    methods.push(new PipelineMethod({ name: 'Affinity (fitted)', prefix: `affinity-eval-${process.pid}-fitted`, catalog, redisUrl, progress: true, ranker: config }));
  }
  const baselines = only === 'pipeline' ? [] : baselineFamilies();
  const r = await evaluate(dataset, [...methods, ...baselines], { progress: true, log: (m) => console.error(`  ${m}`) });
  for (const [task, t] of Object.entries(r.tasks)) {
    console.log(`${dataset.name} ${task} (${t.queries} queries)`);
    for (const [m, a] of Object.entries(t.methods))
      console.log(
        `  ${m.padEnd(34)} R@10 ${a.metrics['recall@10'].toFixed(4)} R@20 ${a.metrics['recall@20'].toFixed(4)} N@10 ${a.metrics['ndcg@10'].toFixed(4)} len ${a.meanLength.toFixed(1)} empty ${a.emptyShare.toFixed(2)} ${a.variant ?? ''} ${a.seconds.toFixed(1)}s`,
      );
  }
  console.log(`${r.seconds.toFixed(0)} s`);
}
process.exit(0);
