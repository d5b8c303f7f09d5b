/**
 * The graph worker (docs/architecture.md "services/graph"): consumes interactions.v1, folds each batch into
 * the behaviour graph, refreshes the FastRP vectors of the nodes it touched and publishes the
 * ones that moved to embeddings.behaviour.v1.
 *
 * FastRP is a computation over the whole graph, so it does not split across consumers: one
 * leader (a Redis lease) consumes every partition; replicas wait as hot standbys. The graph
 * and its embeddings are snapshotted to Redis with the offsets they reflect; a new leader
 * restores the snapshot and replays from there (event ids are deduplicated by the graph).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { derivedEventId, interactionDecoder, type BehaviourEmbedding, type Interaction } from '@affinity/contracts';
import { BehaviourGraph, IncrementalFastRP, type GraphDelta, type IncrementalFastRPOptions } from '@affinity/graph';
import { KeySpace, LeaderLease, QUEUE, createQueue, createQueueWorker, createRedis, type Queue, type Worker } from '@affinity/store';
import { BatchConsumer, ServiceGroup, createWorkerKit, runService, type ConsumedEvent, type OutgoingRecord, type SeekRequest, httpExposure, redisConnection } from '@affinity/stream';
import { Counter, Gauge, Histogram } from 'prom-client';
import { loadGraphConfig } from './config';
import { GraphSnapshots } from './graph-snapshots';

const config = loadGraphConfig();
const kit = createWorkerKit('graph', config);
const { logger } = kit;
const keys = new KeySpace(config.REDIS_PREFIX);
const redis = createRedis({ ...redisConnection(config), name: `graph:${config.INSTANCE_ID}`, onError: (err) => logger.debug({ err }, 'redis') });
const leaseKey = keys.key('graph', 'leader');
const lease = new LeaderLease(redis, { key: leaseKey, instance: config.INSTANCE_ID, ttlMs: config.GRAPH_LEASE_TTL_MS });
const snapshots = new GraphSnapshots(redis, keys, leaseKey, config.INSTANCE_ID);
const topic = kit.topic('interactions');
const behaviourTopic = kit.topic('behaviour');
const fastrpOptions: IncrementalFastRPOptions = { dim: config.GRAPH_DIM, epsilon: config.GRAPH_EPSILON, driftThreshold: config.GRAPH_DRIFT_THRESHOLD };
const modelId = `fastrp-d${config.GRAPH_DIM}`;

const updateSeconds = new Histogram({ name: 'affinity_graph_update_seconds', help: 'Graph apply + incremental FastRP per batch', buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [kit.registry] });
const driftGauge = new Gauge({ name: 'affinity_graph_drift', help: 'Estimated mean relative error of the incremental embeddings', registers: [kit.registry] });
const nodesGauge = new Gauge({ name: 'affinity_graph_nodes', help: 'Users and items in the graph', registers: [kit.registry] });
const withheld = new Counter({
  name: 'affinity_graph_vectors_withheld_total',
  help: 'Behaviour vectors not published: zero (a node left without edges has no behaviour to show) or non_finite (a bug, logged as an error)',
  labelNames: ['reason'] as const,
  registers: [kit.registry],
});

/** Why a vector must not leave the worker, if it must not: consumers reject NaN/±∞, and a zero vector has no direction. */
function unpublishable(v: Float32Array): 'zero' | 'non_finite' | undefined {
  let zero = true;
  for (let c = 0; c < v.length; c++) {
    if (!Number.isFinite(v[c]!)) return 'non_finite';
    if (v[c] !== 0) zero = false;
  }
  return zero ? 'zero' : undefined;
}

let graph: BehaviourGraph | undefined;
let fastrp: IncrementalFastRP | undefined;
/** Next offset per partition reflected by the in-memory state. */
const offsets = new Map<number, string>();
let restoredOffsets = new Map<number, string>();
let queue: Queue | undefined;
let jobWorker: Worker | undefined;
let snapshotTimer: NodeJS.Timeout | undefined;
let leading = false;

