/**
 * A real worker for the runtime's integration tests: counts interactions into Redis.
 * Effect per event (applied once per eventId): INCR <prefix>:count, INCRBY <prefix>:quantity.
 * Runs as its own process so tests can SIGKILL and SIGTERM it.
 *
 * Env: KAFKA_BROKERS, REDIS_URL, COUNTER_TOPIC, COUNTER_GROUP, COUNTER_KEY_PREFIX,
 * COUNTER_DELAY_MS (pause after each batch's effect, before its commit: widens the window
 * in which a kill leaves an applied-but-uncommitted batch), COUNTER_MAX_BATCH.
 */
import { decodeInteraction, type Interaction } from '@affinity/contracts';
import { IdempotentWriter, createRedis } from '@affinity/store';
import {
  BatchConsumer,
  EventProducer,
  Registry,
  StreamMetrics,
  commonEnv,
  createKafka,
  createLogger,
  env,
  parseEnv,
  runService,
  sleep,
  type Service,
} from '@affinity/stream';

const config = parseEnv({
  ...commonEnv,
  REDIS_URL: env.string('redis://127.0.0.1:6379', 'a redis:// URL'),
  COUNTER_TOPIC: env.string(undefined, 'the topic to count'),
  COUNTER_GROUP: env.string(undefined, 'the consumer group'),
  COUNTER_KEY_PREFIX: env.string(undefined, 'Redis key prefix'),
  COUNTER_DELAY_MS: env.int(0, 0, 60_000, 'milliseconds'),
  COUNTER_MAX_BATCH: env.int(200, 1, 10_000, 'events per handler call'),
});

const logger = createLogger('counter-worker', config.LOG_LEVEL);
const registry = new Registry();
const metrics = new StreamMetrics(registry);
const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'counter-worker', logger });
const redis = createRedis({ url: config.REDIS_URL, name: 'counter-worker' });
const writer = new IdempotentWriter(redis, { namespace: `${config.COUNTER_KEY_PREFIX}:seen` });
const producer = new EventProducer({ kafka, metrics });
const countKey = `${config.COUNTER_KEY_PREFIX}:count`;
const quantityKey = `${config.COUNTER_KEY_PREFIX}:quantity`;
const replayedKey = `${config.COUNTER_KEY_PREFIX}:replayed`;

const consumer = new BatchConsumer({
  kafka,
  groupId: config.COUNTER_GROUP,
  inputs: { interactions: { topic: config.COUNTER_TOPIC, decode: decodeInteraction } },
  producer,
  logger,
  metrics,
  maxBatchSize: config.COUNTER_MAX_BATCH,
  sessionTimeoutMs: config.CONSUMER_SESSION_TIMEOUT_MS,
  stallTimeoutMs: config.CONSUMER_STALL_TIMEOUT_MS,
  handler: async ({ events }) => {
    const applied = await writer.apply(
      events.map((e) => ({
        eventId: e.value.eventId,
        commands: [
          ['INCR', countKey],
          ['INCRBY', quantityKey, (e.value as Interaction).quantity ?? 1],
        ],
      })),
    );
    // Not idempotent on purpose: counts redeliveries the dedupe suppressed, so tests can
    // prove the crash scenarios really replayed work.
    const replayed = applied.filter((a) => !a).length;
    if (replayed > 0) await redis.incrby(replayedKey, replayed);
    if (config.COUNTER_DELAY_MS > 0) await sleep(config.COUNTER_DELAY_MS);
  },
});

const service: Service = {
  name: 'counter-worker',
  start: async () => {
    await producer.connect();
    await consumer.start();
  },
  close: async () => {
    await consumer.close();
    await producer.close();
    redis.disconnect();
  },
  healthy: () => consumer.healthy,
  ready: () => consumer.ready,
};

await runService(service, { name: 'counter-worker', logger, registry, httpPort: config.HTTP_PORT, graceMs: config.SHUTDOWN_GRACE_MS });
