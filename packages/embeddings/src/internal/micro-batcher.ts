import { RetriableError } from '@affinity/contracts';

export interface MicroBatcherConfig {
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueue: number;
}

interface Pending<I, O> {
  item: I;
  enqueuedAt: number;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces single submissions into batches for a worker that runs one batch at a time.
 * A batch leaves when it is full, or when its oldest item has waited `maxWaitMs`; while a
 * batch is running, newcomers queue up, so under load batches grow by themselves and the
 * wait adds nothing. A full queue rejects at once (backpressure) instead of growing memory.
 */
export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly config: MicroBatcherConfig,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  submit(item: I): Promise<O> {
    if (this.queue.length >= this.config.maxQueue) {
      return Promise.reject(new RetriableError(`embedding queue is full (${this.config.maxQueue} texts waiting)`, { context: { maxQueue: this.config.maxQueue } }));
    }
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, enqueuedAt: performance.now(), resolve, reject });
      this.schedule();
    });
  }

  /** Sends everything queued without waiting for `maxWaitMs`, and resolves once all of it is done. */
  async drain(): Promise<void> {
    this.schedule(true);
    while (this.running || this.queue.length > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      this.schedule(true);
    }
  }

  private schedule(force = false): void {
    if (this.running || this.queue.length === 0) return;
    const oldest = this.queue[0]?.enqueuedAt ?? 0;
    const waited = performance.now() - oldest;
    if (force || this.queue.length >= this.config.maxBatchSize || waited >= this.config.maxWaitMs) {
      this.clearTimer();
      this.dispatch();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, this.config.maxWaitMs - waited);
    }
  }

  private dispatch(): void {
    const batch = this.queue.splice(0, this.config.maxBatchSize);
    this.running = true;
    void this.execute(batch);
  }

  /** Never rejects: every outcome is delivered to the batch's own promises. */
  private async execute(batch: Pending<I, O>[]): Promise<void> {
    try {
      const results = await this.run(batch.map((p) => p.item));
      if (results.length !== batch.length) throw new Error(`batch of ${batch.length} produced ${results.length} results`);
      batch.forEach((p, i) => p.resolve(results[i] as O));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      this.schedule();
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