function toRecords(changed: Int32Array, causes: Map<string, Interaction[]>, batchKey: string): { records: OutgoingRecord[]; nonFinite: number } {
  const now = Date.now();
  const out: OutgoingRecord[] = [];
  let nonFinite = 0;
  for (const idx of changed) {
    const ref = graph!.nodeRef(idx);
    const cause = causes.get(`${ref.kind}:${ref.id}`) ?? [];
    const vector = Float32Array.from(fastrp!.vector(idx));
    const problem = unpublishable(vector);
    if (problem !== undefined) {
      withheld.inc({ reason: problem });
      if (problem === 'non_finite') {
        nonFinite++;
        logger.error({ node: `${ref.kind}:${ref.id}`, batchKey }, 'withheld a non-finite behaviour vector (the incremental FastRP state is broken; recomputing in full)');
      }
      continue;
    }
    const value: BehaviourEmbedding = {
      type: 'behaviour.embedding',
      eventId: derivedEventId('beh', ref.kind, ref.id, batchKey),
      nodeKind: ref.kind,
      nodeId: ref.id,
      embedding: { modelId, dim: vector.length, vector },
      causeEventIds: cause.slice(-5).map((e) => e.eventId),
      sourceTs: cause.reduce((m, e) => Math.max(m, e.ts), 0) || now,
      updatedAt: now,
    };
    out.push({ key: `${ref.kind}:${ref.id}`, value });
  }
  return { records: out, nonFinite };
}

/** Publishes the vectors of `changed`; returns how many were withheld as non-finite. */
async function publish(changed: Int32Array, causes: Map<string, Interaction[]>, batchKey: string): Promise<number> {
  const { records, nonFinite } = toRecords(changed, causes, batchKey);
  for (let i = 0; i < records.length; i += 1000) await kit.producer.send(behaviourTopic, records.slice(i, i + 1000));
  return nonFinite;
}

async function handle(partition: number, events: readonly ConsumedEvent<Interaction>[], lastOffset: string): Promise<void> {
  const g = graph!;
  const f = fastrp!;
  const started = performance.now();
  const values = events.map((e) => e.value);
  const delta: GraphDelta = g.apply(values);
  const result = f.update(delta);
  updateSeconds.observe((performance.now() - started) / 1000);
  driftGauge.set(result.drift);
  nodesGauge.set(g.nodeCount);
  const causes = new Map<string, Interaction[]>();
  for (const e of values) {
    for (const k of [`user:${e.userId}`, `item:${e.productId}`]) {
      const list = causes.get(k);
      if (list === undefined) causes.set(k, [e]);
      else list.push(e);
    }
  }
  const nonFinite = await publish(result.changed, causes, `${partition}:${lastOffset}`);
  offsets.set(partition, (BigInt(lastOffset) + 1n).toString());
  if (result.needsFullRecompute || nonFinite > 0) {
    // One pending job at a time: BullMQ ignores an add whose jobId already exists. The batch
    // algorithm rebuilds every row from the graph, which also repairs a broken incremental state.
    const reason = nonFinite > 0 ? { reason: 'non_finite', vectors: nonFinite } : { reason: 'drift', drift: result.drift };
    await queue?.add('recompute', reason, { jobId: 'fastrp-recompute' });
  }
}

async function snapshot(): Promise<void> {
  if (!leading || !graph || !fastrp) return;
  const outcome = await snapshots.save(graph, fastrp, offsets);
  if (outcome === 'saved') logger.info({ nodes: graph.nodeCount }, 'graph snapshot written');
  else logger.warn({ outcome }, 'snapshot not committed');
}

const admin = kit.kafka.admin();
const consumer = new BatchConsumer({
  kafka: kit.kafka,
  groupId: kit.group('graph'),
  inputs: { interactions: { topic, decode: interactionDecoder({ maxFutureSkewMs: config.EVENT_MAX_FUTURE_SKEW_MS }) } },
  producer: kit.producer,
  logger,
  metrics: kit.metrics,
  sessionTimeoutMs: config.CONSUMER_SESSION_TIMEOUT_MS,
  stallTimeoutMs: config.CONSUMER_STALL_TIMEOUT_MS,
  // Small chunks keep the event loop responsive (lease renewals, heartbeats) during heavy updates.
  maxBatchSize: 500,
  onAssignment: async (assigned): Promise<SeekRequest[]> => {
    const partitions = assigned.find((a) => a.topic === topic)?.partitions ?? [];
    const low = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.low]));
    // The in-memory graph covers what it has applied; resume exactly there (or from the snapshot, or the beginning).
    return partitions.map((p) => ({ topic, partition: p, offset: offsets.get(p) ?? restoredOffsets.get(p) ?? low.get(p) ?? '0' }));
  },
  handler: ({ partition, events, lastOffset }) => handle(partition, events, lastOffset),
});

