import { topicName, type TopicId } from '@affinity/contracts';
import { KeySpace, LIST_PRIORITIES, QUEUE, Queue, pendingListsKey, type ListPriority, type Redis } from '@affinity/store';
import type { Admin } from 'kafkajs';

/**
 * The consumer groups that commit their offsets, by the service that runs them (group
 * `<topic prefix>affinity-<service>`), and the topics each reads: docs/architecture.md "Parts".
 * The per-instance readers that never commit (the recommender's behaviour table, the API's
 * recs.v1 feed) hold no work for anyone: they are not here.
 */
export const COMMITTING_GROUPS = {
  enricher: ['catalog'],
  indexer: ['enriched'],
  graph: ['interactions'],
  recommender: ['enriched', 'behaviour', 'interactions'],
} as const satisfies Record<string, readonly TopicId[]>;
export type CommittingService = keyof typeof COMMITTING_GROUPS;

/** Reads of one backlog before a transient broker error is given up on (about 4.5 s of backoff in all). */
const READ_ATTEMPTS = 7;

/** kafkajs marks errors that a retry may cure (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, a lost connection…). */
function isRetriable(err: unknown): boolean {
  return err instanceof TopicsAppeared || (typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true);
}

/** A topic was created during a read: the read starts over. */
class TopicsAppeared extends Error {
  constructor() {
    super('a topic was created while the backlog was read');
  }
}

/** BullMQ queues whose jobs feed the pipeline again: a full FastRP recompute republishes behaviour vectors, a backfill re-embeds the catalog. */
const PIPELINE_JOB_QUEUES = [QUEUE.fastrpRecompute, QUEUE.embeddingBackfill] as const;

export interface BacklogOptions {
  /** A connected kafkajs admin client; the caller owns it. */
  admin: Admin;
  /** A Redis client on the deployment's Redis; the caller owns it. */
  redis: Redis;
  /** The deployment's `AFFINITY_TOPIC_PREFIX` (topics and groups). @defaultValue '' */
  topicPrefix?: string;
  /** The deployment's `REDIS_PREFIX`. @defaultValue 'affinity' */
  redisPrefix?: string;
  /** The services whose groups count (those that run). @defaultValue every service of COMMITTING_GROUPS */
  services?: readonly CommittingService[];
  /** Count waiting and running BullMQ jobs (FastRP recompute, embedding backfill). @defaultValue true */
  jobs?: boolean;
}

export interface PartitionLag {
  partition: number;
  /** The group's committed offset (the next one it reads), or null when it committed none. */
  committed: string | null;
  /** The partition's log end offset. */
  end: string;
  /** Records the group has not handled: end − committed, or end − the earliest retained offset without a commit or past an older one (the group starts at the beginning). */
  lag: number;
}

export interface GroupLag {
  service: CommittingService;
  group: string;
  topic: string;
  lag: number;
  partitions: PartitionLag[];
}

/** How much work the pipeline still has, read in one pass. */
export interface Backlog {
  /** When the read started (epoch ms). */
  at: number;
  groups: GroupLag[];
  /** Sum of every group's lag. */
  lag: number;
  /** Topics the groups read that do not exist (yet): no records, no lag, no row in `groups`. A wrong topic prefix shows here. */
  missingTopics: string[];
  /** Lists the recommender still has to recompute (due or being computed), by priority. */
  pendingLists: Record<ListPriority, number>;
  /** Waiting, delayed and running jobs per BullMQ queue that feeds the pipeline. */
  jobs: Record<string, number>;
  /** Nothing left anywhere: no lag, no pending list of either priority, no job. */
  caughtUp: boolean;
  /**
   * Every event has been read by every group and every list an event asked for directly (high
   * priority) is published; background refreshes (behaviour-vector waves, neighbour fan-out,
   * each merged over seconds on purpose) and jobs may still be running.
   */
  directWorkDone: boolean;
}

