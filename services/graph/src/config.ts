import { commonEnv, env, parseEnv, redisEnv } from '@affinity/stream';

export const graphEnv = {
  ...commonEnv,
  ...redisEnv,
  HTTP_PORT: env.int(8084, 0, 65535, 'the port for /healthz, /readyz and /metrics'),
  GRAPH_DIM: env.int(128, 8, 1024, 'FastRP embedding dimension'),
  GRAPH_HALF_LIFE_MS: env.int(14 * 24 * 3600 * 1000, 60_000, 3650 * 24 * 3600 * 1000, 'half-life of interaction weights in milliseconds'),
  GRAPH_EPSILON: env.number(0.01, 0, 1, 'cosine distance a vector must move before it is republished'),
  GRAPH_DRIFT_THRESHOLD: env.number(0.02, 0.0001, 10, 'estimated mean relative error that schedules a full recompute'),
  GRAPH_SNAPSHOT_INTERVAL_MS: env.int(60_000, 1000, 86_400_000, 'milliseconds between graph snapshots to Redis'),
  GRAPH_LEASE_TTL_MS: env.int(10_000, 1000, 300_000, 'milliseconds before a standby takes over from a silent leader'),
};

export function loadGraphConfig(source: NodeJS.ProcessEnv = process.env) {
  return parseEnv(graphEnv, source);
}
