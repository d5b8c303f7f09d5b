/**
 * The enricher (docs/architecture.md "services/enricher"): catalog.products.v1 → products.enriched.v1.
 * Validates (the decoder sends bad records to the DLQ), extracts attributes, embeds the text
 * with a real ONNX model, and publishes enriched products or tombstones.
 */
import { catalogEventDecoder } from '@affinity/contracts';
import { DEFAULT_MODEL_ID, Embedder } from '@affinity/embeddings';
import { Enricher, createExtractor } from '@affinity/enrichment';
import { KeySpace, createRedis } from '@affinity/store';
import { BatchConsumer, ServiceGroup, createWorkerKit, runService, httpExposure, redisConnection } from '@affinity/stream';
import { Counter, Histogram } from 'prom-client';
import { loadEnricherConfig } from './config';

const config = loadEnricherConfig();
const kit = createWorkerKit('enricher', config);
const { logger } = kit;

// A missing model is fatal here, with the command that fetches it (ModelNotFoundError says so).
const embedder = await Embedder.create({ model: config.EMBEDDING_MODEL_ID ?? DEFAULT_MODEL_ID, intraOpNumThreads: config.EMBEDDING_THREADS });
// The attribute tagger reads contextual word vectors of the same model (one short pass over titles).
const { extractor, learnedFrom, ms } = await createExtractor({ vocabularyPath: config.ATTRIBUTES_VOCABULARY_PATH, wordVectors: config.ATTRIBUTES_WORD_VECTORS ? embedder : undefined });
logger.info({ learnedFrom, ms: Math.round(ms) }, 'attribute vocabulary ready');
const redis = createRedis({ ...redisConnection(config), name: `enricher:${config.INSTANCE_ID}`, onError: (err) => logger.debug({ err }, 'redis') });
const enricher = new Enricher({
  redis,
  keys: new KeySpace(config.REDIS_PREFIX),
  embedder,
  extractor,
  producer: kit.producer,
  outTopic: kit.topic('enriched'),
  descriptionChars: config.ENRICHER_DESCRIPTION_CHARS,
  cacheTtlSeconds: config.EMBEDDING_CACHE_TTL_S,
  metrics: {
    products: new Counter({ name: 'affinity_enricher_products_total', help: 'Catalog events by outcome', labelNames: ['outcome'] as const, registers: [kit.registry] }),
    embedSeconds: new Histogram({ name: 'affinity_enricher_embed_seconds', help: 'Model time per batch of texts not in the cache', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [kit.registry] }),
  },
});

const consumer = new BatchConsumer({
  kafka: kit.kafka,
  groupId: kit.group('enricher'),
  inputs: { catalog: { topic: kit.topic('catalog'), decode: catalogEventDecoder({ maxFutureSkewMs: config.EVENT_MAX_FUTURE_SKEW_MS }) } },
  producer: kit.producer,
  logger,
  metrics: kit.metrics,
  sessionTimeoutMs: config.CONSUMER_SESSION_TIMEOUT_MS,
  stallTimeoutMs: config.CONSUMER_STALL_TIMEOUT_MS,
  maxBatchSize: config.ENRICHER_MAX_BATCH,
  handler: async ({ events }) => {
    await enricher.handle(events);
  },
});

const service = new ServiceGroup(
  'enricher',
  [
    { name: 'topics', start: () => kit.ensureTopics(), close: () => undefined },
    { name: 'embedder', close: () => embedder.close() },
    { name: 'redis', close: () => redis.disconnect() },
    { name: 'producer', start: () => kit.producer.connect(), close: () => kit.producer.close() },
    consumer.component(),
  ],
  logger,
);

await runService(service, { name: 'enricher', logger, registry: kit.registry, ...httpExposure(config), graceMs: config.SHUTDOWN_GRACE_MS });
