import { type AffinityService, type RestartPolicy, Supervisor, affinityProcesses } from '@affinity/supervisor';
import { ROOT, freePort } from './processes';

/** What the suites start by default: every service but `jobs`, which no end-to-end scenario uses. */
export const SERVICES = ['enricher', 'indexer', 'graph', 'recommender', 'api'] as const satisfies readonly AffinityService[];
export type ServiceName = AffinityService;

export interface PipelineOptions {
  brokers: string[];
  redisUrl: string;
  /** Topic/group prefix (unique per test). */
  topicPrefix: string;
  /** Redis key prefix (the registry namespace derives from it). */
  redisPrefix: string;
  logDir: string;
  indexDir: string;
  /** Per-service extra environment. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Fixed ports; free ones otherwise. */
  ports?: Partial<Record<ServiceName, number>>;
  /** Restart a service that exits, as `./dev run` does (a drill of a worker that gives up to be restarted). @defaultValue false */
  restart?: Partial<RestartPolicy> | false;
}

/** A service's exit the pipeline saw (not those of `stop()`). */
export interface ServiceExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Affinity's services as separate processes under the product's `Supervisor` (the one behind
 * `./dev run`), wired to one Kafka, one Redis and one prefix. Restarts are off unless asked
 * for: a test must see a service that died, not a restarted one.
 */
export class Pipeline {
  readonly ports = new Map<ServiceName, number>();
  /** Every exit of a service other than by `stop()`, in order. */
  readonly exits: ServiceExit[] = [];
  private supervisor?: Supervisor;

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
    for (const name of only) this.ports.set(name, this.options.ports?.[name] ?? (await freePort()));
    this.supervisor = new Supervisor({
      processes: affinityProcesses({ services: only, env: this.baseEnv(), serviceEnv: this.options.env, ports: Object.fromEntries(this.ports) }),
      logDir: this.options.logDir,
      cwd: ROOT,
      restart: this.options.restart ?? false,
      onEvent: (e) => {
        if (e.type === 'exited') this.exits.push({ name: e.name, code: e.code, signal: e.signal });
      },
    });
    this.supervisor.start();
  }

  /** Waits until every started service answers /readyz with 200. */
  async waitReady(timeoutMs = 180_000): Promise<void> {
    await this.supervisor?.waitReady(timeoutMs);
  }

  /** The pid of the service running now under that name; undefined while it is down. */
  pid(name: ServiceName): number | undefined {
    return this.supervisor?.pid(name);
  }

  /** How often the supervisor restarted the service. */
  restarts(name: ServiceName): number {
    return this.supervisor?.restarts(name) ?? 0;
  }

  /** Stops the services, the API first and then the workers it reads from; each one's exit code. */
  async stop(): Promise<Record<string, number | null>> {
    return (await this.supervisor?.stop()) ?? {};
  }
}

export { ROOT };
