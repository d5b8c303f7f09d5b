/**
 * Writes the OA-Mine titles with the tagger's own labels and the benchmark's folds, for training a
 * fine-tuned transformer tagger outside Node (finetune.py) on exactly what the CRF learns from:
 *
 *   npx tsx bench/attributes/finetune/export.ts > .affinity/finetune/data.jsonl
 *
 * One line per title: {i, fold, category, title, words, offsets, attributes, tags} where `tags`
 * are BIO labels per word ("B-brand", "I-brand", "O") and `attributes` the category's schema.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labelTitle, loadCategorySchemas, parseExtractGptJsonl, stratifiedFolds } from '@affinity/attributes';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const examples = parseExtractGptJsonl(readFileSync(join(ROOT, 'data', 'oa-mine', 'train.jsonl'), 'utf8'));
const schemas = loadCategorySchemas();
const folds = stratifiedFolds(
  examples.map((e) => e.category),
  Number(process.argv.find((a) => a.startsWith('--folds='))?.slice(8) ?? 5),
  7,
);
examples.forEach((e, i) => {
  const l = labelTitle({ title: e.title, category: e.category, attributes: e.gold }, schemas);
  const tags = l.words.map(() => 'O');
  for (const [attr, s, end] of l.spans) for (let w = s; w < end; w++) tags[w] = `${w === s ? 'B' : 'I'}-${attr}`;
  process.stdout.write(`${JSON.stringify({ i, fold: folds[i], category: e.category, title: l.title, words: l.words, offsets: l.offsets, attributes: l.attributes, tags })}\n`);
});
