import type { z } from 'zod';
import { BehaviourEmbedding } from './schemas/behaviour-embedding';
import { DlqRecord } from './schemas/dlq-record';
import { EnrichedProduct } from './schemas/enriched-product';
import { Interaction } from './schemas/interaction';
import { CatalogEvent } from './schemas/product';
import { RecommendationUpdate } from './schemas/recommendation';

/** Base names of the topics (docs/architecture.md "Topics"); deployments and tests may add a prefix. */
export const TOPIC = {
  catalog: 'catalog.products.v1',
  interactions: 'interactions.v1',
  enriched: 'products.enriched.v1',
  behaviour: 'embeddings.behaviour.v1',
  recs: 'recs.v1',
} as const;
export type TopicId = keyof typeof TOPIC;

export const DLQ_SUFFIX = '.dlq';

/** Largest message value we accept or produce (bytes), checked by the codecs. */
export const MAX_MESSAGE_BYTES = 512 * 1024;

/**
 * Topic-level max.message.bytes. Since Kafka 0.11 it bounds a whole record *batch*, not one
 * record, so it must leave room for a producer batch of many records per partition.
 */
export const MAX_BATCH_BYTES = 8 * 1024 * 1024;

export type CleanupPolicy = 'compact' | 'delete' | 'compact,delete';

export interface TopicSpec {
  id: TopicId | `${TopicId}.dlq`;
  name: string;
  partitions: number;
  cleanupPolicy: CleanupPolicy;
  /** Extra broker-side topic config. */
  config: Record<string, string>;
  /** What a value on this topic parses into (not for tombstones, see codec). */
  schema: z.ZodType;
}

interface BaseSpec {
  partitions: number;
  cleanupPolicy: CleanupPolicy;
  config: Record<string, string>;
  schema: z.ZodType;
}

const SEVEN_DAYS = String(7 * 24 * 3600 * 1000);
const ONE_DAY = String(24 * 3600 * 1000);

/**
 * Partition counts are the unit of parallelism (and, for products.enriched.v1, the number of
 * vector-index shards), so they are chosen once here. Compacted topics keep the latest value
 * per key forever; tombstones survive `delete.retention.ms` (1 day), which bounds how old a
 * vector-index snapshot may be and still see every delete on replay.
 */
const BASE: Record<TopicId, BaseSpec> = {
  catalog: {
    partitions: 6,
    cleanupPolicy: 'compact',
    config: { 'delete.retention.ms': ONE_DAY, 'min.compaction.lag.ms': '60000', 'max.message.bytes': String(MAX_BATCH_BYTES) },
    schema: CatalogEvent,
  },
  interactions: {
    partitions: 12,
    cleanupPolicy: 'delete',
    config: { 'retention.ms': SEVEN_DAYS, 'max.message.bytes': String(MAX_BATCH_BYTES) },
    schema: Interaction,
  },
  enriched: {
    partitions: 6,
    cleanupPolicy: 'compact',
    config: { 'delete.retention.ms': ONE_DAY, 'min.compaction.lag.ms': '60000', 'max.message.bytes': String(MAX_BATCH_BYTES) },
    schema: EnrichedProduct,
  },
  behaviour: {
    partitions: 6,
    cleanupPolicy: 'compact',
    config: { 'delete.retention.ms': ONE_DAY, 'max.message.bytes': String(MAX_BATCH_BYTES) },
    schema: BehaviourEmbedding,
  },
  recs: {
    partitions: 6,
    cleanupPolicy: 'compact',
    config: { 'delete.retention.ms': ONE_DAY, 'max.message.bytes': String(MAX_BATCH_BYTES) },
    schema: RecommendationUpdate,
  },
};

export interface TopicOptions {
  /** Prepended to every topic name (tests use a unique prefix per test). @defaultValue '' */
  prefix?: string;
  /** Override partition counts, e.g. for a small demo. */
  partitions?: Partial<Record<TopicId, number>>;
}

export function topicName(id: TopicId, options: TopicOptions = {}): string {
  return `${options.prefix ?? ''}${TOPIC[id]}`;
}

