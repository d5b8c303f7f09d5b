/**
 * The indexer (docs/architecture.md "services/indexer"): a consumer group on products.enriched.v1 where
 * each assigned partition is an HNSW shard. On assignment: restore the newest snapshot and
 * replay from its offset, then announce ownership in the Redis registry; on revocation:
 * snapshot and release. Shards are snapshotted periodically; queries arrive on POST /knn.
 */
import { isIP } from 'node:net';
import { decodeEnrichedEvent } from '@affinity/contracts';
import { ShardRegistry, createRedis } from '@affinity/store';
import { BatchConsumer, ServiceGroup, createWorkerKit, runService, type SeekRequest, registryNamespace, httpExposure, redisConnection } from '@affinity/stream';
import { Histogram } from 'prom-client';
import { loadIndexerConfig } from './config';
import { registerIndexSizeMetrics } from './index-metrics';
import { indexerRoutes } from './knn-route';
import { ShardManager } from './shard-manager';

const config = loadIndexerConfig();
const kit = createWorkerKit('indexer', config);
const { logger } = kit;
const topic = kit.topic('enriched');
const group = kit.group('indexer');

const redis = createRedis({ ...redisConnection(config), name: `indexer:${config.INSTANCE_ID}`, onError: (err) => logger.debug({ err }, 'redis') });
const registry = new ShardRegistry(redis, { namespace: registryNamespace(config), group, instance: config.INSTANCE_ID, url: config.INDEX_ADVERTISE_URL ?? '', ttlMs: config.INDEX_REGISTRY_TTL_MS });
const freshness = new Histogram({
  name: 'affinity_index_freshness_seconds',
  help: 'Enriched event timestamp to searchable in a shard',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
  registers: [kit.registry],
});
const shards = new ShardManager({
  dir: `${config.INDEX_DIR}/${group}`,
  shard: { M: config.INDEX_M, efConstruction: config.INDEX_EF_CONSTRUCTION, ef: config.INDEX_EF, quantization: config.INDEX_QUANTIZATION },
  models: config.INDEX_MODELS,
  logger,
  freshness,
});
registerIndexSizeMetrics(shards, kit.registry);
const admin = kit.kafka.admin();

/** Restored partitions whose resume offset has not reached the consumer yet (survives a retried hook). */
const unseeked = new Map<number, string>();

/**
 * Drops revoked shards; restores added ones from their snapshot (or replays the partition from
 * its start). The consumer retries this hook on transient errors, so the Kafka lookup comes
 * first and a partition restored by a failed attempt still gets its seek and claim.
 */
async function onAssignment(assigned: { topic: string; partitions: number[] }[]): Promise<SeekRequest[]> {
  const mine = new Set(assigned.find((a) => a.topic === topic)?.partitions ?? []);
  const added = [...mine].filter((p) => !shards.has(p));
  const low = added.length > 0 ? new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.low])) : new Map<number, string>();
  const revoked = shards.owned().filter((p) => !mine.has(p));
  for (const p of revoked) {
    await shards.drop(p);
    unseeked.delete(p);
  }
  await registry.release(revoked);
  for (const p of added) {
    // No snapshot: the whole partition must be replayed, whatever the group committed before.
    unseeked.set(p, (await shards.restore(p)) ?? low.get(p) ?? '0');
  }
  const seeks: SeekRequest[] = [...unseeked].filter(([p]) => mine.has(p)).map(([partition, offset]) => ({ topic, partition, offset }));
  await registry.claim(seeks.map((s) => s.partition));
  for (const s of seeks) unseeked.delete(s.partition);
  logger.info({ owned: shards.owned(), added: seeks.map((s) => s.partition), revoked }, 'shards assigned');
  return seeks;
}

const consumer = new BatchConsumer({
  kafka: kit.kafka,
  groupId: group,
  inputs: { enriched: { topic, decode: decodeEnrichedEvent } },
  producer: kit.producer,
  logger,
  metrics: kit.metrics,
  sessionTimeoutMs: config.CONSUMER_SESSION_TIMEOUT_MS,
  stallTimeoutMs: config.CONSUMER_STALL_TIMEOUT_MS,
  partitionsConsumedConcurrently: config.INDEX_PARTITIONS_CONCURRENTLY,
  onAssignment,
  handler: async ({ partition, events, lastOffset }) => {
    await shards.apply(partition, events, lastOffset);
  },
});

let snapshotTimer: NodeJS.Timeout | undefined;
const snapshotAll = async (): Promise<void> => {
  for (const p of shards.owned()) {
    try {
      if (await shards.snapshot(p)) logger.info({ partition: p }, 'snapshot written');
    } catch (err) {
      logger.error({ err, partition: p }, 'snapshot failed');
    }
  }
};

const service = new ServiceGroup(
  'indexer',
  [
    { name: 'topics', start: () => kit.ensureTopics(), close: () => undefined },
    { name: 'admin', start: () => admin.connect(), close: () => admin.disconnect() },
    { name: 'producer', start: () => kit.producer.connect(), close: () => kit.producer.close() },
    {
      name: 'registry',
      start: async () => registry.startHeartbeat((err) => logger.warn({ err }, 'registry heartbeat failed')),
      close: async () => {
        await registry.stop().catch((err: unknown) => logger.warn({ err }, 'registry cleanup failed'));
        redis.disconnect();
      },
    },
    {
      name: 'snapshots',
      start: async () => {
        snapshotTimer = setInterval(() => void snapshotAll(), config.INDEX_SNAPSHOT_INTERVAL_MS);
      },
      // After the consumer drained: the final state of every shard is written once more.
      close: async () => {
        clearInterval(snapshotTimer);
        await snapshotAll();
      },
    },
    consumer.component(),
  ],
  logger,
);

/** The address of this machine that HTTP_HOST serves: itself, or loopback for a wildcard (every interface). */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return isIP(host) === 6 ? `[${host}]` : host;
}

await runService(service, {
  name: 'indexer',
  logger,
  registry: kit.registry,
  ...httpExposure(config),
  graceMs: config.SHUTDOWN_GRACE_MS,
  extraRoutes: indexerRoutes(shards),
  onListening: (port) => registry.setUrl(config.INDEX_ADVERTISE_URL ?? `http://${reachableHost(config.HTTP_HOST)}:${port}`),
});
