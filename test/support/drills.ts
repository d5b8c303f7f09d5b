/**
 * What the drills in test/drills share: the real services on one prefix, records written one
 * at a time so the drill knows where each landed, a model of what the contracts accept (the
 * codecs classify every record the drill writes, exactly as the services' consumers will), and
 * one check that the services hold exactly that: each accepted record's effect once, each
 * rejected record in the DLQ once per group that reads it, every group at the end of its topics.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DLQ_LIMITS,
  DlqRecord,
  EnrichedProduct,
  MAX_MESSAGE_BYTES,
  ValidationError,
  catalogEventDecoder,
  decodeBehaviourEmbedding,
  decodeEnrichedEvent,
  interactionDecoder,
  parseWith,
  topicName,
  type BehaviourEmbedding,
  type CatalogEvent,
  type Decoder,
  type EnrichedEvent,
  type Interaction,
  type TopicId,
  type TopicOptions,
} from '@affinity/contracts';
import { BehaviourGraph } from '@affinity/graph';
import { RecState } from '@affinity/lists';
import { KeySpace } from '@affinity/store';
import type { Admin, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { expect } from 'vitest';
import { ROOT, type TestEnv, openTestEnv, stack, waitFor } from './harness';
import { Pipeline, type PipelineOptions, type ServiceName } from './pipeline';

/** A record as a drill writes it: raw bytes, exactly as a careless or hostile producer would send them. */
export interface RawRecord {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: IHeaders;
}

/** Where the broker put a record, and its bytes. */
export interface Placed {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

const bytes = (b: Buffer | string | null): Buffer | null => (b === null ? null : Buffer.isBuffer(b) ? b : Buffer.from(b, 'utf8'));
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Sends with retries that outlast a broker restart (the producer is idempotent: a retried send is not written twice). */
async function sendRetrying<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (attempt >= 60) throw err;
      await pause(1000);
    }
  }
}

/** True when `group` has committed the end offset of every partition of `topic`. */
export async function caughtUp(admin: Admin, group: string, topic: string): Promise<boolean> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const at = new Map(committed!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
  return ends.every((e) => BigInt(e.high) === 0n || at.get(e.partition) === BigInt(e.high));
}

/**
 * Every record of `topic` up to its current end, each once (a reader that rejoins after a broker
 * restart would see some twice; reading once at the end does not depend on it).
 */
