import { resolve } from 'node:path';
import { type ChildWorker, ROOT, freePort, spawnTs, stopChild } from './processes';

export const SERVICES = ['enricher', 'indexer', 'graph', 'recommender', 'api'] as const;
export type ServiceName = (typeof SERVICES)[number];

const ENTRY: Record<ServiceName, string> = {
  enricher: 'services/enricher/src/main.ts',
  indexer: 'services/indexer/src/main.ts',
  graph: 'services/graph/src/main.ts',
  recommender: 'services/recommender/src/main.ts',
  api: 'services/api/src/main.ts',
};

export interface PipelineOptions {
  brokers: string[];
  redisUrl: string;
  /** Topic/group prefix ('' in the demo; unique per test). */
  topicPrefix: string;
  /** Redis key prefix (the registry namespace derives from it). */
  redisPrefix: string;
  logDir: string;
  indexDir: string;
  /** Per-service extra environment. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Fixed ports (the demo); tests take free ones. */
  ports?: Partial<Record<ServiceName, number>>;
}

/** Every Affinity service as a separate process, wired to one Kafka, one Redis and one prefix. */
export class Pipeline {
  readonly ports = new Map<ServiceName, number>();
  readonly workers = new Map<ServiceName, ChildWorker>();

  constructor(readonly options: PipelineOptions) {}

  get apiUrl(): string {
    return `http://127.0.0.1:${this.ports.get('api')}`;
  }

  /** Environment shared by all services. */
  private baseEnv(): Record<string, string> {
    const o = this.options;
    return {
      KAFKA_BROKERS: o.brokers.join(','),
      REDIS_URL: o.redisUrl,
      AFFINITY_TOPIC_PREFIX: o.topicPrefix,
      REDIS_PREFIX: o.redisPrefix,
      INDEX_REGISTRY_NAMESPACE: `${o.redisPrefix}:index`,
      INDEX_DIR: o.indexDir,
      CONSUMER_SESSION_TIMEOUT_MS: '10000',
      LOG_LEVEL: 'info',
    };
  }

  async start(only: readonly ServiceName[] = SERVICES): Promise<void> {
    for (const name of only) {
      const port = this.options.ports?.[name] ?? (await freePort());
      this.ports.set(name, port);
      const env = { ...this.baseEnv(), HTTP_PORT: String(port), INSTANCE_ID: `${name}-1`, ...this.options.env?.[name] };
      this.workers.set(name, spawnTs(ENTRY[name], env, resolve(this.options.logDir, `${name}.log`)));
    }
  }

  /** Waits until every started service answers /readyz with 200. */
  async waitReady(timeoutMs = 180_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (const [name, port] of this.ports) {
      for (;;) {
        const w = this.workers.get(name)!;
        if (w.proc.exitCode !== null) throw new Error(`${name} exited with ${w.proc.exitCode}; see ${w.logFile}`);
        try {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
          if (res.ok) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > until) throw new Error(`${name} not ready after ${timeoutMs} ms; see ${w.logFile}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  async stop(): Promise<Record<string, number | null>> {
    const codes: Record<string, number | null> = {};
    // Reverse order: the API and recommender stop before the workers they read from.
    for (const name of [...this.workers.keys()].reverse()) codes[name] = await stopChild(this.workers.get(name)!);
    return codes;
  }
}

export { ROOT };
