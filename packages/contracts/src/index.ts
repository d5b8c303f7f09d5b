export { AffinityError, ConfigError, RetriableError, UnavailableError, ValidationError, classifyError } from './errors';
export type { AffinityErrorOptions, ValidationIssue } from './errors';
export { Identifier, MIN_TIMESTAMP_MS, Timestamp, dictionary, emptyDictionary, hasLoneSurrogate, normalizeMultiline, normalizeText } from './normalize';
export { Embedding, MAX_VECTOR_DIM, WireVector, decodeVector, encodeVector, wireReplacer } from './vector-codec';
export { AVAILABILITY, Availability, CatalogEvent, MAX_PRODUCT_ATTRIBUTES, ProductDelete, ProductUpsert } from './schemas/product';
export type { CatalogEventInput, ProductUpsertInput } from './schemas/product';
export { INTERACTION_TYPES, Interaction, InteractionType } from './schemas/interaction';
export type { InteractionInput } from './schemas/interaction';
export { ATTRIBUTE_SOURCES, EnrichedProduct, ExtractedAttribute } from './schemas/enriched-product';
export type { EnrichedProductInput } from './schemas/enriched-product';
export { BehaviourEmbedding } from './schemas/behaviour-embedding';
export type { BehaviourEmbeddingInput } from './schemas/behaviour-embedding';
export { MAX_REC_ITEMS, REC_KINDS, Reason, RecKind, RecommendationUpdate, RecommendedItem, recKey } from './schemas/recommendation';
export type { RecommendationUpdateInput } from './schemas/recommendation';
export { DLQ_LIMITS, DLQ_TRUNCATABLE, DlqRecord } from './schemas/dlq-record';
export { DLQ_SUFFIX, MAX_BATCH_BYTES, MAX_MESSAGE_BYTES, TOPIC, dlqName, ensureTopics, topicName, topicSpecs } from './topics';
export type { CleanupPolicy, TopicAdmin, TopicId, TopicOptions, TopicSpec } from './topics';
export {
  DECODERS,
  DEFAULT_MAX_FUTURE_SKEW_MS,
  catalogEventDecoder,
  decodeBehaviourEmbedding,
  decodeCatalogEvent,
  decodeEnrichedEvent,
  decodeInteraction,
  decodeRecommendationUpdate,
  encodeJson,
  headerString,
  interactionDecoder,
  parseJsonBytes,
  parseWith,
  requireNotFuture,
} from './codec';
export type { Decoder, EnrichedEvent, EventTimeOptions, RawMessage } from './codec';
export { derivedEventId, newEventId, sha256Hex } from './ids';
export { SeededRandom, mulberry32 } from './seeded-random';