export async function readToEnd(kafka: Kafka, admin: Admin, topic: string, timeoutMs = 60_000): Promise<KafkaMessage[]> {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  const byPosition = new Map<string, KafkaMessage>();
  if (ends.size === 0) return [];
  const next = new Map<number, bigint>();
  const consumer = kafka.consumer({ groupId: `drill-reader-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (BigInt(m.offset) < ends.get(batch.partition)!) byPosition.set(`${batch.partition}/${m.offset}`, m);
          next.set(batch.partition, BigInt(m.offset) + 1n);
        }
      },
    });
    await waitFor(async () => [...ends].every(([p, end]) => (next.get(p) ?? 0n) >= end), Boolean, timeoutMs, `${topic} read to its end`);
  } finally {
    await consumer.disconnect();
  }
  return [...byPosition.values()];
}

/** /healthz and /readyz of a service on `port`. */
export async function probes(port: number): Promise<{ healthz: number; readyz: number }> {
  const get = async (path: string): Promise<number> => (await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) })).status;
  return { healthz: await get('/healthz'), readyz: await get('/readyz') };
}

/** The stream workers a drill runs (the API writes no topic a drill reads, jobs read none). */
export type DrillService = Exclude<ServiceName, 'api' | 'jobs'>;

/** The topics each service's consumer group reads. */
const READS: Record<DrillService, readonly TopicId[]> = {
  enricher: ['catalog'],
  indexer: ['enriched'],
  graph: ['interactions'],
  recommender: ['enriched', 'behaviour', 'interactions'],
};

/** The decoders of the services (default future-time skew, as the drills leave EVENT_MAX_FUTURE_SKEW_MS unset). */
const DECODE: Record<Exclude<TopicId, 'recs'>, Decoder<unknown>> = {
  catalog: catalogEventDecoder(),
  enriched: decodeEnrichedEvent,
  interactions: interactionDecoder(),
  behaviour: decodeBehaviourEmbedding,
};
export type InputTopic = keyof typeof DECODE;

/** Marks records a drill writes to products.enriched.v1 itself, to tell them from the enricher's output. */
const DIRECT = 'drill-direct';

/** Half-life the drills give the graph, so the reference graph decays edges the same way. */
export const GRAPH_HALF_LIFE_MS = 14 * 24 * 3600 * 1000;

export interface DrillOptions {
  services: readonly DrillService[];
  /** Partition counts (small ones keep start-up and rebalances short). */
  partitions?: TopicOptions['partitions'];
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Restart a service that exits (PipelineOptions.restart). @defaultValue false */
  restart?: PipelineOptions['restart'];
}

/** A rejected record, and why the drill expects it rejected (matched against the DLQ message). */
interface Rejection {
  placed: Placed;
  why: RegExp | undefined;
}

/**
 * The real services on one prefix, and the model of what they must hold. Write every record
 * through {@link write} or {@link writeValid}; {@link verify} compares the services with the model.
 */
export class DrillPipeline {
  readonly pipeline: Pipeline;
  readonly state: RecState;
  /** Latest accepted catalog event per product (newest updatedAt wins), and every accepted version's event id. */
  readonly catalog = new Map<string, CatalogEvent>();
  private readonly catalogVersions = new Map<string, Set<string>>();
  /** Latest accepted enriched event per product written directly to products.enriched.v1. */
  readonly enriched = new Map<string, EnrichedEvent>();
  /** Accepted interactions by event id (the first one wins: later ones are replays). */
  readonly interactions = new Map<string, Interaction>();
  /** Latest accepted behaviour vector per user written directly to embeddings.behaviour.v1. */
  readonly userVectors = new Map<string, Float32Array>();
  private readonly rejected: Rejection[] = [];

  private constructor(
    readonly t: TestEnv,
    readonly options: DrillOptions,
    private readonly indexDir: string,
  ) {
    this.state = new RecState(t.redis, { keys: new KeySpace(`${t.prefix}affinity`) });
    this.pipeline = new Pipeline({
      brokers: stack().brokers,
      redisUrl: stack().redisUrl,
      topicPrefix: t.prefix,
      redisPrefix: `${t.prefix}affinity`,
      logDir: resolve(ROOT, '.affinity/test-logs', `${t.prefix}drill`),
      indexDir,
      restart: options.restart,
      env: {
        ...options.env,
        enricher: { EMBEDDING_THREADS: '1', ...options.env?.enricher },
        graph: { GRAPH_HALF_LIFE_MS: String(GRAPH_HALF_LIFE_MS), GRAPH_SNAPSHOT_INTERVAL_MS: '5000', ...options.env?.graph },
        recommender: { INDEX_SHARDS: String(options.partitions?.enriched ?? 6), RECS_LINEAR_INTERVAL_MS: '0', ...options.env?.recommender },
      },
    });
  }

  /** Creates the topics, starts the services and waits until each is ready. */
  static async open(label: string, options: DrillOptions): Promise<DrillPipeline> {
    const t = await openTestEnv(label, { partitions: options.partitions });
    const d = new DrillPipeline(t, options, mkdtempSync(join(tmpdir(), 'affinity-drill-index-')));
    await d.pipeline.start(options.services);
    await d.pipeline.waitReady();
    return d;
  }

  topic(id: TopicId): string {
    return topicName(id, { prefix: this.t.prefix });
  }

  group(service: ServiceName): string {
    return `${this.t.prefix}affinity-${service}`;
  }

  port(service: ServiceName): number {
    return this.pipeline.ports.get(service)!;
  }

  /** The groups that read `topic` (each rejects a bad record into the DLQ on its own). */
  readers(topic: InputTopic): string[] {
    return this.options.services.filter((s) => READS[s].includes(topic)).map((s) => this.group(s));
  }

  /**
   * Decides, with the services' own decoders, whether `record` will be accepted, and records
   * what accepting it must change. Returns the rejection when it will not be accepted.
   */
  private classify(topic: InputTopic, record: RawRecord): ValidationError | undefined {
    let event: unknown;
    try {
      event = DECODE[topic]({ key: bytes(record.key), value: bytes(record.value), timestamp: String(Date.now()), headers: record.headers });
    } catch (err) {
      if (err instanceof ValidationError) return err;
      throw err;
    }
    if (topic === 'catalog') this.acceptCatalog(event as CatalogEvent);
    else if (topic === 'enriched') {
      const e = event as EnrichedEvent;
      const cur = this.enriched.get(e.productId);
      if (!cur || updatedAt(e) > updatedAt(cur)) this.enriched.set(e.productId, e);
    } else if (topic === 'interactions') {
      const e = event as Interaction;
      if (!this.interactions.has(e.eventId)) this.interactions.set(e.eventId, e);
    } else {
      const e = event as BehaviourEmbedding;
      if (e.nodeKind === 'user') this.userVectors.set(e.nodeId, e.embedding.vector);
    }
    return undefined;
  }

  private acceptCatalog(e: CatalogEvent): void {
    const versions = this.catalogVersions.get(e.productId) ?? new Set<string>();
    versions.add(e.eventId);
    this.catalogVersions.set(e.productId, versions);
    const cur = this.catalog.get(e.productId);
    if (!cur || e.updatedAt > cur.updatedAt) this.catalog.set(e.productId, e);
  }

  /**
   * Writes one record and returns where it landed. `expectRejected` states the drill's own
   * expectation (a regex the DLQ message must match, or false for a record that must be
   * accepted); the contracts' decision must agree with it.
   */
  async write(topic: InputTopic, record: RawRecord, expectRejected?: RegExp | false): Promise<{ placed: Placed; rejected: boolean }> {
    const withMark = topic === 'enriched' ? { ...record, headers: { ...record.headers, [DIRECT]: '1' } } : record;
    const rejection = this.classify(topic, withMark);
    if (expectRejected === false) expect(rejection?.message, 'a record the drill means to be valid').toBeUndefined();
    if (expectRejected instanceof RegExp) expect(rejection?.message ?? 'accepted', 'a record the drill means to be rejected').toMatch(expectRejected);
    const name = this.topic(topic);
    const [meta] = await sendRetrying(() => this.t.producer.send({ topic: name, acks: -1, messages: [withMark] }));
    const placed = { topic: name, partition: meta!.partition, offset: meta!.baseOffset!, key: bytes(withMark.key), value: bytes(withMark.value) };
    if (rejection) this.rejected.push({ placed, why: expectRejected || undefined });
    return { placed, rejected: rejection !== undefined };
  }

  /** Writes records the drill means to be valid, in chunks (a load: where each lands does not matter). */
  async writeValid(topic: InputTopic, records: readonly RawRecord[]): Promise<void> {
    const marked = topic === 'enriched' ? records.map((r) => ({ ...r, headers: { ...r.headers, [DIRECT]: '1' } })) : records;
    for (const r of marked) expect(this.classify(topic, r)?.message, 'a record the drill means to be valid').toBeUndefined();
    for (let i = 0; i < marked.length; i += 500) {
      const chunk = marked.slice(i, i + 500);
      await sendRetrying(() => this.t.producer.send({ topic: this.topic(topic), acks: -1, messages: chunk }));
    }
  }

  /**
   * Waits until every group has read everything, then checks that the services hold exactly
   * the model: rejected records in the DLQ once per reading group and nothing else there; each
   * accepted record's effect, once. `redoneOutput`: the enricher may have published a version
   * twice (at-least-once: a batch redone after a dependency failed between its output and its
   * commit); downstream effects must still be exact.
   */
  async verify(options: { timeoutMs?: number; redoneOutput?: boolean } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 180_000;
    const s = new Set(this.options.services);
    const pairs = this.options.services.flatMap((svc) => READS[svc].map((topic) => [this.group(svc), this.topic(topic)] as const));
    await waitFor(
      async () => {
        const behind: string[] = [];
        for (const [group, topic] of pairs) if (!(await caughtUp(this.t.admin, group, topic))) behind.push(`${group} on ${topic}`);
        return behind;
      },
      (behind) => behind.length === 0,
      timeoutMs,
      'every group to commit the end of every topic it reads',
    );
    await this.verifyDlq();
    // Complete once every group caught up: each writes its output before it commits its input.
    const enricherOutput = s.has('enricher') ? await this.enricherOutput() : new Map<string, (EnrichedProduct | null)[]>();
    if (s.has('enricher')) this.verifyEnricherOutput(enricherOutput, options.redoneOutput ?? false);
    if (s.has('indexer')) await this.verifyIndexer(enricherOutput);
    if (s.has('recommender')) await this.verifyRecommender();
    if (s.has('graph')) await this.verifyGraph();
    for (const svc of this.options.services) {
      expect(this.pipeline.pid(svc), `${svc} still running`).toBeDefined();
      // After an outage readiness returns with the next join or batch, not necessarily by now.
      const p = await waitFor(() => probes(this.port(svc)), (r) => r.healthz === 200 && r.readyz === 200, 60_000, `${svc} healthy and ready`).catch(() => probes(this.port(svc)));
      expect(p, `${svc} healthy and ready`).toEqual({ healthz: 200, readyz: 200 });
    }
  }

  private async verifyDlq(): Promise<void> {
    const expected = new Map<string, { rejection: Rejection; group: string }>();
    for (const r of this.rejected) {
      for (const group of this.readers(topicIdOf(r.placed.topic, this.t.prefix))) expected.set(dlqSource(group, r.placed), { rejection: r, group });
    }
    const seen = new Set<string>();
    for (const topic of new Set(this.options.services.flatMap((svc) => READS[svc]))) {
      // DLQ records are written before the offsets that skip them are committed: all are there by now.
      for (const m of await readToEnd(this.t.kafka, this.t.admin, `${this.topic(topic)}.dlq`)) {
        expect(m.value!.length, `a DLQ record on ${topic} within the message limit`).toBeLessThan(MAX_MESSAGE_BYTES);
        const rec = parseWith(DlqRecord, JSON.parse(m.value!.toString()));
        const id = `${rec.consumerGroup}/${rec.sourceTopic}/${rec.sourcePartition}/${rec.sourceOffset}`;
        const want = expected.get(id);
        expect(want, `DLQ record for ${id} (${rec.errorCode}: ${rec.message}) matches a record the contracts reject`).toBeDefined();
        expect(seen.has(id), `one DLQ record for ${id}`).toBe(false);
        seen.add(id);
        expectFaithfulDlq(rec, want!.rejection.placed);
        if (want!.rejection.why) expect(rec.message).toMatch(want!.rejection.why);
      }
    }
    expect(seen.size).toBe(expected.size);
  }

  /** What the enricher published per product, in order (null for a tombstone); the drill's own records excluded. */
  private async enricherOutput(): Promise<Map<string, (EnrichedProduct | null)[]>> {
    const by = new Map<string, (EnrichedProduct | null)[]>();
    const messages = await readToEnd(this.t.kafka, this.t.admin, this.topic('enriched'));
    for (const m of messages.sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)))) {
      if (m.headers?.[DIRECT] !== undefined) continue;
      const key = m.key!.toString();
      const list = by.get(key) ?? [];
      list.push(m.value === null ? null : parseWith(EnrichedProduct, JSON.parse(m.value.toString())));
      by.set(key, list);
    }
    return by;
  }

  /** The enricher published each product's newest accepted version (or its tombstone) last, only accepted versions, and (unless redone) none twice. */
  private verifyEnricherOutput(by: Map<string, (EnrichedProduct | null)[]>, redone: boolean): void {
    for (const [id, e] of this.catalog) {
      const last = by.get(id)?.at(-1);
      if (e.type === 'product.delete') expect(last, `${id}: a tombstone last`).toBeNull();
      else expect(last?.product.eventId, `${id}: its newest version last`).toBe(e.eventId);
    }
    for (const [id, list] of by) {
      const versions = this.catalogVersions.get(id);
      expect(versions, `the enricher published ${id}, which was never accepted`).toBeDefined();
      const ids = list.filter((e): e is EnrichedProduct => e !== null).map((e) => e.product.eventId);
      expect(ids.every((v) => versions!.has(v)), `${id}: only accepted versions`).toBe(true);
      if (!redone) expect(new Set(ids).size, `${id}: no version published twice`).toBe(ids.length);
    }
  }

  /** Per embedding model, the indexer's shards hold exactly the live products. */
  private async verifyIndexer(enricherOutput: Map<string, (EnrichedProduct | null)[]>): Promise<void> {
    const want = new Map<string, number>();
    const count = (modelId: string) => want.set(modelId, (want.get(modelId) ?? 0) + 1);
    for (const e of this.enriched.values()) if (e.type === 'product.enriched') count(e.embedding.modelId);
    if (this.options.services.includes('enricher')) {
      for (const [id, e] of this.catalog) if (e.type === 'product.upsert') count(enricherOutput.get(id)?.at(-1)?.embedding.modelId ?? '(not published)');
    }
    const sizes = async (): Promise<Map<string, number>> => {
      const body = (await (await fetch(`http://127.0.0.1:${this.port('indexer')}/shards`)).json()) as { shards: { models: { modelId: string; size: number }[] }[] };
      const got = new Map<string, number>();
      for (const shard of body.shards) for (const m of shard.models) if (m.size > 0) got.set(m.modelId, (got.get(m.modelId) ?? 0) + m.size);
      return got;
    };
    const got = await waitFor(sizes, (g) => g.size === want.size && [...want].every(([k, v]) => g.get(k) === v), 30_000, 'indexed products per model').catch(async () => sizes());
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(want));
  }

  /** The recommender's catalog copy, per-shopper counts and user vectors equal the model. */
  private async verifyRecommender(): Promise<void> {
    const latest = new Map<string, { updatedAt: number; title?: string; attributes?: Record<string, string>; deleted: boolean }>();
    for (const [id, e] of this.enriched) latest.set(id, e.type === 'product.delete' ? { updatedAt: e.updatedAt, deleted: true } : { updatedAt: e.product.updatedAt, title: e.product.title, deleted: false });
    if (this.options.services.includes('enricher')) {
      for (const [id, e] of this.catalog) latest.set(id, e.type === 'product.delete' ? { updatedAt: e.updatedAt, deleted: true } : { updatedAt: e.updatedAt, title: e.title, attributes: e.attributes, deleted: false });
    }
    const ids = [...latest.keys()];
    const items = await waitFor(
      () => this.state.items(ids),
      (m) => ids.every((id) => (latest.get(id)!.deleted ? !m.has(id) : m.get(id)?.updatedAt === latest.get(id)!.updatedAt)),
      60_000,
      "the recommender's copy of every product's newest version",
    ).catch(() => this.state.items(ids));
    for (const [id, want] of latest) {
      const got = items.get(id);
      if (want.deleted) {
        expect(got, `${id} deleted`).toBeUndefined();
        continue;
      }
      expect(got, `${id} stored`).toBeDefined();
      expect({ updatedAt: got!.updatedAt, title: got!.title }).toEqual({ updatedAt: want.updatedAt, title: want.title });
      // Catalog attributes are stored as they are, whatever their names (extraction adds, never overrides).
      for (const [name, value] of Object.entries(want.attributes ?? {})) expect(Object.entries(got!.attributes ?? {})).toContainEqual([name, value]);
    }
    for (const [user, counts] of expectedUserItems(this.interactions.values())) {
      expect(Object.fromEntries(await this.state.userItems(user)), `counts of ${user}`).toEqual(Object.fromEntries(counts));
    }
    for (const [user, vector] of this.userVectors) {
      expect(Array.from((await this.state.behaviourVector('user', user)) ?? []), `behaviour vector of ${user}`).toEqual(Array.from(vector));
    }
  }

  /** The graph holds every accepted interaction once: nodes, edges and edge weights of a single pass. */
  private async verifyGraph(): Promise<void> {
    const port = this.port('graph');
    const reference = new BehaviourGraph({ halfLifeMs: GRAPH_HALF_LIFE_MS });
    reference.apply([...this.interactions.values()]);
    const json = async (path: string): Promise<Record<string, unknown>> => (await fetch(`http://127.0.0.1:${port}${path}`)).json() as Promise<Record<string, unknown>>;
    const stats = await json('/graph/stats');
    expect({ nodes: stats.nodes, edges: stats.edges }).toEqual({ nodes: reference.stats().nodes, edges: reference.stats().edges });
    const all = [...this.interactions.values()];
    if (all.length === 0) return;
    const at = Math.max(...all.map((e) => e.ts));
    const pairs = [...new Map(all.map((e) => [`${e.userId}\n${e.productId}`, e])).values()];
    for (const e of pairs.filter((_, i) => i % Math.max(1, Math.floor(pairs.length / 40)) === 0)) {
      const got = (await json(`/graph/edge?user=${encodeURIComponent(e.userId)}&item=${encodeURIComponent(e.productId)}&at=${at}`)).weight as number;
      const want = reference.edgeWeight(e.userId, e.productId, at);
      expect(Math.abs(got - want) / want, `edge ${e.userId}–${e.productId}: ${got} vs ${want}`).toBeLessThan(1e-4);
    }
  }

  async close(): Promise<void> {
    await this.pipeline.stop();
    await this.t.close();
    rmSync(this.indexDir, { recursive: true, force: true });
  }
}

