import { resolve } from 'node:path';
import type { ProcessSpec } from './supervisor';

/** The repository's root: services are started from there (`services/<name>/src/main.ts`). */
export const REPOSITORY_ROOT = resolve(import.meta.dirname, '../../..');

/**
 * Every Affinity service, in start order: the workers before the API that reads what they
 * produce. A supervisor stops them in the reverse order: the API first, so no request arrives
 * while the workers drain.
 */
export const AFFINITY_SERVICES = ['enricher', 'indexer', 'graph', 'recommender', 'jobs', 'api'] as const;
export type AffinityService = (typeof AFFINITY_SERVICES)[number];

/** Each service's `HTTP_PORT` default (its config.ts), as in docker-compose.yml. */
export const DEFAULT_PORTS: Readonly<Record<AffinityService, number>> = { api: 8080, enricher: 8081, indexer: 8082, recommender: 8083, graph: 8084, jobs: 8085 };

export function isAffinityService(name: string): name is AffinityService {
  return (AFFINITY_SERVICES as readonly string[]).includes(name);
}

export interface AffinityProcessesOptions {
  /** Which services; started in `AFFINITY_SERVICES` order whatever the order here. @defaultValue all */
  services?: readonly AffinityService[];
  /** Environment for every service (on top of the caller's own). */
  env?: Readonly<Record<string, string>>;
  /** Environment for one service, over `env`. */
  serviceEnv?: Partial<Record<AffinityService, Readonly<Record<string, string>>>>;
  /** `HTTP_PORT` per service. @defaultValue DEFAULT_PORTS */
  ports?: Partial<Record<AffinityService, number>>;
}

/**
 * The process specs of Affinity's services: `HTTP_PORT` set, `INSTANCE_ID=<service>-1` (stable
 * across restarts, so a restarted graph leader takes its own lease back at once and an indexer
 * re-claims its shards under the same name), readiness on `/readyz`.
 */
export function affinityProcesses(options: AffinityProcessesOptions = {}): ProcessSpec[] {
  const wanted = new Set(options.services ?? AFFINITY_SERVICES);
  return AFFINITY_SERVICES.filter((name) => wanted.has(name)).map((name) => {
    const port = options.ports?.[name] ?? DEFAULT_PORTS[name];
    const env: Record<string, string> = { INSTANCE_ID: `${name}-1`, ...options.env, ...options.serviceEnv?.[name], HTTP_PORT: String(port) };
    return { name, entry: `services/${name}/src/main.ts`, env, readyUrl: `http://${probeHost(env.HTTP_HOST ?? process.env.HTTP_HOST)}:${port}/readyz` };
  });
}

/** Where a service listening on HTTP_HOST answers on this machine: loopback for the default and for a wildcard. */
export function probeHost(httpHost: string | undefined): string {
  if (!httpHost || httpHost === '0.0.0.0' || httpHost === '::') return '127.0.0.1';
  return httpHost.includes(':') ? `[${httpHost}]` : httpHost;
}
