import { type AffinityError, type Decoder, ValidationError, classifyError } from '@affinity/contracts';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { DlqPublisher, type RejectedMessage } from './dlq-publisher';
import type { EventProducer } from './event-producer';
import { headersToStrings } from './internal/headers';
import { sleep } from './internal/sleep';
import { StreamMetrics } from './metrics';
import type { Component } from './service-group';
import { type RetryPolicy, type RetryPolicyOptions, backoffDelay, compileRetryPolicy } from './retry-policy';

/** A decoded, validated event with where it came from. */
export interface ConsumedEvent<T> {
  value: T;
  key: string | null;
  topic: string;
  partition: number;
  /** int64 as a decimal string. */
  offset: string;
  /** Record timestamp, epoch ms. */
  timestamp: number;
  headers: Record<string, string>;
}

/** One input topic and how to read it. */
export interface InputSpec<T> {
  topic: string;
  decode: Decoder<T>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Inputs = Record<string, InputSpec<any>>;

type DecodedOf<S> = S extends InputSpec<infer T> ? T : never;

/** What a handler receives: events of one partition of one input, in offset order. */
export type ConsumedBatch<I extends Inputs> = {
  [K in keyof I & string]: {
    input: K;
    topic: string;
    partition: number;
    events: ConsumedEvent<DecodedOf<I[K]>>[];
    /** Offset of the last record of the chunk, valid or not: resume after it once the effect is durable. */
    lastOffset: string;
  };
}[keyof I & string];

export interface BatchContext {
  /** Keep the group membership alive during long work. */
  heartbeat(): Promise<void>;
  /** Aborted when the consumer stops or the partition was reassigned. */
  signal: AbortSignal;
  logger: Logger;
  metrics: StreamMetrics;
}

/**
 * Handles a batch. Must be idempotent (events may be redelivered after a crash) and must
 * resolve only once its effect is durable: offsets are committed right after.
 * Throw an `UnavailableError` when a dependency is down (retried without bound), a
 * `ValidationError` or any non-retriable error to send the events to the DLQ.
 */
export type BatchHandler<I extends Inputs> = (batch: ConsumedBatch<I>, ctx: BatchContext) => Promise<void>;

export interface PartitionAssignment {
  topic: string;
  partitions: number[];
}

/** Where to resume a partition, e.g. the offset a restored snapshot reflects. */
export interface SeekRequest {
  topic: string;
  partition: number;
  offset: string;
}

export interface BatchConsumerOptions<I extends Inputs> {
  kafka: Kafka;
  /** Consumer group; instances of one worker type share it. */
  groupId: string;
  inputs: I;
  handler: BatchHandler<I>;
  /** Used for the DLQ. */
  producer: EventProducer;
  logger: Logger;
  metrics?: StreamMetrics;
  retry?: RetryPolicyOptions;
  /** Largest number of events per handler call. @defaultValue 500 */
  maxBatchSize?: number;
  /** Partitions handled in parallel by this instance. @defaultValue 1 */
  partitionsConsumedConcurrently?: number;
  /** Where a brand-new group starts. Every accepted event matters, so the default is the beginning. @defaultValue true */
  fromBeginning?: boolean;
  /** @defaultValue 30000 */
  sessionTimeoutMs?: number;
  /** @defaultValue 3000 */
  heartbeatIntervalMs?: number;
  /** How long the broker may hold a fetch waiting for data; bounds idle-to-first-event latency. @defaultValue 100 */
  maxWaitTimeMs?: number;
  /** Backoff ceiling while a dependency is unavailable (retried without bound). @defaultValue 5000 */
  unavailableMaxDelayMs?: number;
  /**
   * A partition whose batch has made no progress (no chunk committed, no event handled or sent
   * to the DLQ) for this long is stalled: the consumer reports not ready, and not healthy unless
   * a dependency outage explains it, and counts it in `affinity_consumer_stalled_total`.
   * Keep it above the slowest legitimate handler call. @defaultValue 120000
   */
  stallTimeoutMs?: number;
  /**
   * Called after every group join with the partitions this instance now owns. No batch is
   * handled until it resolves; the seeks it returns replace the committed offsets. Stateful
   * workers restore a snapshot here and resume from the offset the snapshot reflects, so
   * in-memory state never misses the events between snapshot and last commit.
   */
  onAssignment?: (assigned: PartitionAssignment[]) => Promise<SeekRequest[] | void> | SeekRequest[] | void;
}

export type ConsumerState = 'idle' | 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

type Outcome = { kind: 'ok' } | { kind: 'aborted' } | { kind: 'failed'; error: AffinityError; attempts: number };

/**
 * What a partition's batch is waiting on: its handler (running or backing off between
 * retries), a dependency outage (waited out without bound), the DLQ, or the offset commit.
 */
export type StallReason = 'handler' | 'dependency_unavailable' | 'dlq' | 'commit';

type DlqOutcome = { kind: 'ok' } | { kind: 'aborted' } | { kind: 'refused'; error: AffinityError };

interface PartitionRun {
  topic: string;
  partition: number;
  /** Date.now() of the last progress: the batch arrived, a chunk was committed, an event handled or dead-lettered. */
  progressAt: number;
  phase: StallReason;
  /**
   * Date.now() when a handler call began that retries after a dependency outage; undefined
   * otherwise. Such a call counts as waiting on the outage (a client may take seconds to report
   * that its server is still down) until it has run for stallTimeoutMs: then it hangs.
   */
  outageRetrySince: number | undefined;
  /** The reason last reported while stalled; undefined while the partition moves. */
  stalled: StallReason | undefined;
  payload: EachBatchPayload;
  signal: AbortSignal;
  aborted(): boolean;
  /** Heartbeat that records a lost group membership (and abandons the run) instead of throwing. */
  beat(): Promise<void>;
  /** The membership error seen during this run, rethrown to kafkajs so it rejoins at once. */
  lost: Error | undefined;
}

/** Tries of the assignment hook on transient errors (backoff 0.25 s doubling to 5 s: ~20 s in all). */
const ASSIGNMENT_ATTEMPTS = 8;

const MEMBERSHIP_ERRORS = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'FENCED_INSTANCE_ID']);