const updatedAt = (e: EnrichedEvent): number => (e.type === 'product.delete' ? e.updatedAt : e.product.updatedAt);

function topicIdOf(name: string, prefix: string): InputTopic {
  const id = (Object.keys(DECODE) as InputTopic[]).find((t) => topicName(t, { prefix }) === name);
  if (!id) throw new Error(`not an input topic: ${name}`);
  return id;
}

const dlqSource = (group: string, p: Placed): string => `${group}/${p.topic}/${p.partition}/${p.offset}`;

/**
 * A DLQ record describes its source faithfully and within bounds: the reason is a validation
 * error, and it keeps the original key and value (or their first bytes, with size and sha256
 * when they were too large).
 */
export function expectFaithfulDlq(r: DlqRecord, placed: Placed): void {
  expect({ errorCode: r.errorCode, errorClass: r.errorClass }).toEqual({ errorCode: 'VALIDATION', errorClass: 'ValidationError' });
  for (const [part, original, limit] of [
    ['key', placed.key, DLQ_LIMITS.keyPrefixBytes],
    ['value', placed.value, DLQ_LIMITS.valuePrefixBytes],
  ] as const) {
    if (original === null) {
      expect(r[part], `${part}: none`).toBeNull();
      continue;
    }
    expect({ bytes: r[`${part}Bytes`], sha256: r[`${part}Sha256`] }).toEqual({ bytes: original.length, sha256: sha256(original) });
    expect(typeof r[part], `${part} kept (a minimal DLQ record keeps no bytes)`).toBe('string');
    expect(Buffer.from(r[part]!, 'base64').equals(original.subarray(0, limit)), `${part}: the original bytes, or their first ${limit}`).toBe(true);
    expect(r.truncated.includes(part), `${part} marked truncated`).toBe(original.length > limit);
  }
}

/** The recommender's per-shopper counts, kept once per event id: user → product → count. */
export function expectedUserItems(accepted: Iterable<Interaction>): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const e of accepted) {
    const m = out.get(e.userId) ?? new Map<string, number>();
    m.set(e.productId, (m.get(e.productId) ?? 0) + 1);
    out.set(e.userId, m);
  }
  return out;
}

