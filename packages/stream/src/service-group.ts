import type { Logger } from 'pino';
import type { Service } from './run-service';

/** One part of a service: a consumer, a producer, a Redis client, an HTTP server... */
export interface Component {
  name: string;
  start?(): Promise<void>;
  close(): Promise<void> | void;
  healthy?(): boolean;
  ready?(): boolean;
}

/**
 * Starts components in order and closes them in reverse order (consumers before the
 * producers and clients they use), each close guarded so one failure does not leave the
 * rest open. `close()` is idempotent.
 */
export class ServiceGroup implements Service {
  private readonly started: Component[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly components: readonly Component[],
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    for (const c of this.components) {
      if (this.closing) return;
      await c.start?.();
      this.started.push(c);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const c of [...this.started].reverse()) {
        try {
          await c.close();
        } catch (err) {
          this.logger.error({ err, component: c.name }, 'close failed');
        }
      }
    })();
    return this.closing;
  }

  healthy(): boolean {
    return this.components.every((c) => c.healthy?.() ?? true);
  }

  ready(): boolean {
    return !this.closing && this.started.length === this.components.length && this.components.every((c) => c.ready?.() ?? true);
  }
}