/**
 * The group no longer counts us as the owner of this batch's partition (evicted after a
 * missed session, or a rebalance is under way). Retrying the commit cannot help; kafkajs
 * rejoins only when such an error reaches its runner, so it must be rethrown, not swallowed.
 */
function isMembershipError(err: unknown): err is Error {
  return err instanceof Error && MEMBERSHIP_ERRORS.has((err as { type?: unknown }).type as string);
}

/**
 * Whether a consumer that crashed with this error should start again: an outage of the broker
 * (a restart, a failover) is waited out, as every dependency outage is. kafkajs gives up on some
 * (its retries exhausted while the broker restarts, "Failed to find group coordinator" wrapped as
 * non-retriable), so the cause chain is read: anything `classifyError` calls UNAVAILABLE, or a
 * group coordinator that cannot be found yet.
 */
export function isBrokerOutage(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; depth++) {
    if (e.name === 'KafkaJSGroupCoordinatorNotFound' || classifyError(e).code === 'UNAVAILABLE') return true;
    const next = (e as { cause?: unknown }).cause;
    if (next === e) break;
    e = next;
  }
  return false;
}

/**
 * The consumer every Affinity worker runs (docs/architecture.md "packages/stream").
 *
 * Per partition batch: decode and validate each record; invalid ones go to `<topic>.dlq`
 * with the reason and source offset; valid ones reach the handler in chunks of
 * `maxBatchSize`; offsets are committed only after the handler resolved (at-least-once,
 * with idempotent handlers making it effectively exactly-once). A failing chunk is
 * retried with backoff, then split so one poison event cannot hold back its neighbours;
 * what still fails goes to the DLQ. No handler error ever reaches kafkajs, which would
 * restart the consumer and re-run the batch forever.
 */
