/**
 * Error analysis for attribute extraction: cross-validates like run.ts and prints, per
 * attribute, the wrong values (VW), misses (VN) and false positives (NV) with their titles.
 *
 *   npx tsx bench/attributes/errors.ts [attribute ...] > /tmp/errors.txt
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crossValidate, loadCategorySchemas, parseExtractGptJsonl, scoreExactMatch } from '@affinity/attributes';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const examples = parseExtractGptJsonl(readFileSync(join(ROOT, 'data', 'oa-mine', 'train.jsonl'), 'utf8'));
const schemas = loadCategorySchemas();
const only = new Set(process.argv.slice(2));
const TH = 0.5;
const predictions = crossValidate(examples, { schemas, folds: 5, seed: 7 });
const r = scoreExactMatch(examples, predictions, schemas, 'schema', TH);
console.log(`micro P ${r.micro.precision.toFixed(3)} R ${r.micro.recall.toFixed(3)} F1 ${r.micro.f1.toFixed(3)}`);
const keyOf = (schemaAttrs: string[], k: string) => schemaAttrs.find((a) => a === k.toLowerCase().replace(/[^a-z0-9]+/g, '_'));
examples.forEach((ex, i) => {
  const schema = schemas.find((s) => s.category === ex.category);
  const attrs = schema?.attributes.map((a) => a.name) ?? [];
  const gold = new Map<string, string>();
  for (const [k, v] of Object.entries(ex.gold)) {
    const a = keyOf(attrs, k);
    if (a !== undefined && v.trim() !== '' && v.trim() !== 'n/a') gold.set(a, v.trim());
  }
  const pred = predictions[i]?.values ?? new Map();
  for (const a of attrs) {
    if (only.size > 0 && !only.has(a)) continue;
    const g = gold.get(a);
    const p0 = pred.get(a);
    const p = p0 !== undefined && p0.confidence >= TH ? p0.raw : undefined;
    if (g === p) continue;
    const kind = g === undefined ? 'NV' : p === undefined ? 'VN' : 'VW';
    console.log(`${a}\t${kind}\tgold=${JSON.stringify(g ?? null)}\tpred=${JSON.stringify(p ?? null)}${p0 ? ` (${p0.confidence.toFixed(2)})` : ''}\t${ex.title}`);
  }
});