/**
 * "Caught up" for the whole pipeline: every committing consumer group has handled every record
 * of every topic it reads, and the recommender has no list left to recompute (and, optionally,
 * no pipeline job waits or runs). One definition for the demo, the tests and the benchmarks.
 *
 * The reads are ordered so that a caught-up answer is never premature: committed offsets first,
 * then the pipeline jobs, then log end offsets, then the recommender's queue. Each worker commits
 * only after its effect (records produced downstream, triggers or a job queued) is durable, and a
 * job produces its records before it completes, so whatever a commit or a finished job seen in an
 * earlier read caused is already visible in the later ones. Records produced after the call are
 * the caller's business: call it once your own writes were acknowledged.
 */
export class PipelineBacklog {
  private readonly keys: KeySpace;
  private readonly topicPrefix: string;
  private readonly services: readonly CommittingService[];
  private readonly jobQueues: Queue[];

  constructor(private readonly o: BacklogOptions) {
    this.topicPrefix = o.topicPrefix ?? '';
    this.keys = new KeySpace(o.redisPrefix ?? 'affinity');
    this.services = o.services ?? (Object.keys(COMMITTING_GROUPS) as CommittingService[]);
    for (const s of this.services) if (!(s in COMMITTING_GROUPS)) throw new RangeError(`services: "${s}" is not one of ${Object.keys(COMMITTING_GROUPS).join(', ')}`);
    // BullMQ reads counts through the caller's connection; a Queue that was given a connection does not close it.
    this.jobQueues = (o.jobs ?? true) ? PIPELINE_JOB_QUEUES.map((name) => new Queue(name, { connection: o.redis, prefix: this.keys.key('bull') })) : [];
  }

  /** The group id of a service's consumer group. */
  groupId(service: CommittingService): string {
    return `${this.topicPrefix}affinity-${service}`;
  }

