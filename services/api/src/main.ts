/** The HTTP API (docs/architecture.md "services/api"): stateless; run as many as you like. */
import { DEFAULT_MODEL_ID, Embedder, ModelNotFoundError } from '@affinity/embeddings';
import { IndexRouter } from '@affinity/index-router';
import { KeySpace, ServingStore, createRedis } from '@affinity/store';
import { createWorkerKit, httpExposure, runService, type Service, registryNamespace, redisConnection } from '@affinity/stream';
import { randomBytes } from 'node:crypto';
import { buildApp, type QueryEmbedder } from './app';
import { loadApiConfig } from './config';
import { RecsFeed } from './recs-feed';

const config = loadApiConfig();
const kit = createWorkerKit('api', config);
const { logger } = kit;
const redis = createRedis({ ...redisConnection(config), name: `api:${config.INSTANCE_ID}`, onError: (err) => logger.debug({ err }, 'redis') });
const serving = new ServingStore(redis, new KeySpace(config.REDIS_PREFIX));
const router = new IndexRouter({ redis, namespace: registryNamespace(config), group: kit.group('indexer'), shardCount: config.INDEX_SHARDS, timeoutMs: config.INDEX_TIMEOUT_MS });
const feed = new RecsFeed(kit.kafka, kit.topic('recs'), `${kit.group('api-feed')}-${config.INSTANCE_ID}-${randomBytes(4).toString('hex')}`, logger);

let embedder: Embedder | undefined;
try {
  embedder = await Embedder.create({ model: config.EMBEDDING_MODEL_ID ?? DEFAULT_MODEL_ID, intraOpNumThreads: 1 });
} catch (err) {
  // Search is one endpoint of many; without the model it answers 503 with the fix, and we say so loudly here.
  if (!(err instanceof ModelNotFoundError) || config.EMBEDDING_MODEL_ID !== undefined) throw err;
  logger.error({ err: err.message }, 'embedding model missing: /v1/search is disabled until it is fetched');
}
const queryEmbedder: QueryEmbedder | undefined = embedder && { modelId: embedder.modelId, embed: (text) => embedder!.submit(text) };

let ready = false;
const app = await buildApp({
  producer: kit.producer,
  topics: { catalog: kit.topic('catalog'), interactions: kit.topic('interactions') },
  serving,
  router,
  feed,
  embedder: queryEmbedder,
  logger,
  auth: { readKeys: config.API_READ_KEYS, writeKeys: config.API_WRITE_KEYS },
  trustProxy: config.API_TRUST_PROXY,
  limits: {
    bodyBytes: config.API_BODY_LIMIT_BYTES,
    eventsPerRequest: config.API_MAX_EVENTS_PER_REQUEST,
    requestsPerMinute: config.API_RATE_LIMIT_PER_MINUTE,
    authFailuresPerMinute: config.API_AUTH_FAILURES_PER_MINUTE,
    maxFutureSkewMs: config.EVENT_MAX_FUTURE_SKEW_MS,
  },
  ready: () => ready && feed.ready && redis.status === 'ready',
  metrics: async () => ({ contentType: kit.registry.contentType, body: await kit.registry.metrics() }),
  metricsExposure: httpExposure(config).metrics,
});
if (config.API_WRITE_KEYS.length === 0) logger.warn('API_WRITE_KEYS is empty: anyone can write events (development mode)');

const service: Service = {
  name: 'api',
  start: async () => {
    await kit.ensureTopics();
    await kit.producer.connect();
    await feed.start();
    const address = await app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
    ready = true;
    logger.info({ address }, 'api listening');
  },
  close: async () => {
    ready = false;
    await app.close();
    await feed.close().catch((err: unknown) => logger.warn({ err }, 'feed close failed'));
    await kit.producer.close().catch((err: unknown) => logger.warn({ err }, 'producer close failed'));
    await embedder?.close();
    redis.disconnect();
  },
  healthy: () => true,
  ready: () => ready,
};

await runService(service, { name: 'api', logger, registry: kit.registry, httpPort: false, graceMs: config.SHUTDOWN_GRACE_MS });
