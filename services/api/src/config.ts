import { commonEnv, env, parseEnv, redisEnv } from '@affinity/stream';
import { z } from 'zod';

const keyList = (hint: string) =>
  env.secret(
    z
      .string()
      .default('')
      .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0))
      .pipe(z.array(z.string().min(16, 'API keys must be at least 16 characters')))
      .describe(hint),
  );

export const apiEnv = {
  ...commonEnv,
  ...redisEnv,
  HTTP_PORT: env.int(8080, 0, 65535, 'the port the API listens on'),
  INDEX_SHARDS: env.int(6, 1, 1024, 'number of vector-index shards = partitions of products.enriched.v1'),
  INDEX_TIMEOUT_MS: env.int(1000, 50, 60_000, 'milliseconds to wait for an index shard'),
  API_WRITE_KEYS: keyList('comma-separated keys allowed to POST events; empty disables write auth (development only)'),
  API_READ_KEYS: keyList('comma-separated keys allowed to read; empty disables read auth. Write keys can always read'),
  API_BODY_LIMIT_BYTES: env.int(1_048_576, 1024, 16_777_216, 'largest request body in bytes'),
  API_MAX_EVENTS_PER_REQUEST: env.int(500, 1, 10_000, 'events accepted in one POST'),
  API_RATE_LIMIT_PER_MINUTE: env.int(6000, 1, 10_000_000, 'requests per minute per API key (or client address without one)'),
  EMBEDDING_MODEL_ID: env.optionalString('the embedding model for /v1/search queries; must be the model the enricher uses (default: the registry default)'),
};

export function loadApiConfig(source: NodeJS.ProcessEnv = process.env) {
  return parseEnv(apiEnv, source);
}
