import { commonEnv, env, parseEnv } from '@affinity/stream';

export const jobsEnv = {
  ...commonEnv,
  HTTP_PORT: env.int(8085, 0, 65535, 'the port for /healthz, /readyz and /metrics'),
  REDIS_URL: env.string('redis://127.0.0.1:6379', 'a redis:// URL, e.g. redis://redis:6379'),
  REDIS_PREFIX: env.string('affinity', 'the key prefix shared with the enricher (versions, embedding cache) and the job queues'),
  EMBEDDING_THREADS: env.int(0, 0, 64, 'onnxruntime intra-op threads for backfills (0 = one per core)'),
  ENRICHER_DESCRIPTION_CHARS: env.int(1000, 0, 8192, 'must equal the enricher’s, so both embed the same text'),
  EMBEDDING_CACHE_TTL_S: env.int(30 * 24 * 3600, 60, 365 * 24 * 3600, 'seconds an embedding stays cached by content hash'),
  ATTRIBUTES_VOCABULARY_PATH: env.optionalString('as for the enricher'),
};

export function loadJobsConfig(source: NodeJS.ProcessEnv = process.env) {
  return parseEnv(jobsEnv, source);
}