export class BatchConsumer<I extends Inputs> {
  private readonly consumer: Consumer;
  private readonly opts: BatchConsumerOptions<I>;
  private readonly inputByTopic = new Map<string, { name: string; spec: InputSpec<unknown> }>();
  private readonly retry: RetryPolicy;
  private readonly unavailable: RetryPolicy;
  private readonly dlq: DlqPublisher;
  private readonly log: Logger;
  readonly metrics: StreamMetrics;
  private readonly stopController = new AbortController();
  /** Crashes kafkajs reported, and whether a restart after a broker outage is under way. */
  private crashes = 0;
  private restarting = false;
  private _state: ConsumerState = 'idle';
  private joined = false;
  private closing: Promise<void> | undefined;
  private removeListeners: (() => void)[] = [];
  private assignmentGate: Promise<void> = Promise.resolve();
  private assignmentGeneration = 0;
  private readonly heartbeatMs: number;
  private readonly stallTimeoutMs: number;
  private readonly runs = new Set<PartitionRun>();
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(options: BatchConsumerOptions<I>) {
    this.opts = options;
    this.retry = compileRetryPolicy(options.retry);
    this.unavailable = compileRetryPolicy({ maxAttempts: Number.MAX_SAFE_INTEGER, initialDelayMs: 200, maxDelayMs: options.unavailableMaxDelayMs ?? 5000 });
    this.metrics = options.metrics ?? new StreamMetrics(undefined, { defaultMetrics: false });
    this.log = options.logger.child({ component: 'batch-consumer', group: options.groupId });
    this.dlq = new DlqPublisher(options.producer, options.groupId);
    for (const [name, spec] of Object.entries(options.inputs)) {
      if (this.inputByTopic.has(spec.topic)) throw new RangeError(`topic ${spec.topic} appears twice in inputs`);
      this.inputByTopic.set(spec.topic, { name, spec });
    }
    if (this.inputByTopic.size === 0) throw new RangeError('BatchConsumer needs at least one input');
    this.heartbeatMs = options.heartbeatIntervalMs ?? 3000;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 120_000;
    if (!(this.stallTimeoutMs > 0)) throw new RangeError('stallTimeoutMs must be positive');
    const maxBatch = options.maxBatchSize ?? 500;
    if (!(maxBatch >= 1)) throw new RangeError('maxBatchSize must be at least 1');
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: this.heartbeatMs,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 100,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
  }

  get state(): ConsumerState {
    return this._state;
  }

  /** True once the group is joined and the consumer is running, and no partition is stalled (readiness). */
  get ready(): boolean {
    return this._state === 'running' && this.joined && ![...this.runs].some((r) => r.stalled !== undefined);
  }

  /**
   * False when the consumer failed for good, or a partition is stalled for a reason a restart
   * may cure (a handler that never returns, a DLQ or commit that keeps failing). A stall that a
   * dependency outage explains stays healthy: outages are waited out, and restarting would not help.
   */
  get healthy(): boolean {
    return this._state !== 'failed' && ![...this.runs].some((r) => r.stalled !== undefined && r.stalled !== 'dependency_unavailable');
  }

  /** This consumer as a part of a ServiceGroup: its health and readiness count for the service. */
  component(name = 'consumer'): Component {
    return { name, start: () => this.start(), close: () => this.close(), healthy: () => this.healthy, ready: () => this.ready };
  }

