import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AttributeExtractor, Vocabulary, parseExtractGptJsonl, titleWords, type WordVectorSource } from '@affinity/attributes';
import { ConfigError } from '@affinity/contracts';

/** Labelled titles shipped with the repository (OA-Mine via ExtractGPT, Apache-2.0). */
export const BUNDLED_TRAINING_DATA = resolve(import.meta.dirname, '../../../data/oa-mine/train.jsonl');

export interface CreateExtractorOptions {
  /** A saved vocabulary (see learn-vocabulary-cli.ts); without one, learn from `trainingData` at start. */
  vocabularyPath?: string;
  /** @defaultValue {@link BUNDLED_TRAINING_DATA} */
  trainingData?: string;
  /**
   * Contextual word vectors for the tagger (`Embedder` fits): learning reads them, and a saved
   * vocabulary that was trained with them needs this same model. Without one, the tagger reads no
   * word vectors (OA-Mine CV: 0.01 lower F1, see bench/results/attributes.md).
   */
  wordVectors?: WordVectorSource;
}

/**
 * The attribute extractor the enricher and the backfill use: with a saved vocabulary when
 * `vocabularyPath` is given, else one learned at start from the bundled labelled titles
 * (a few seconds, plus one model pass over the titles with word vectors; a saved vocabulary
 * loads faster).
 * @throws ConfigError when a saved vocabulary needs word vectors of a model other than `wordVectors`'
 */
export async function createExtractor(options: CreateExtractorOptions = {}): Promise<{ extractor: AttributeExtractor; learnedFrom: string; ms: number }> {
  const started = performance.now();
  const { vocabularyPath, wordVectors } = options;
  if (vocabularyPath) {
    const vocabulary = Vocabulary.fromJSON(JSON.parse(readFileSync(vocabularyPath, 'utf8')));
    const needs = vocabulary.wordVectorModel;
    if (needs !== undefined && wordVectors?.modelId !== needs) {
      throw new ConfigError(`${vocabularyPath} was learned with word vectors of ${needs}; the extractor was given ${wordVectors?.modelId ?? 'no word-vector model'}`);
    }
    return { extractor: new AttributeExtractor({ vocabulary, wordVectors }), learnedFrom: vocabularyPath, ms: performance.now() - started };
  }
  const trainingData = options.trainingData ?? BUNDLED_TRAINING_DATA;
  const examples = parseExtractGptJsonl(readFileSync(trainingData, 'utf8'));
  const vectors = wordVectors === undefined ? undefined : await wordVectors.embedWordsInContext(examples.map((e) => titleWords(e.title)));
  const extractor = new AttributeExtractor({ wordVectors });
  extractor.learnVocabulary(
    examples.map((e, i) => ({ title: e.title, category: e.category, attributes: e.gold, titleWordVectors: vectors?.[i] })),
    wordVectors === undefined ? {} : { wordVectors: { model: wordVectors.modelId, dim: wordVectors.dim } },
  );
  return { extractor, learnedFrom: trainingData, ms: performance.now() - started };
}
