/**
 * Scores finetune.py's predictions with the attribute benchmark's protocol (exact match, both
 * protocols, several thresholds), so its F1 compares with `./dev bench attributes`:
 *
 *   npx tsx bench/attributes/finetune/score.ts PREDICTIONS.jsonl [--only=OTHER.jsonl]
 *
 * Scores the titles the file predicts; --only restricts them to those OTHER predicts (a run over
 * some folds compares with the same folds of a full run).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Prediction, loadCategorySchemas, parseExtractGptJsonl, scoreExactMatch } from '@affinity/attributes';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const examples = parseExtractGptJsonl(readFileSync(join(ROOT, 'data', 'oa-mine', 'train.jsonl'), 'utf8'));
const file = process.argv[2];
if (file === undefined) throw new Error('usage: score.ts PREDICTIONS.jsonl [--only=OTHER.jsonl]');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);

function read(path: string): Map<number, Record<string, [string, number]>> {
  const out = new Map<number, Record<string, [string, number]>>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const r = JSON.parse(line) as { i: number; values: Record<string, [string, number]> };
    out.set(r.i, r.values);
  }
  return out;
}

const predicted = read(file);
const scope = only === undefined ? predicted : read(only);
const predictions: Prediction[] = examples.map((_, i) => ({
  values: new Map(Object.entries(predicted.get(i) ?? {}).map(([attr, [raw, confidence]]) => [attr, { raw, confidence }])),
}));
const idx = [...scope.keys()].sort((a, b) => a - b);
const ex = idx.map((i) => examples[i]!);
const pr = idx.map((i) => predictions[i]!);
const schemas = loadCategorySchemas();
const f = (x: number) => x.toFixed(3);
console.log(`${idx.length} titles scored`);
for (const t of [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]) {
  const s = scoreExactMatch(ex, pr, schemas, 'schema', t).micro;
  const a = scoreExactMatch(ex, pr, schemas, 'annotated', t).micro;
  console.log(`t=${t}: schema P ${f(s.precision)} R ${f(s.recall)} F1 ${f(s.f1)} | annotated P ${f(a.precision)} R ${f(a.recall)} F1 ${f(a.f1)}`);
}
