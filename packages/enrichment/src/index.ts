export { Enricher } from './enricher';
export type { EnricherMetrics, EnricherOptions, TextEmbedder } from './enricher';
export { contentHash, embeddingText, enrichedEvent } from './enrich';
export { BUNDLED_TRAINING_DATA, createExtractor } from './create-extractor';
export type { CreateExtractorOptions } from './create-extractor';
