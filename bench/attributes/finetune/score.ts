/**
 * Scores taggers' predictions (as finetune.py, ensemble.py and `experiment.ts --dump` write them)
 * with the attribute benchmark's protocol — exact match, both protocols, several confidence
 * thresholds — on the same titles, so their F1 compares with `./dev bench attributes`:
 *
 *   npx tsx bench/attributes/finetune/score.ts NAME=PREDICTIONS.jsonl... [--only=FILE] [--out=PREFIX] [--about=TEXT]
 *
 * Scores the titles the first file predicts, or those FILE predicts with --only (a run over some
 * folds then compares with the same folds of a full run). --out writes PREFIX.json and PREFIX.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Prediction, loadCategorySchemas, parseExtractGptJsonl, scoreExactMatch } from '@affinity/attributes';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
const examples = parseExtractGptJsonl(readFileSync(join(ROOT, 'data', 'oa-mine', 'train.jsonl'), 'utf8'));
const args = process.argv.slice(2);
const systems = args.filter((a) => !a.startsWith('--')).map((a) => a.split('=') as [string, string]);
if (systems.length === 0 || systems.some((s) => s[1] === undefined)) throw new Error('usage: score.ts NAME=PREDICTIONS.jsonl... [--only=FILE] [--out=PREFIX]');
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const out = args.find((a) => a.startsWith('--out='))?.slice(6);
const about = args.find((a) => a.startsWith('--about='))?.slice(8);

function read(path: string): Map<number, Record<string, [string, number]>> {
  const m = new Map<number, Record<string, [string, number]>>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const r = JSON.parse(line) as { i: number; values: Record<string, [string, number]> };
    m.set(r.i, r.values);
  }
  return m;
}

const idx = [...read(only ?? systems[0]![1]).keys()].sort((a, b) => a - b);
const schemas = loadCategorySchemas();
const ex = idx.map((i) => examples[i]!);
const f = (x: number) => x.toFixed(3);
const results = systems.map(([name, path]) => {
  const predicted = read(path);
  const pr: Prediction[] = idx.map((i) => ({
    values: new Map(Object.entries(predicted.get(i) ?? {}).map(([attr, [raw, confidence]]) => [attr, { raw, confidence }])),
  }));
  const curve = THRESHOLDS.map((threshold) => ({
    threshold,
    schema: scoreExactMatch(ex, pr, schemas, 'schema', threshold).micro,
    annotated: scoreExactMatch(ex, pr, schemas, 'annotated', threshold).micro,
  }));
  return { name, file: path, curve };
});

const md = [`# Fine-tuned tagger vs CRF on OA-Mine`, '', `\`bench/attributes/finetune/run.sh\` — ${new Date().toISOString()}; ${idx.length} titles, the benchmark's folds and exact-match protocols.`, '', ...(about === undefined ? [] : [about, ''])];
md.push('| system | threshold | P (schema) | R | F1 | P (annotated) | F1 (annotated) |', '|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`== ${r.name} (${idx.length} titles)`);
  for (const c of r.curve) {
    console.log(`t=${c.threshold}: schema P ${f(c.schema.precision)} R ${f(c.schema.recall)} F1 ${f(c.schema.f1)} | annotated P ${f(c.annotated.precision)} R ${f(c.annotated.recall)} F1 ${f(c.annotated.f1)}`);
    md.push(`| ${r.name} | ${c.threshold} | ${f(c.schema.precision)} | ${f(c.schema.recall)} | ${f(c.schema.f1)} | ${f(c.annotated.precision)} | ${f(c.annotated.f1)} |`);
  }
}
if (out !== undefined) {
  writeFileSync(`${out}.json`, `${JSON.stringify({ date: new Date().toISOString(), titles: idx.length, about, systems: results }, null, 2)}\n`);
  writeFileSync(`${out}.md`, `${md.join('\n')}\n`);
}