export function dlqName(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

/** Every topic of the system plus the DLQ of each consumed topic. */
export function topicSpecs(options: TopicOptions = {}): TopicSpec[] {
  const specs: TopicSpec[] = [];
  for (const id of Object.keys(BASE) as TopicId[]) {
    const base = BASE[id];
    const name = topicName(id, options);
    const partitions = options.partitions?.[id] ?? base.partitions;
    specs.push({ id, name, partitions, cleanupPolicy: base.cleanupPolicy, config: base.config, schema: base.schema });
    specs.push({
      id: `${id}.dlq`,
      name: dlqName(name),
      partitions: Math.min(partitions, 3),
      cleanupPolicy: 'delete',
      config: { 'retention.ms': String(30 * 24 * 3600 * 1000), 'max.message.bytes': String(MAX_BATCH_BYTES) },
      schema: DlqRecord,
    });
  }
  return specs;
}

/** The subset of a kafkajs Admin that {@link ensureTopics} needs (kept structural so contracts stays dependency-free). */
export interface TopicAdmin {
  listTopics(): Promise<string[]>;
  createTopics(options: {
    topics: { topic: string; numPartitions: number; replicationFactor?: number; configEntries?: { name: string; value: string }[] }[];
    waitForLeaders?: boolean;
  }): Promise<boolean>;
  fetchTopicMetadata?(options: { topics: string[] }): Promise<{ topics: { name: string; partitions: { leader?: number }[] }[] }>;
}

/** Polls until every partition of `specs` has a leader; rethrows `cause` after `ms` (or at once when metadata cannot be read). */
async function waitForLeaders(admin: TopicAdmin, specs: readonly TopicSpec[], ms: number, cause: unknown): Promise<void> {
  const fetch = admin.fetchTopicMetadata?.bind(admin);
  if (fetch === undefined) throw cause;
  const deadline = Date.now() + ms;
  for (;;) {
    const meta = await fetch({ topics: specs.map((s) => s.name) }).catch(() => undefined);
    const led = (s: TopicSpec) => meta?.topics.find((t) => t.name === s.name)?.partitions.filter((p) => (p.leader ?? -1) >= 0).length === s.partitions;
    if (specs.every(led)) return;
    if (Date.now() >= deadline) throw cause;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Creates missing topics with their partition counts and cleanup policies. Existing topics are
 * left alone, and a partition count that differs from the spec is reported, not changed:
 * adding partitions moves keys to other partitions, which breaks per-key ordering and the
 * vector-index's shard-per-partition layout, so it is an operator's decision (with a
 * re-partitioning plan), never a side effect of starting a worker.
 */
export async function ensureTopics(
  admin: TopicAdmin,
  specs: readonly TopicSpec[],
  options: { replicationFactor?: number; leaderWaitMs?: number } = {},
): Promise<{ created: string[]; mismatched: { topic: string; partitions: number; expected: number }[] }> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  const created: string[] = [];
  if (missing.length > 0) {
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: options.replicationFactor ?? -1,
          configEntries: [{ name: 'cleanup.policy', value: s.cleanupPolicy }, ...Object.entries(s.config).map(([name, value]) => ({ name, value }))],
        })),
      });
    } catch (err) {
      // kafkajs waits for leaders by asking for metadata and retries only LEADER_NOT_AVAILABLE; a
      // KRaft broker can answer UNKNOWN_TOPIC_OR_PARTITION for a topic it has just created.
      if ((err as { type?: unknown }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
      await waitForLeaders(admin, missing, options.leaderWaitMs ?? 30_000, err);
    }
    created.push(...missing.map((s) => s.name));
  }
  const mismatched: { topic: string; partitions: number; expected: number }[] = [];
  const present = specs.filter((s) => existing.has(s.name));
  if (present.length > 0 && admin.fetchTopicMetadata) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
    for (const s of present) {
      const t = meta.topics.find((m) => m.name === s.name);
      if (t !== undefined && t.partitions.length !== s.partitions) mismatched.push({ topic: s.name, partitions: t.partitions.length, expected: s.partitions });
    }
  }
  return { created, mismatched };
}
