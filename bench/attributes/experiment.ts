/**
 * One cross-validated run with the learning options given as JSON, for trying changes quickly:
 *
 *   npx tsx bench/attributes/experiment.ts '{"epochs": 10}' [--word-vectors [--model=ID]] [--folds=5] [--attrs] [--dump=FILE]
 *
 * Prints micro P/R/F1 (both protocols) at a few thresholds, and F1 per attribute with --attrs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenClusters, evaluateCrossValidated, loadCategorySchemas, parseExtractGptJsonl } from '@affinity/attributes';
import { embedTitleWords } from './word-vectors';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const examples = parseExtractGptJsonl(readFileSync(join(ROOT, 'data', 'oa-mine', 'train.jsonl'), 'utf8'));
const args = process.argv.slice(2);
const learn = JSON.parse(args.find((a) => a.startsWith('{')) ?? '{}') as Record<string, unknown>;
const clustersAt = args.indexOf('--clusters');
if (clustersAt >= 0) learn.tokenClusters = TokenClusters.fromFile(args[clustersAt + 1] as string);
const model = args.find((a) => a.startsWith('--model='))?.slice(8);
const wv = args.includes('--word-vectors') ? await embedTitleWords(examples, model) : undefined;
if (wv !== undefined) learn.wordVectors = { model: wv.model, dim: wv.dim };
const t0 = performance.now();
const r = evaluateCrossValidated(examples, {
  schemas: loadCategorySchemas(),
  folds: Number(args.find((a) => a.startsWith('--folds='))?.slice(8) ?? 5),
  seed: 7,
  minConfidence: 0.5,
  thresholds: [0.3, 0.4, 0.5, 0.6, 0.7],
  learn,
  leak: args.includes('--leak'),
  titleWordVectors: wv?.vectors,
});
const dump = args.find((a) => a.startsWith('--dump='))?.slice(7);
if (dump !== undefined) {
  // Predictions as bench/attributes/finetune/score.ts reads them, to compare taggers fold by fold.
  writeFileSync(dump, r.predictions.map((p, i) => JSON.stringify({ i, values: Object.fromEntries([...p.values].map(([k, v]) => [k, [v.raw, v.confidence]])) })).join('\n') + '\n');
}
const f = (x: number) => x.toFixed(3);
console.log(`${args.join(' ')}: schema P ${f(r.schema.micro.precision)} R ${f(r.schema.micro.recall)} F1 ${f(r.schema.micro.f1)} | annotated P ${f(r.annotated.micro.precision)} F1 ${f(r.annotated.micro.f1)} | ${((performance.now() - t0) / 1000).toFixed(1)} s`);
for (const c of r.curve) console.log(`  t=${c.threshold}: P ${f(c.schema.precision)} R ${f(c.schema.recall)} F1 ${f(c.schema.f1)}`);
if (args.includes('--attrs')) {
  for (const [k, s] of Object.entries(r.schema.perAttribute).sort(([, a], [, b]) => b.vc + b.vw + b.vn - (a.vc + a.vw + a.vn)).slice(0, 20)) {
    console.log(`  ${k.padEnd(18)} P ${f(s.precision)} R ${f(s.recall)} F1 ${f(s.f1)}`);
  }
}
