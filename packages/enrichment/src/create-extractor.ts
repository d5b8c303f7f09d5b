import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AttributeExtractor, Vocabulary, parseExtractGptJsonl } from '@affinity/attributes';

/** Labelled titles shipped with the repository (OA-Mine via ExtractGPT, Apache-2.0). */
export const BUNDLED_TRAINING_DATA = resolve(import.meta.dirname, '../../../data/oa-mine/train.jsonl');

/**
 * The attribute extractor the enricher and the backfill use: with a saved vocabulary when
 * `vocabularyPath` is given, else one learned at start from the bundled labelled titles
 * (a few seconds; a saved vocabulary loads faster).
 */
export function createExtractor(vocabularyPath?: string, trainingData: string = BUNDLED_TRAINING_DATA): { extractor: AttributeExtractor; learnedFrom: string; ms: number } {
  const started = performance.now();
  if (vocabularyPath) {
    const vocabulary = Vocabulary.fromJSON(JSON.parse(readFileSync(vocabularyPath, 'utf8')));
    return { extractor: new AttributeExtractor({ vocabulary }), learnedFrom: vocabularyPath, ms: performance.now() - started };
  }
  const examples = parseExtractGptJsonl(readFileSync(trainingData, 'utf8'));
  const extractor = new AttributeExtractor();
  extractor.learnVocabulary(examples.map((e) => ({ title: e.title, category: e.category, attributes: e.gold })));
  return { extractor, learnedFrom: trainingData, ms: performance.now() - started };
}
