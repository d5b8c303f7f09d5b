/**
 * Learns the attribute vocabulary once and saves it, so the enricher starts without
 * learning (point ATTRIBUTES_VOCABULARY_PATH at the file). The tagger reads contextual word
 * vectors of the embedding model (default: the registry's default model, as the enricher uses);
 * `--no-word-vectors` learns one that reads none.
 *   npx tsx packages/enrichment/src/learn-vocabulary-cli.ts --out vocabulary.json [--from data/oa-mine/train.jsonl] [--model <id> | --no-word-vectors]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_ID, Embedder } from '@affinity/embeddings';
import { BUNDLED_TRAINING_DATA, createExtractor } from './create-extractor';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    from: { type: 'string', default: BUNDLED_TRAINING_DATA },
    model: { type: 'string', default: DEFAULT_MODEL_ID },
    'no-word-vectors': { type: 'boolean', default: false },
  },
});
if (!values.out) {
  console.error('usage: learn-vocabulary-cli.ts --out <file> [--from <ExtractGPT-style jsonl>] [--model <id> | --no-word-vectors]');
  process.exit(2);
}
const embedder = values['no-word-vectors'] ? undefined : await Embedder.create({ model: values.model });
try {
  const { extractor, ms } = await createExtractor({ trainingData: values.from, wordVectors: embedder });
  writeFileSync(values.out, JSON.stringify(extractor.vocabulary.toJSON()));
  console.log(`learned from ${values.from} in ${Math.round(ms)} ms (word vectors: ${embedder?.modelId ?? 'none'}) → ${values.out}`);
} finally {
  await embedder?.close();
}
