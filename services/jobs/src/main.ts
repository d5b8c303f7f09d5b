/**
 * The jobs service (docs/architecture.md "services/jobs"): BullMQ workers for heavy work that must not
 * stall the live stream. Today: the embedding backfill of a model upgrade. (The FastRP full
 * recompute job is processed by the graph leader, which holds the graph in memory; index
 * snapshots are timed by each indexer.)
 */
import { KeySpace, QUEUE, createQueueWorker, createRedis, type Job, type Worker } from '@affinity/store';
import { ServiceGroup, createWorkerKit, runService, httpExposure, redisConnection } from '@affinity/stream';
import { DEFAULT_MODEL_ID, Embedder } from '@affinity/embeddings';
import { createExtractor } from '@affinity/enrichment';
import { Counter, Histogram } from 'prom-client';
import { loadJobsConfig } from './config';
import { type BackfillJob, type BackfillResult, runBackfill } from './embedding-backfill';

const config = loadJobsConfig();
const kit = createWorkerKit('jobs', config);
const { logger } = kit;
const redis = createRedis({ ...redisConnection(config), name: `jobs:${config.INSTANCE_ID}`, onError: (err) => logger.debug({ err }, 'redis') });
// The attribute tagger's word vectors come from the live enricher's model, whatever model a backfill embeds with.
const wordVectors = config.ATTRIBUTES_WORD_VECTORS
  ? await Embedder.create({ model: config.ATTRIBUTES_WORD_VECTOR_MODEL ?? DEFAULT_MODEL_ID, intraOpNumThreads: config.EMBEDDING_THREADS })
  : undefined;
const { extractor } = await createExtractor({ vocabularyPath: config.ATTRIBUTES_VOCABULARY_PATH, wordVectors });
const metrics = {
  products: new Counter({ name: 'affinity_backfill_products_total', help: 'Catalog records seen by backfills, by outcome', labelNames: ['outcome'] as const, registers: [kit.registry] }),
  embedSeconds: new Histogram({ name: 'affinity_backfill_embed_seconds', help: 'Model time per batch', buckets: [0.01, 0.05, 0.1, 0.5, 1, 5], registers: [kit.registry] }),
};
let worker: Worker<BackfillJob, BackfillResult> | undefined;

const service = new ServiceGroup(
  'jobs',
  [
    { name: 'topics', start: () => kit.ensureTopics(), close: () => undefined },
    { name: 'producer', start: () => kit.producer.connect(), close: () => kit.producer.close() },
    { name: 'redis', close: () => redis.disconnect() },
    { name: 'word-vectors', close: () => wordVectors?.close() },
    {
      name: 'backfill-worker',
      start: async () => {
        const w = createQueueWorker<BackfillJob, BackfillResult>(
          QUEUE.embeddingBackfill,
          redisConnection(config),
          (job: Job<BackfillJob>) =>
            runBackfill(job, {
              kafka: kit.kafka,
              redis,
              keys: new KeySpace(config.REDIS_PREFIX),
              producer: kit.producer,
              extractor,
              catalogTopic: kit.topic('catalog'),
              enrichedTopic: kit.topic('enriched'),
              descriptionChars: config.ENRICHER_DESCRIPTION_CHARS,
              cacheTtlSeconds: config.EMBEDDING_CACHE_TTL_S,
              threads: config.EMBEDDING_THREADS,
              maxFutureSkewMs: config.EVENT_MAX_FUTURE_SKEW_MS,
              metrics,
              logger,
            }),
          { prefix: `${config.REDIS_PREFIX}:bull`, lockDuration: 60_000 },
        );
        w.on('failed', (job, err) => logger.error({ job: job?.id, err }, 'job failed'));
        w.on('completed', (job, result) => logger.info({ job: job.id, result }, 'job completed'));
        worker = w;
      },
      close: async () => {
        await worker?.close();
      },
      ready: () => worker?.isRunning() ?? false,
    },
  ],
  logger,
);

await runService(service, { name: 'jobs', logger, registry: kit.registry, ...httpExposure(config), graceMs: config.SHUTDOWN_GRACE_MS });
