import { commonEnv, env, parseEnv, redisEnv } from '@affinity/stream';
import { z } from 'zod';

export const indexerEnv = {
  ...commonEnv,
  ...redisEnv,
  HTTP_PORT: env.int(8082, 0, 65535, 'the port for /knn, /shards, /healthz, /readyz and /metrics'),
  INDEX_DIR: env.string('.affinity/index', 'a directory all indexer instances can read and write (a shared volume in Kubernetes): snapshots must be readable by whichever instance takes a partition over'),
  INDEX_ADVERTISE_URL: env.optionalString('the base URL other services reach this instance on, e.g. http://indexer-0.indexer:8082 (default: http://HTTP_HOST:HTTP_PORT, with 127.0.0.1 for a wildcard HTTP_HOST)'),
  INDEX_REGISTRY_TTL_MS: env.int(10_000, 1000, 300_000, 'milliseconds a silent instance keeps its shards in the registry'),
  INDEX_SNAPSHOT_INTERVAL_MS: env.int(60_000, 1000, 86_400_000, 'milliseconds between snapshots of a shard that changed; keep it well below delete.retention.ms of products.enriched.v1 (1 day)'),
  INDEX_MODELS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0))
    .describe('comma-separated embedding model ids to index (empty = every model seen)'),
  INDEX_M: env.int(16, 4, 64, 'HNSW links per node (memory vs recall)'),
  INDEX_EF_CONSTRUCTION: env.int(200, 16, 2000, 'HNSW build candidate list size'),
  INDEX_EF: env.int(64, 8, 4096, 'HNSW default search candidate list size'),
  INDEX_QUANTIZATION: env.enum(['none', 'int8'], 'none', 'none or int8 (int8 traversal with exact re-ranking)'),
  INDEX_PARTITIONS_CONCURRENTLY: env.int(2, 1, 64, 'partitions handled in parallel by one instance'),
};

export type IndexerConfig = ReturnType<typeof loadIndexerConfig>;

export function loadIndexerConfig(source: NodeJS.ProcessEnv = process.env) {
  return parseEnv(indexerEnv, source);
}