const service = new ServiceGroup(
  'graph',
  [
    { name: 'topics', start: () => kit.ensureTopics(), close: () => undefined },
    { name: 'admin', start: () => admin.connect(), close: () => admin.disconnect() },
    { name: 'producer', start: () => kit.producer.connect(), close: () => kit.producer.close() },
    {
      name: 'leader-lease',
      start: async () => {
        logger.info('waiting for the graph leader lease');
        await lease.acquire(() => {
          logger.fatal('lost the graph leader lease; exiting so a standby can take over');
          process.exit(1);
        });
        leading = true;
        logger.info('acquired the graph leader lease');
      },
      close: async () => {
        leading = false;
        await lease.release();
      },
      ready: () => leading,
    },
    {
      name: 'state',
      start: async () => {
        const restored = await snapshots.load(fastrpOptions).catch((err: unknown) => {
          logger.error({ err }, 'graph snapshot unreadable; rebuilding from the topic');
          return undefined;
        });
        if (restored) {
          ({ graph, fastrp } = restored);
          restoredOffsets = restored.offsets;
          logger.info({ nodes: graph.nodeCount, offsets: Object.fromEntries(restoredOffsets) }, 'restored graph snapshot');
        } else {
          graph = new BehaviourGraph({ halfLifeMs: config.GRAPH_HALF_LIFE_MS });
          fastrp = await IncrementalFastRP.create(graph, fastrpOptions);
        }
      },
      close: () => undefined,
    },
    {
      name: 'recompute-jobs',
      start: async () => {
        queue = createQueue(QUEUE.fastrpRecompute, redisConnection(config), { prefix: `${config.REDIS_PREFIX}:bull` });
        jobWorker = createQueueWorker(
          QUEUE.fastrpRecompute,
          redisConnection(config),
          async () => {
            if (!leading || !fastrp) throw new Error('not the graph leader');
            const r = await fastrp.fullRecompute();
            await publish(r.changed, new Map(), `full:${Date.now()}`);
            logger.info({ changed: r.changed.length, durationMs: r.durationMs, replayedEdges: r.replayedEdges }, 'full FastRP recompute done');
            return { changed: r.changed.length, durationMs: r.durationMs };
          },
          { prefix: `${config.REDIS_PREFIX}:bull` },
        );
      },
      close: async () => {
        await jobWorker?.close();
        await queue?.close();
      },
    },
    {
      name: 'snapshots',
      start: async () => {
        snapshotTimer = setInterval(() => void snapshot().catch((err: unknown) => logger.error({ err }, 'graph snapshot failed')), config.GRAPH_SNAPSHOT_INTERVAL_MS);
      },
      close: async () => {
        clearInterval(snapshotTimer);
        await snapshot().catch((err: unknown) => logger.error({ err }, 'final graph snapshot failed'));
      },
    },
    consumer.component(),
  ],
  logger,
);

/** Read-only introspection: GET /graph/stats, GET /graph/edge?user=&item=[&at=epochMs] (the decayed weight at `at`). */
function graphRoutes(req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' || !url.pathname.startsWith('/graph/')) return false;
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (!graph) {
    send(503, { error: 'UNAVAILABLE', message: 'not the leader, or state not loaded yet' });
    return true;
  }
  if (url.pathname === '/graph/stats') send(200, { ...graph.stats(), offsets: Object.fromEntries(offsets), drift: fastrp?.drift });
  else if (url.pathname === '/graph/edge') {
    const user = url.searchParams.get('user') ?? '';
    const item = url.searchParams.get('item') ?? '';
    const at = url.searchParams.has('at') ? Number(url.searchParams.get('at')) : undefined;
    send(200, { user, item, weight: graph.edgeWeight(user, item, at) });
  } else send(404, { error: 'NOT_FOUND' });
  return true;
}

await runService(service, { name: 'graph', logger, registry: kit.registry, ...httpExposure(config), graceMs: config.SHUTDOWN_GRACE_MS, extraRoutes: graphRoutes });
