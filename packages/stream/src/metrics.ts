import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Registry } from 'prom-client';

/**
 * The metrics every consumer reports (docs/style.md "Observability is part of the contract";
 * the list with meanings: docs/operations.md "Health and metrics"). One instance per process
 * registry; labels: `group`, `topic`, and `partition` for lag.
 */
export class StreamMetrics {
  readonly registry: Registry;
  readonly processed: Counter<'group' | 'topic'>;
  readonly failed: Counter<'group' | 'topic' | 'code'>;
  readonly dlq: Counter<'group' | 'topic' | 'code'>;
  readonly dlqFailed: Counter<'group' | 'topic' | 'code'>;
  readonly stalls: Counter<'group' | 'topic' | 'reason'>;
  readonly stalledPartitions: Gauge<'group'>;
  readonly retries: Counter<'group' | 'topic' | 'code'>;
  readonly batchDuration: Histogram<'group' | 'topic'>;
  readonly batchSize: Histogram<'group' | 'topic'>;
  readonly lag: Gauge<'group' | 'topic' | 'partition'>;
  readonly membershipLost: Counter<'group'>;
  /** The kafkajs consumer crashed on a broker outage and was started again. */
  readonly consumerRestarts: Counter<'group'>;
  readonly eventLatency: Histogram<'stage'>;
  readonly produced: Counter<'topic'>;

  constructor(registry: Registry = new Registry(), options: { defaultMetrics?: boolean } = {}) {
    this.registry = registry;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'affinity_' });
    const registers = [registry];
    this.processed = new Counter({ name: 'affinity_consumer_processed_total', help: 'Events handled successfully', labelNames: ['group', 'topic'], registers });
    this.failed = new Counter({ name: 'affinity_consumer_failed_total', help: 'Handler failures (each attempt)', labelNames: ['group', 'topic', 'code'], registers });
    this.dlq = new Counter({ name: 'affinity_consumer_dlq_total', help: 'Messages sent to the DLQ', labelNames: ['group', 'topic', 'code'], registers });
    this.dlqFailed = new Counter({
      name: 'affinity_consumer_dlq_failed_total',
      help: 'Rejected messages the DLQ refused even as a minimal record; skipped (they stay at their source offset)',
      labelNames: ['group', 'topic', 'code'],
      registers,
    });
    this.stalls = new Counter({
      name: 'affinity_consumer_stalled_total',
      help: 'Times a partition made no progress for the stall timeout, by what it waited on (handler, dependency_unavailable, dlq, commit)',
      labelNames: ['group', 'topic', 'reason'],
      registers,
    });
    this.stalledPartitions = new Gauge({ name: 'affinity_consumer_stalled_partitions', help: 'Partitions currently making no progress', labelNames: ['group'], registers });
    this.consumerRestarts = new Counter({ name: 'affinity_consumer_restarts_total', help: 'Consumer restarts after a broker outage crashed it (it rejoins and resumes from committed offsets)', labelNames: ['group'], registers });
    this.retries = new Counter({ name: 'affinity_consumer_retries_total', help: 'Batch retries after a retriable failure', labelNames: ['group', 'topic', 'code'], registers });
    this.batchDuration = new Histogram({
      name: 'affinity_consumer_batch_duration_seconds',
      help: 'Time from receiving a batch to committing its offsets',
      labelNames: ['group', 'topic'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.batchSize = new Histogram({ name: 'affinity_consumer_batch_size', help: 'Messages per handled batch', labelNames: ['group', 'topic'], buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 5000], registers });
    this.lag = new Gauge({ name: 'affinity_consumer_lag', help: 'High watermark minus next offset to process', labelNames: ['group', 'topic', 'partition'], registers });
    this.membershipLost = new Counter({
      name: 'affinity_consumer_membership_lost_total',
      help: 'Batches abandoned because the group evicted this member or rebalanced under it (the consumer rejoins)',
      labelNames: ['group'],
      registers,
    });
    this.eventLatency = new Histogram({
      name: 'affinity_event_latency_seconds',
      help: 'Event timestamp to output, per pipeline stage',
      labelNames: ['stage'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    });
    this.produced = new Counter({ name: 'affinity_producer_sent_total', help: 'Messages produced', labelNames: ['topic'], registers });
  }
}
