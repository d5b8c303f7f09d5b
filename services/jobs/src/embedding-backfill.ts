import { catalogEventDecoder, type CatalogEvent } from '@affinity/contracts';
import { Embedder } from '@affinity/embeddings';
import { Enricher, type EnricherMetrics } from '@affinity/enrichment';
import type { AttributeExtractor } from '@affinity/attributes';
import type { Job, KeySpace, Redis } from '@affinity/store';
import type { ConsumedEvent, EventProducer, Logger } from '@affinity/stream';
import type { Kafka } from 'kafkajs';
import { z } from 'zod';

export const BackfillJob = z.object({
  /** Registry id of the new model (fetched beforehand with packages/embeddings/scripts/fetch-model.sh). */
  modelId: z.string().min(1),
  /** Where a retried job resumes (next offset per partition); written by the job itself. */
  resume: z.record(z.string(), z.string()).optional(),
});
export type BackfillJob = z.output<typeof BackfillJob>;

export interface BackfillDeps {
  kafka: Kafka;
  redis: Redis;
  keys: KeySpace;
  producer: EventProducer;
  extractor: AttributeExtractor;
  catalogTopic: string;
  enrichedTopic: string;
  descriptionChars: number;
  cacheTtlSeconds: number;
  threads: number;
  /** As the live enricher's (EVENT_MAX_FUTURE_SKEW_MS), so a backfill skips exactly what it rejected. */
  maxFutureSkewMs: number;
  metrics: EnricherMetrics;
  logger: Logger;
}

export interface BackfillResult {
  modelId: string;
  records: number;
  /** Products re-embedded and published under the new model. */
  published: number;
  durationMs: number;
}

const BATCH = 256;

/**
 * Re-embeds the whole catalog under a new model id while the live enricher keeps going: reads
 * catalog.products.v1 from the start (or the job's saved position) up to the end offsets
 * seen when the job started, and publishes enriched products under the new model. Only each
 * product's current version is republished (the enricher's version store decides), so a
 * backfill running behind live updates and deletes never undoes them. The embedding cache is
 * shared with the enricher: once it switches to the new model, nothing is embedded twice.
 */
export async function runBackfill(job: Job<BackfillJob>, deps: BackfillDeps): Promise<BackfillResult> {
  const started = Date.now();
  const data = BackfillJob.parse(job.data);
  const embedder = await Embedder.create({ model: data.modelId, intraOpNumThreads: deps.threads });
  const log = deps.logger.child({ job: job.id, modelId: data.modelId });
  const decode = catalogEventDecoder({ maxFutureSkewMs: deps.maxFutureSkewMs });
  const enricher = new Enricher({
    mode: 'backfill',
    redis: deps.redis,
    keys: deps.keys,
    embedder,
    extractor: deps.extractor,
    producer: deps.producer,
    outTopic: deps.enrichedTopic,
    descriptionChars: deps.descriptionChars,
    cacheTtlSeconds: deps.cacheTtlSeconds,
    metrics: deps.metrics,
  });
  const admin = deps.kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(deps.catalogTopic)).map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
  await admin.disconnect();
  const position = new Map<number, bigint>([...ends].map(([p, o]) => [p, BigInt(data.resume?.[String(p)] ?? o.low)]));
  const remaining = () => [...ends].filter(([p, o]) => position.get(p)! < o.high).map(([p]) => p);
  let records = 0;
  let published = 0;

  // A consumer without a group: explicit partitions and offsets, nothing committed.
  const consumer = deps.kafka.consumer({ groupId: `backfill-${job.id}-${Date.now()}`, maxWaitTimeInMs: 200 });
  try {
    if (remaining().length > 0) {
      await consumer.connect();
      await consumer.subscribe({ topic: deps.catalogTopic, fromBeginning: true });
      let finish!: () => void;
      let fail!: (err: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        finish = res;
        fail = rej;
      });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const [p, offset] of position) if (offset < ends.get(p)!.high) consumer.seek({ topic: deps.catalogTopic, partition: p, offset: offset.toString() });
      });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, isStale }) => {
          try {
            const p = batch.partition;
            const end = ends.get(p)!.high;
            const events: ConsumedEvent<CatalogEvent>[] = [];
            let last: bigint | undefined;
            for (const m of batch.messages) {
              if (isStale()) return;
              const off = BigInt(m.offset);
              if (off < position.get(p)! || off >= end) continue;
              last = off;
              records++;
              try {
                events.push({ value: decode(m), key: m.key?.toString() ?? null, topic: batch.topic, partition: p, offset: m.offset, timestamp: Number(m.timestamp), headers: {} });
              } catch {
                // Invalid records were sent to the DLQ by the live enricher; nothing to re-embed.
              }
            }
            for (let i = 0; i < events.length; i += BATCH) published += await enricher.handle(events.slice(i, i + BATCH));
            if (last !== undefined) position.set(p, last + 1n);
            const progress = Object.fromEntries([...position].map(([k, v]) => [String(k), v.toString()]));
            await job.updateData({ ...data, resume: progress });
            const total = [...ends.values()].reduce((s, o) => s + Number(o.high - o.low), 0);
            await job.updateProgress(total === 0 ? 100 : Math.round((100 * records) / total));
            if (remaining().length === 0) finish();
          } catch (err) {
            fail(err);
          }
        },
      });
      await done;
    }
    log.info({ records, durationMs: Date.now() - started }, 'backfill finished');
    return { modelId: data.modelId, records, published, durationMs: Date.now() - started };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await embedder.close();
  }
}
