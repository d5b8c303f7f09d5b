import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { HealthServer, type HealthServerOptions, type Probe } from './health-server';
import type { MetricsExposure } from './http-exposure';

/** A long-running component with one lifecycle: start, then an idempotent close. */
export interface Service extends Probe {
  start(): Promise<void>;
  /** Drains work in flight, commits, disconnects in reverse order. Idempotent. */
  close(): Promise<void>;
}

export interface RunServiceOptions {
  name: string;
  logger: Logger;
  registry: Registry;
  /** Port of the health/metrics server; `false` when the service serves those itself (the API). */
  httpPort: number | false;
  /** The address the health/metrics server listens on (HTTP_HOST). @defaultValue 127.0.0.1 */
  httpHost?: string;
  /** Who may read /metrics (METRICS_ENABLED, METRICS_TOKEN). @defaultValue enabled, no token */
  metrics?: MetricsExposure;
  /** Drain budget after SIGTERM/SIGINT; then the process exits non-zero. */
  graceMs: number;
  /** Extra HTTP routes on the health port. */
  extraRoutes?: HealthServerOptions['extra'];
  /** Set false in tests that drive the service themselves. @defaultValue true */
  handleSignals?: boolean;
  /** Called with the bound port before the service starts (HTTP_PORT=0 picks a free one). */
  onListening?: (port: number) => void;
  /**
   * A started service that stays unhealthy this long (e.g. its consumer failed for good) shuts
   * down and the process exits 1, so whatever supervises it (Kubernetes, compose, the dev
   * scripts) restarts it instead of leaving a live process that does nothing. 0 disables;
   * only applies when the service owns the process (`handleSignals`). @defaultValue 15000
   */
  unhealthyExitMs?: number;
}

export interface RunningService {
  port: number;
  /** Resolves after shutdown completed (or timed out), with the exit code to use. */
  stopped: Promise<number>;
  shutdown(reason: string): Promise<number>;
}

/**
 * The one place that maps SIGTERM/SIGINT to `close()` (docs/style.md "One lifecycle"). A second
 * signal or an expired grace period exits at once; uncaught errors close what they can and exit 1.
 */
export async function runService(service: Service, options: RunServiceOptions): Promise<RunningService> {
  const log = options.logger;
  const health =
    options.httpPort === false
      ? undefined
      : new HealthServer({ port: options.httpPort, host: options.httpHost, metrics: options.metrics, registry: options.registry, probes: () => [service], extra: options.extraRoutes });
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((r) => (resolveStopped = r));
  let shuttingDown: Promise<number> | undefined;

  const shutdown = (reason: string, code = 0): Promise<number> => {
    shuttingDown ??= (async () => {
      log.info({ reason, graceMs: options.graceMs }, 'shutting down');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), options.graceMs)));
      let exit = code;
      try {
        const result = await Promise.race([service.close().then(() => 'closed' as const), timedOut]);
        if (result === 'timeout') {
          log.error({ graceMs: options.graceMs }, 'drain did not finish within the grace period');
          exit = 1;
        }
      } catch (err) {
        log.error({ err }, 'close failed');
        exit = 1;
      } finally {
        clearTimeout(timer);
        await health?.close().catch(() => undefined);
      }
      log.info({ exit }, 'stopped');
      resolveStopped(exit);
      return exit;
    })();
    return shuttingDown;
  };

  if (options.handleSignals ?? true) {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (shuttingDown) {
        log.warn({ signal }, 'second signal; exiting now');
        process.exit(1);
      }
      void shutdown(signal).then((code) => process.exit(code));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('uncaughtException', (err) => {
      log.fatal({ err }, 'uncaught exception');
      void shutdown('uncaughtException', 1).then((code) => process.exit(code));
    });
    process.on('unhandledRejection', (err) => {
      log.fatal({ err }, 'unhandled rejection');
      void shutdown('unhandledRejection', 1).then((code) => process.exit(code));
    });
  }

  const port = health ? await health.start() : 0;
  if (health) {
    log.info({ host: options.httpHost ?? '127.0.0.1', port }, 'health server listening');
    options.onListening?.(port);
  }
  try {
    await service.start();
  } catch (err) {
    log.fatal({ err }, 'start failed');
    await shutdown('start failed', 1);
    return { port, stopped, shutdown };
  }
  log.info({ name: options.name }, 'started');
  const unhealthyExitMs = options.unhealthyExitMs ?? 15_000;
  if ((options.handleSignals ?? true) && unhealthyExitMs > 0) {
    let since: number | undefined;
    const watchdog = setInterval(() => {
      if (shuttingDown) return clearInterval(watchdog);
      if (service.healthy()) {
        since = undefined;
        return;
      }
      since ??= Date.now();
      if (Date.now() - since < unhealthyExitMs) return;
      clearInterval(watchdog);
      log.fatal({ unhealthyMs: Date.now() - since }, 'unhealthy for too long; exiting so the supervisor restarts us');
      void shutdown('unhealthy', 1).then((code) => process.exit(code));
    }, Math.min(1000, unhealthyExitMs));
    watchdog.unref();
  }
  return { port, stopped, shutdown };
}
