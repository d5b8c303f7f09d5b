/**
 * Learns the attribute vocabulary once and saves it, so the enricher starts without
 * learning (point ATTRIBUTES_VOCABULARY_PATH at the file).
 *   npx tsx packages/enrichment/src/learn-vocabulary-cli.ts --out vocabulary.json [--from data/oa-mine/train.jsonl]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BUNDLED_TRAINING_DATA, createExtractor } from './create-extractor';

const { values } = parseArgs({ options: { out: { type: 'string' }, from: { type: 'string', default: BUNDLED_TRAINING_DATA } } });
if (!values.out) {
  console.error('usage: learn-vocabulary-cli.ts --out <file> [--from <ExtractGPT-style jsonl>]');
  process.exit(2);
}
const { extractor, ms } = createExtractor(undefined, values.from);
writeFileSync(values.out, JSON.stringify(extractor.vocabulary.toJSON()));
console.log(`learned from ${values.from} in ${Math.round(ms)} ms → ${values.out}`);
