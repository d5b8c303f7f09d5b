/**
 * The recommender (docs/architecture.md "services/recommender"): listens to enriched products, behaviour
 * embeddings and interactions; recomputes the lists each batch touched; publishes them to
 * recs.v1 (compacted, key kind:subject) and writes the serving copies to Redis.
 */
import { readFileSync } from 'node:fs';
import { decodeBehaviourEmbedding, decodeEnrichedEvent, interactionDecoder } from '@affinity/contracts';
import { IndexRouter } from '@affinity/index-router';
import { ListBuilder, RecState, refreshLinearModel } from '@affinity/lists';
import { DEFAULT_RANKER_CONFIG, Ranker, type RankerConfigInput } from '@affinity/recommend';
import { KeySpace, createRedis } from '@affinity/store';
import { BatchConsumer, ServiceGroup, createWorkerKit, runService, registryNamespace, httpExposure, sleep, redisConnection } from '@affinity/stream';
import { Gauge, Histogram } from 'prom-client';
import { BehaviourTable } from './behaviour-table';
import { loadRecommenderConfig } from './config';
import { Recommender } from './recommender';
import { TriggerQueue } from './trigger-queue';

const config = loadRecommenderConfig();
const kit = createWorkerKit('recommender', config);
const { logger } = kit;
const redis = createRedis({ ...redisConnection(config), name: `recommender:${config.INSTANCE_ID}`, onError: (err) => logger.debug({ err }, 'redis') });
const state = new RecState(redis, { keys: new KeySpace(config.REDIS_PREFIX), trendingHalfLifeMs: config.RECS_TRENDING_HALF_LIFE_MS, historyWindow: config.RECS_HISTORY_WINDOW });
const router = new IndexRouter({ redis, namespace: registryNamespace(config), group: kit.group('indexer'), shardCount: config.INDEX_SHARDS, timeoutMs: config.INDEX_TIMEOUT_MS });
const behaviour = new BehaviourTable(kit.kafka, kit.topic('behaviour'), `${kit.group('recommender-table')}-${config.INSTANCE_ID}`, logger);
const rankerConfig: RankerConfigInput = config.RECS_RANKER_CONFIG ? (JSON.parse(readFileSync(config.RECS_RANKER_CONFIG, 'utf8')) as RankerConfigInput) : DEFAULT_RANKER_CONFIG;
const ranker = new Ranker(rankerConfig, { k: config.RECS_K, mmrLambda: config.RECS_MMR_LAMBDA });
logger.info({ ranker: ranker.version, source: ranker.config.source }, 'ranker configuration');
const builder = new ListBuilder({ state, index: router, behaviour, ranker });
const latency = new Histogram({
  name: 'affinity_recs_latency_seconds',
  help: 'Kafka ingest time of the causing event to list published, per list kind',
  labelNames: ['kind', 'stage'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
  registers: [kit.registry],
});
const queue = new TriggerQueue(redis, { keys: new KeySpace(config.REDIS_PREFIX) });
const recommender = new Recommender({
  state,
  builder,
  behaviour,
  queue,
  producer: kit.producer,
  recsTopic: kit.topic('recs'),
  logger,
  latency,
  coalesceMs: config.RECS_COALESCE_MS,
  behaviourCoalesceMs: config.RECS_BEHAVIOUR_COALESCE_MS,
  buildSeconds: new Histogram({
    name: 'affinity_recs_build_seconds',
    help: 'Time to gather candidates and rank one list',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [kit.registry],
  }),
  neighbourFanout: config.RECS_NEIGHBOUR_FANOUT,
  concurrency: config.RECS_CONCURRENCY,
});
const pending = new Gauge({
  name: 'affinity_recs_pending_lists',
  help: 'Lists waiting to be recomputed (due or leased), by priority',
  labelNames: ['priority'] as const,
  registers: [kit.registry],
  // Read at scrape time, but never let Redis hold up the scrape: while Redis hangs, /metrics (with
  // the stall counters that say so) must still answer. Unread, the last value stays.
  collect: async function () {
    for (const priority of ['high', 'low'] as const) {
      const n = await Promise.race([queue.size(priority).catch(() => undefined), sleep(1000).then(() => undefined)]);
      if (n !== undefined) this.set({ priority }, n);
    }
  },
});
void pending;

const consumer = new BatchConsumer({
  kafka: kit.kafka,
  groupId: kit.group('recommender'),
  inputs: {
    enriched: { topic: kit.topic('enriched'), decode: decodeEnrichedEvent },
    behaviour: { topic: kit.topic('behaviour'), decode: decodeBehaviourEmbedding },
    interactions: { topic: kit.topic('interactions'), decode: interactionDecoder({ maxFutureSkewMs: config.EVENT_MAX_FUTURE_SKEW_MS }) },
  },
  producer: kit.producer,
  logger,
  metrics: kit.metrics,
  sessionTimeoutMs: config.CONSUMER_SESSION_TIMEOUT_MS,
  stallTimeoutMs: config.CONSUMER_STALL_TIMEOUT_MS,
  partitionsConsumedConcurrently: config.RECS_PARTITIONS_CONCURRENTLY,
  maxBatchSize: 500,
  handler: async (batch) => {
    switch (batch.input) {
      case 'enriched':
        return recommender.onEnriched(batch.events);
      case 'behaviour':
        return recommender.onBehaviour(batch.events);
      case 'interactions':
        return recommender.onInteractions(batch.events);
    }
  },
});

const linearSeconds = new Histogram({
  name: 'affinity_recs_linear_refit_seconds',
  help: 'Time to refit a linear item–item model, by co-occurrence kind',
  labelNames: ['kind'] as const,
  buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [kit.registry],
});
const linearItems = new Gauge({ name: 'affinity_recs_linear_items', help: 'Items the current linear model covers, by kind', labelNames: ['kind'] as const, registers: [kit.registry] });
const linearLock = new KeySpace(config.REDIS_PREFIX).key('linear', 'lock');

/** Refits the linear models if no other instance is doing so (a lock as long as the interval). */
async function refitLinearModels(): Promise<void> {
  const held = await redis.set(linearLock, config.INSTANCE_ID, 'PX', config.RECS_LINEAR_INTERVAL_MS, 'NX');
  if (held !== 'OK') return;
  for (const kind of ['basket', 'history'] as const) {
    const r = await refreshLinearModel(state, kind, { maxItems: config.RECS_LINEAR_ITEMS });
    linearSeconds.observe({ kind }, r.ms / 1000);
    linearItems.set({ kind }, r.items);
    logger.info({ kind, items: r.items, ms: Math.round(r.ms) }, 'linear item–item model refitted');
  }
}

const timers: NodeJS.Timeout[] = [];
const every = (ms: number, what: string, fn: () => Promise<unknown>): void => {
  let running = false;
  timers.push(
    setInterval(() => {
      if (running) return;
      running = true;
      fn()
        .catch((err: unknown) => logger.warn({ err }, `${what} failed`))
        .finally(() => (running = false));
    }, ms),
  );
};

const service = new ServiceGroup(
  'recommender',
  [
    { name: 'topics', start: () => kit.ensureTopics(), close: () => undefined },
    { name: 'producer', start: () => kit.producer.connect(), close: () => kit.producer.close() },
    { name: 'redis', start: () => builder.refreshCalibration(), close: () => redis.disconnect() },
    { name: 'behaviour-table', start: () => behaviour.start(), close: () => behaviour.close() },
    { name: 'scheduler', start: async () => recommender.start(), close: () => recommender.stop() },
    {
      name: 'timers',
      start: async () => {
        every(config.RECS_TRENDING_INTERVAL_MS, 'trending refresh', () => recommender.tickTrending());
        every(60_000, 'calibration refresh', () => builder.refreshCalibration());
        if (config.RECS_LINEAR_INTERVAL_MS > 0) every(config.RECS_LINEAR_INTERVAL_MS, 'linear model refit', refitLinearModels);
      },
      close: () => timers.forEach((t) => clearInterval(t)),
    },
    consumer.component(),
  ],
  logger,
);

await runService(service, { name: 'recommender', logger, registry: kit.registry, ...httpExposure(config), graceMs: config.SHUTDOWN_GRACE_MS });
