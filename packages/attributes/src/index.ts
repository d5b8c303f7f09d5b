export { AttributeExtractor } from './attribute-extractor';
export type { AttributeExtractorOptions, EmbedTexts, ExtractInput, WordVectorSource } from './attribute-extractor';
export {
  AttributeSpec,
  BUNDLED_SCHEMA_DIR,
  CategorySchema,
  loadCategorySchemas,
  mergeCategorySchemas,
  parseCategorySchema,
  toAttributeName,
} from './category-schema';
export type { AttributeSpecInput, CategorySchemaInput } from './category-schema';
export { labelTitle, learnVocabulary, titleWords } from './learn-vocabulary';
export type { LabelledProduct, LearnVocabularyOptions } from './learn-vocabulary';
export { CODE_KINDS, MEASURE_KINDS, PATTERN_KINDS, findCodes, findPatterns, formatNumber, isModelNumber, isValidGtin, parseNumber } from './patterns';
export type { PatternKind, PatternMatch } from './patterns';
export { SerializedVocabulary, VOCABULARY_FORMAT_VERSION, Vocabulary } from './vocabulary';
export {
  crossValidate,
  emptyCounts,
  evaluateCrossValidated,
  parseExtractGptJsonl,
  scoreExactMatch,
  scores,
  stratifiedFolds,
} from './evaluation';
export type {
  CrossValidatedEvaluation,
  CrossValidationOptions,
  EvaluationReport,
  ExactMatchCounts,
  GoldExample,
  Prediction,
  Protocol,
  Scores,
} from './evaluation';
export { SerializedTokenClusters, TokenClusters } from './token-clusters';