  /**
   * Reads the backlog once. A transient broker answer (a partition whose leader is moving or not
   * elected yet, e.g. right after the topics were created) is retried a few times, from the first
   * step so the order above holds; other errors are thrown.
   */
  async read(): Promise<Backlog> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.readOnce();
      } catch (err) {
        if (attempt >= READ_ATTEMPTS || !isRetriable(err)) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  private async readOnce(): Promise<Backlog> {
    const at = Date.now();
    const all = this.services.map((service) => ({ service, group: this.groupId(service), topics: COMMITTING_GROUPS[service].map((id) => topicName(id, { prefix: this.topicPrefix })) }));
    // 0. Which of the topics exist: a topic nobody created yet holds no record, so no lag (kafkajs
    // would retry a missing topic for minutes). The services create every topic when they start.
    const existing = await this.existingTopics(all.flatMap((w) => w.topics));
    const wanted = all.map((w) => ({ ...w, topics: w.topics.filter((t) => existing.has(t)) }));
    // 1. Committed offsets (before the end offsets: see the class comment).
    const committed = await Promise.all(wanted.map((w) => (w.topics.length === 0 ? Promise.resolve([]) : this.o.admin.fetchOffsets({ groupId: w.group, topics: w.topics }))));
    // A topic created since step 0 may hold records whose commits upstream step 1 saw: read again.
    if ([...(await this.existingTopics(all.flatMap((w) => w.topics)))].some((t) => !existing.has(t))) throw new TopicsAppeared();
    // 2. Pipeline jobs: after the commits (the graph queues a recompute before it commits), before
    // the end offsets (a job produces its records before it completes).
    const jobs: Record<string, number> = {};
    for (const q of this.jobQueues) {
      const counts = await q.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'waiting-children');
      jobs[q.name] = Object.values(counts).reduce((a, b) => a + b, 0);
    }
    // 3. Log end offsets and the earliest retained offsets.
    const topics = [...existing];
    const ends = new Map(await Promise.all(topics.map(async (t) => [t, await this.o.admin.fetchTopicOffsets(t)] as const)));
    // 4. The recommender's queue (a consumer queues lists before it commits).
    const sizes = await Promise.all(LIST_PRIORITIES.map((p) => this.o.redis.zcard(pendingListsKey(this.keys, p))));
    const pendingLists = Object.fromEntries(LIST_PRIORITIES.map((p, i) => [p, sizes[i]!])) as Record<ListPriority, number>;

    const groups: GroupLag[] = [];
    wanted.forEach((w, i) => {
      for (const topic of w.topics) {
        const mine = new Map((committed[i]!.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [p.partition, p.offset]));
        const partitions = ends.get(topic)!.map((e): PartitionLag => {
          const c = mine.get(e.partition);
          const has = c !== undefined && Number(c) >= 0;
          // Without a commit, or with one older than the earliest retained record, the group reads
          // from the earliest retained record (every worker subscribes from the beginning).
          const from = has && BigInt(c) > BigInt(e.low) ? BigInt(c) : BigInt(e.low);
          return { partition: e.partition, committed: has ? c : null, end: e.high, lag: Math.max(0, Number(BigInt(e.high) - from)) };
        });
        groups.push({ service: w.service, group: w.group, topic, lag: partitions.reduce((a, p) => a + p.lag, 0), partitions: partitions.sort((a, b) => a.partition - b.partition) });
      }
    });
    const lag = groups.reduce((a, g) => a + g.lag, 0);
    const jobCount = Object.values(jobs).reduce((a, b) => a + b, 0);
    const directWorkDone = lag === 0 && pendingLists.high === 0;
    const missingTopics = [...new Set(all.flatMap((w) => w.topics))].filter((t) => !existing.has(t));
    return { at, groups, lag, missingTopics, pendingLists, jobs, caughtUp: directWorkDone && pendingLists.low === 0 && jobCount === 0, directWorkDone };
  }

  /**
   * Resolves with the backlog once `stableReads` reads in a row found the pipeline caught up (or,
   * with `until: 'directWorkDone'`, done with direct work); throws after `timeoutMs`, saying what
   * was left.
   */
  async waitUntilCaughtUp(options: WaitOptions = {}): Promise<Backlog> {
    const timeoutMs = options.timeoutMs ?? 600_000;
    const pollMs = options.pollMs ?? 250;
    const stableReads = options.stableReads ?? 2;
    const until = options.until ?? 'caughtUp';
    const deadline = Date.now() + timeoutMs;
    let calm = 0;
    for (;;) {
      const b = await this.read();
      options.onRead?.(b);
      calm = b[until] ? calm + 1 : 0;
      if (calm >= stableReads) return b;
      if (Date.now() > deadline) throw new Error(`the pipeline did not catch up within ${timeoutMs} ms: ${describeBacklog(b)}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private async existingTopics(names: readonly string[]): Promise<Set<string>> {
    const listed = new Set(await this.o.admin.listTopics());
    return new Set(names.filter((t) => listed.has(t)));
  }

  /** Releases the BullMQ queue objects (not the caller's connections). */
  async close(): Promise<void> {
    await Promise.all(this.jobQueues.map((q) => q.close()));
  }
}

export interface WaitOptions {
  /** Give up after this many milliseconds. @defaultValue 600000 */
  timeoutMs?: number;
  /** Milliseconds between reads. @defaultValue 250 */
  pollMs?: number;
  /** Consecutive caught-up reads needed. @defaultValue 2 */
  stableReads?: number;
  /** What to wait for. @defaultValue 'caughtUp' */
  until?: 'caughtUp' | 'directWorkDone';
  /** Every read, e.g. to record lag over time. */
  onRead?: (b: Backlog) => void;
}

/** One line: `caught up` or what is left, e.g. `lag recommender/interactions.v1 120, graph/interactions.v1 3; lists pending high 4, low 310`. */
export function describeBacklog(b: Backlog): string {
  if (b.caughtUp) return 'caught up';
  const parts: string[] = [];
  const lagging = b.groups.filter((g) => g.lag > 0).map((g) => `${g.service}/${g.topic} ${g.lag}`);
  if (lagging.length > 0) parts.push(`lag ${lagging.join(', ')}`);
  if (b.pendingLists.high + b.pendingLists.low > 0) parts.push(`lists pending high ${b.pendingLists.high}, low ${b.pendingLists.low}`);
  const jobs = Object.entries(b.jobs).filter(([, n]) => n > 0);
  if (jobs.length > 0) parts.push(`jobs ${jobs.map(([q, n]) => `${q} ${n}`).join(', ')}`);
  return parts.join('; ');
}