  async start(): Promise<void> {
    if (this._state !== 'idle') throw new Error(`BatchConsumer.start() called in state ${this._state}`);
    this._state = 'starting';
    const { events } = this.consumer;
    this.removeListeners.push(
      this.consumer.on(events.GROUP_JOIN, (e) => {
        this.joined = true;
        const assigned = Object.entries(e.payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }));
        this.log.info({ assigned }, 'joined group');
        const hook = this.opts.onAssignment;
        if (hook) this.assignmentGate = this.applyAssignment(hook, assigned);
      }),
      this.consumer.on(events.REBALANCING, () => {
        this.joined = false;
      }),
      this.consumer.on(events.CRASH, (e) => {
        this.joined = false;
        // kafkajs restarts itself after retriable errors; a broker outage it gave up on is ours to wait out.
        const outage = !e.payload.restart && this._state === 'running' && isBrokerOutage(e.payload.error);
        this.log.error({ err: e.payload.error, restart: e.payload.restart || outage }, 'consumer crashed');
        this.crashes++;
        if (e.payload.restart) this.metrics.consumerRestarts.inc({ group: this.opts.groupId });
        else if (outage) {
          if (!this.restarting) void this.restartAfterOutage();
        } else this._state = 'failed';
      }),
    );
    await this.consumer.connect();
    for (const spec of this.inputByTopic.values()) {
      await this.consumer.subscribe({ topic: spec.spec.topic, fromBeginning: this.opts.fromBeginning ?? true });
    }
    this.stallTimer = setInterval(() => this.checkStalls(), Math.max(50, Math.min(1000, this.stallTimeoutMs / 4)));
    this.stallTimer.unref();
    await this.runConsumer();
    this._state = 'running';
  }

  private runConsumer(): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /**
   * After kafkajs gave up during a broker outage (it has disconnected; the subscriptions stay):
   * connect and run again, backing off from 1 s to 30 s, until it works or the consumer closes.
   * The group then resumes from the committed offsets; until it joined, the consumer is not ready.
   */
  private async restartAfterOutage(): Promise<void> {
    this.restarting = true;
    try {
      for (let attempt = 0; this._state === 'running' && !this.stopController.signal.aborted; attempt++) {
        await sleep(Math.min(30_000, 1000 * 2 ** attempt), this.stopController.signal);
        if (this._state !== 'running' || this.stopController.signal.aborted) return;
        const crashes = this.crashes;
        try {
          await this.consumer.connect();
          await this.runConsumer();
          // kafkajs reports a failed join through a crash, not by rejecting run().
          if (this.crashes !== crashes) continue;
          this.metrics.consumerRestarts.inc({ group: this.opts.groupId });
          this.log.warn({ attempt: attempt + 1 }, 'consumer restarted after a broker outage');
          return;
        } catch (err) {
          this.log.warn({ err, attempt: attempt + 1 }, 'broker still unavailable; consumer restart will be retried');
          await this.consumer.disconnect().catch(() => undefined);
        }
      }
    } finally {
      this.restarting = false;
    }
  }

  /**
   * Stops fetching, lets the chunk in flight finish and commit, leaves the group and
   * disconnects. Idempotent: concurrent and repeated calls share one promise.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this._state === 'idle') {
        this._state = 'stopped';
        return;
      }
      this._state = 'draining';
      this.stopController.abort();
      clearInterval(this.stallTimer);
      try {
        await this.consumer.stop();
      } finally {
        await this.consumer.disconnect().catch((err: unknown) => this.log.warn({ err }, 'disconnect failed'));
        for (const remove of this.removeListeners) remove();
        this.removeListeners = [];
        this._state = 'stopped';
      }
    })();
    return this.closing;
  }

  private async applyAssignment(hook: NonNullable<BatchConsumerOptions<I>['onAssignment']>, assigned: PartitionAssignment[]): Promise<void> {
    const generation = ++this.assignmentGeneration;
    // A newer assignment took over (its own hook call decides), or we are stopping.
    const superseded = (): boolean => generation !== this.assignmentGeneration || this.stopController.signal.aborted;
    for (let attempt = 1; ; attempt++) {
      try {
        const seeks = (await hook(assigned)) ?? [];
        if (superseded()) return;
        for (const s of seeks) {
          this.log.info(s, 'resuming partition from restored state');
          this.consumer.seek(s);
        }
        return;
      } catch (err) {
        // Then this call's failure says nothing about the worker's state now.
        if (superseded()) {
          this.log.info({ err }, 'assignment hook failed after a newer assignment took over; ignored');
          return;
        }
        const error = classifyError(err);
        // Transient (a partition leader still being elected on a fresh broker, a Redis blip):
        // the hook is retried; it must therefore change nothing before its lookups succeed.
        if (error.retriable && attempt < ASSIGNMENT_ATTEMPTS) {
          this.log.warn({ err: error, attempt }, 'assignment hook failed; retrying');
          await sleep(Math.min(5000, 250 * 2 ** (attempt - 1)), this.stopController.signal);
          if (superseded()) return;
          continue;
        }
        // Without its state the worker would write wrong results: stop and let the orchestrator restart us.
        this.log.fatal({ err }, 'assignment hook failed');
        this._state = 'failed';
        this.stopController.abort();
        return;
      }
    }
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    // Fetching means the group assigned us partitions: a member again, even where kafkajs
    // rejoined after a broker restart without a GROUP_JOIN reaching us (seen in the restart drill,
    // where readiness then stayed red while every record was handled).
    this.joined = true;
    const input = this.inputByTopic.get(batch.topic);
    if (input === undefined || batch.messages.length === 0) return;
    await this.assignmentGate;
    // A seek from the hook makes batches fetched before it stale; kafkajs refetches.
    if (payload.isStale() || this._state === 'failed') return;
    const partitionAbort = new AbortController();
    const onStop = (): void => partitionAbort.abort();
    this.stopController.signal.addEventListener('abort', onStop, { once: true });
    const run: PartitionRun = {
      topic: batch.topic,
      partition: batch.partition,
      progressAt: Date.now(),
      phase: 'handler',
      outageRetrySince: undefined,
      stalled: undefined,
      payload,
      signal: partitionAbort.signal,
      aborted: () => !payload.isRunning() || payload.isStale() || partitionAbort.signal.aborted,
      lost: undefined,
      beat: async () => {
        try {
          await payload.heartbeat();
        } catch (err) {
          if (isMembershipError(err)) {
            run.lost ??= err;
            partitionAbort.abort();
          }
        }
      },
    };
    const labels = { group: this.opts.groupId, topic: batch.topic };
    const maxBatch = this.opts.maxBatchSize ?? 500;
    this.runs.add(run);
    try {
      for (let i = 0; i < batch.messages.length; i += maxBatch) {
        // Check before starting a chunk, never between handling a chunk and committing it:
        // close() must commit what was processed.
        if (run.aborted()) break;
        const started = performance.now();
        const chunk = batch.messages.slice(i, i + maxBatch);
        const done = await this.processChunk(input.name, batch.topic, batch.partition, chunk, run);
        if (!done) break;
        const last = chunk[chunk.length - 1]!;
        const next = (BigInt(last.offset) + 1n).toString();
        payload.resolveOffset(last.offset);
        run.phase = 'commit';
        const committed = await this.commit(batch.topic, batch.partition, next, run);
        if (committed) this.progressed(run);
        this.metrics.batchDuration.observe(labels, (performance.now() - started) / 1000);
        this.metrics.batchSize.observe(labels, chunk.length);
        this.metrics.lag.set({ ...labels, partition: String(batch.partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(next))));
        if (!committed) break;
        await run.beat();
      }
    } finally {
      this.runs.delete(run);
      if (run.stalled !== undefined) this.updateStalledGauge();
      this.stopController.signal.removeEventListener('abort', onStop);
    }
    if (run.lost !== undefined && this._state !== 'draining') {
      // Whatever was not committed is redone by the partition's next owner (handlers are idempotent).
      this.log.warn({ topic: batch.topic, partition: batch.partition, err: run.lost }, 'group membership lost; rejoining');
      this.metrics.membershipLost.inc({ group: this.opts.groupId });
      throw run.lost;
    }
  }

  /** Returns false when the work was abandoned (stopping or reassigned) and must not be committed. */
  private async processChunk(inputName: string, topic: string, partition: number, messages: KafkaMessage[], run: PartitionRun): Promise<boolean> {
    const input = this.inputByTopic.get(topic)!;
    const events: ConsumedEvent<unknown>[] = [];
    const sources: KafkaMessage[] = [];
    const rejected: RejectedMessage[] = [];
    for (const message of messages) {
      try {
        const value = input.spec.decode(message);
        events.push(toEvent(value, topic, partition, message));
        sources.push(message);
      } catch (raw) {
        const error = raw instanceof ValidationError ? raw : classifyError(raw);
        rejected.push({ topic, partition, message, error, attempts: 1 });
      }
    }
    if (rejected.length > 0 && !(await this.sendToDlq(rejected, run))) return false;
    if (events.length === 0) return true;

    const labels = { group: this.opts.groupId, topic };
    const lastOffset = messages[messages.length - 1]!.offset;
    const outcome = await this.runWithRetry(topic, events as never, inputName, partition, lastOffset, run);
    if (outcome.kind === 'aborted') return false;
    if (outcome.kind === 'ok') {
      this.metrics.processed.inc(labels, events.length);
      return true;
    }
    if (events.length === 1) {
      return this.sendToDlq([{ topic, partition, message: sources[0]!, error: outcome.error, attempts: outcome.attempts }], run);
    }
    // Isolate: one event at a time, in order, so a poison event cannot take its batch down with it.
    this.log.warn({ topic, partition, size: events.length, err: outcome.error }, 'batch failed; retrying events one by one');
    for (let i = 0; i < events.length; i++) {
      const single = await this.runWithRetry(topic, [events[i]!] as never, inputName, partition, i === events.length - 1 ? lastOffset : events[i]!.offset, run);
      if (single.kind === 'aborted') return false;
      if (single.kind === 'ok') {
        this.metrics.processed.inc(labels, 1);
        this.progressed(run);
        continue;
      }
      if (!(await this.sendToDlq([{ topic, partition, message: sources[i]!, error: single.error, attempts: single.attempts }], run))) return false;
    }
    return true;
  }

  private async runWithRetry(topic: string, events: ConsumedEvent<never>[], inputName: string, partition: number, lastOffset: string, run: PartitionRun): Promise<Outcome> {
    const labels = { group: this.opts.groupId, topic };
    const ctx: BatchContext = {
      heartbeat: () => run.payload.heartbeat(),
      signal: run.signal,
      logger: this.log,
      metrics: this.metrics,
    };
    let attempts = 0;
    let outages = 0;
    let lastWasOutage = false;
    for (;;) {
      if (run.aborted()) return { kind: 'aborted' };
      attempts++;
      run.phase = lastWasOutage ? 'dependency_unavailable' : 'handler';
      run.outageRetrySince = lastWasOutage ? Date.now() : undefined;
      // A slow handler must not cost the group membership: heartbeat in the background.
      const beat = setInterval(() => void run.beat(), this.heartbeatMs);
      try {
        await this.opts.handler({ input: inputName, topic, partition, events, lastOffset } as ConsumedBatch<I>, ctx);
        return { kind: 'ok' };
      } catch (raw) {
        run.outageRetrySince = undefined;
        const error = classifyError(raw);
        this.metrics.failed.inc({ ...labels, code: error.code });
        lastWasOutage = error.code === 'UNAVAILABLE';
        if (lastWasOutage) {
          // Not this event's fault: wait it out without spending the retry budget.
          attempts--;
          outages++;
          if (outages === 1 || outages % 10 === 0) this.log.warn({ topic, partition, err: error, outages }, 'dependency unavailable; retrying');
          run.phase = 'dependency_unavailable';
          await this.pause(backoffDelay(outages, this.unavailable), run);
          continue;
        }
        if (!error.retriable || attempts >= this.retry.maxAttempts) return { kind: 'failed', error, attempts };
        this.metrics.retries.inc({ ...labels, code: error.code });
        this.log.warn({ topic, partition, attempts, err: error }, 'handler failed; retrying');
        await this.pause(backoffDelay(attempts, this.retry), run);
      } finally {
        run.outageRetrySince = undefined;
        clearInterval(beat);
      }
    }
  }

  /**
   * Sends rejected messages to the DLQ; false when we stopped first. A write that a dependency
   * outage stops is retried without bound (a stall, reported by readiness). One that can never
   * succeed as it is (the broker refuses the record) is not retried forever: each message is
   * tried alone, then as a minimal record, and what still cannot be written is given up on —
   * logged with where the message is (topic/partition/offset) and its size and digest, counted
   * in `affinity_consumer_dlq_failed_total`, and skipped, so that one record cannot stop its
   * partition.
   */
  private async sendToDlq(rejected: RejectedMessage[], run: PartitionRun): Promise<boolean> {
    const all = await this.tryDlq(rejected, false, run);
    if (all.kind !== 'refused') return this.dlqDone(all, rejected, run);
    for (const r of rejected) {
      let one = rejected.length > 1 ? await this.tryDlq([r], false, run) : all;
      if (one.kind === 'refused') {
        this.log.warn({ topic: r.topic, partition: r.partition, offset: r.message.offset, err: one.error }, 'DLQ refused the record; writing a minimal one');
        one = await this.tryDlq([r], true, run);
      }
      if (one.kind === 'refused') {
        const { valueBytes, valueSha256 } = DlqPublisher.toRecord(r, this.opts.groupId, Date.now(), true);
        this.metrics.dlqFailed.inc({ group: this.opts.groupId, topic: r.topic, code: r.error.code });
        this.log.error(
          { topic: r.topic, partition: r.partition, offset: r.message.offset, valueBytes, valueSha256, code: r.error.code, reason: r.error.message.slice(0, 512), err: one.error },
          'DLQ refused even a minimal record; skipping the message (it stays at its offset in the source topic)',
        );
        this.progressed(run);
        continue;
      }
      if (!this.dlqDone(one, [r], run)) return false;
    }
    return true;
  }

  private dlqDone(outcome: { kind: 'ok' } | { kind: 'aborted' }, sent: RejectedMessage[], run: PartitionRun): boolean {
    if (outcome.kind === 'aborted') return false;
    for (const r of sent) {
      this.metrics.dlq.inc({ group: this.opts.groupId, topic: r.topic, code: r.error.code });
      this.log.warn({ topic: r.topic, partition: r.partition, offset: r.message.offset, code: r.error.code, reason: r.error.message.slice(0, 512) }, 'sent to DLQ');
    }
    this.progressed(run);
    return true;
  }

  /** One DLQ write, retried while a dependency is down (without bound) or a transient error lasts (the retry budget). */
  private async tryDlq(rejected: RejectedMessage[], minimal: boolean, run: PartitionRun): Promise<DlqOutcome> {
    for (let failures = 1; ; failures++) {
      run.phase = 'dlq';
      try {
        await this.dlq.publish(rejected, { minimal });
        return { kind: 'ok' };
      } catch (err) {
        const error = classifyError(err);
        const outage = error.code === 'UNAVAILABLE';
        if (!error.retriable || (!outage && failures >= this.retry.maxAttempts)) return { kind: 'refused', error };
        if (outage) run.phase = 'dependency_unavailable';
        this.log.error({ err: error, failures }, 'DLQ publish failed; retrying');
        await this.pause(backoffDelay(failures, this.unavailable), run);
        if (run.aborted()) return { kind: 'aborted' };
      }
    }
  }

  private progressed(run: PartitionRun): void {
    run.progressAt = Date.now();
    if (run.stalled !== undefined) {
      this.log.info({ topic: run.topic, partition: run.partition, was: run.stalled }, 'partition makes progress again');
      run.stalled = undefined;
      this.updateStalledGauge();
    }
  }

  /** Marks partitions without progress for stallTimeoutMs as stalled, counting each new reason once. */
  private checkStalls(): void {
    const now = Date.now();
    for (const run of this.runs) {
      const reason = run.outageRetrySince !== undefined && now - run.outageRetrySince >= this.stallTimeoutMs ? 'handler' : run.phase;
      if (now - run.progressAt < this.stallTimeoutMs || run.stalled === reason) continue;
      run.stalled = reason;
      this.metrics.stalls.inc({ group: this.opts.groupId, topic: run.topic, reason });
      this.log.error({ topic: run.topic, partition: run.partition, reason, noProgressMs: now - run.progressAt }, 'partition makes no progress');
    }
    this.updateStalledGauge();
  }

  private updateStalledGauge(): void {
    this.metrics.stalledPartitions.set({ group: this.opts.groupId }, [...this.runs].filter((r) => r.stalled !== undefined).length);
  }

  private async commit(topic: string, partition: number, offset: string, run: PartitionRun): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await run.payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset }] }] });
        return true;
      } catch (err) {
        // A rebalance or a broker outage. The effect is durable and idempotent: if we cannot
        // commit, the next owner redoes the work harmlessly.
        this.log.warn({ err, topic, partition, offset, attempt }, 'offset commit failed');
        if (isMembershipError(err)) {
          run.lost ??= err;
          return false;
        }
        if (attempt >= 5 || run.aborted()) return false;
        await this.pause(backoffDelay(attempt, this.retry), run);
      }
    }
  }

  /** Backoff that keeps the group membership alive and wakes up on stop. */
  private async pause(ms: number, run: PartitionRun): Promise<void> {
    const until = Date.now() + ms;
    while (!run.aborted()) {
      const left = until - Date.now();
      if (left <= 0) return;
      await sleep(Math.min(left, 1000), run.signal);
      await run.beat();
    }
  }
}

function toEvent<T>(value: T, topic: string, partition: number, m: KafkaMessage): ConsumedEvent<T> {
  return { value, key: m.key === null ? null : m.key.toString('utf8'), topic, partition, offset: m.offset, timestamp: Number(m.timestamp), headers: headersToStrings(m.headers) };
}
