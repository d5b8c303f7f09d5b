import { commonEnv, env, parseEnv, redisEnv } from '@affinity/stream';

export const jobsEnv = {
  ...commonEnv,
  ...redisEnv,
  HTTP_PORT: env.int(8085, 0, 65535, 'the port for /healthz, /readyz and /metrics'),
  EMBEDDING_THREADS: env.int(0, 0, 64, 'onnxruntime intra-op threads for backfills (0 = one per core)'),
  ENRICHER_DESCRIPTION_CHARS: env.int(1000, 0, 8192, 'must equal the enricher’s, so both embed the same text'),
  EMBEDDING_CACHE_TTL_S: env.int(30 * 24 * 3600, 60, 365 * 24 * 3600, 'seconds an embedding stays cached by content hash'),
  ATTRIBUTES_VOCABULARY_PATH: env.optionalString('a vocabulary JSON written by `npx tsx packages/enrichment/src/learn-vocabulary-cli.ts --out <file>` (default: learned at start from data/oa-mine/train.jsonl, a few seconds)'),
};

export function loadJobsConfig(source: NodeJS.ProcessEnv = process.env) {
  return parseEnv(jobsEnv, source);
}
