/**
 * Embeds words one at a time with all-MiniLM-L6-v2 (@affinity/embeddings), for token-cluster
 * features: every whole-word entry of the model's WordPiece vocabulary, and (experiments only,
 * with --data) every distinct title token of OA-Mine. Writes `<out>.words.txt` and `<out>.f32`.
 *
 *   npx tsx bench/attributes/embed-tokens.ts <out prefix> [--data]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Embedder, affinityCacheDir, modelDir } from '@affinity/embeddings';
import { parseExtractGptJsonl } from '@affinity/attributes';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = process.argv[2];
if (out === undefined) throw new Error('usage: embed-tokens.ts <out prefix> [--data]');
const model = process.argv.includes('--int8') ? 'all-minilm-l6-v2-int8' : 'all-minilm-l6-v2-fp32';
const tok = JSON.parse(readFileSync(join(modelDir(model, affinityCacheDir()), 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
let words: string[];
if (process.argv.includes('--data')) {
  const examples = parseExtractGptJsonl(readFileSync(join(ROOT, 'data', 'oa-mine', 'train.jsonl'), 'utf8'));
  const set = new Set<string>();
  for (const e of examples) for (const m of e.title.toLowerCase().matchAll(/\p{N}+(?:[.,]\p{N}+)*|[\p{L}\p{M}]+(?:['’][\p{L}\p{M}]+)*/gu)) set.add(m[0]);
  words = [...set].sort();
} else {
  words = Object.keys(tok.model.vocab).filter((w) => !w.startsWith('##') && !/^\[.*\]$/.test(w) && /[\p{L}\p{N}]/u.test(w)).sort();
}
const embedder = await Embedder.create({ model });
const t0 = performance.now();
const m = await embedder.embedMatrix(words);
await embedder.close();
writeFileSync(`${out}.words.txt`, words.join('\n'));
writeFileSync(`${out}.f32`, Buffer.from(m.buffer, m.byteOffset, m.byteLength));
console.log(`${words.length} words x ${embedder.dim} in ${((performance.now() - t0) / 1000).toFixed(1)} s (${model})`);
