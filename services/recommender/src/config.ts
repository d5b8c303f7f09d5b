import { commonEnv, env, parseEnv, redisEnv } from '@affinity/stream';
import { z } from 'zod';

export const recommenderEnv = {
  ...commonEnv,
  ...redisEnv,
  HTTP_PORT: env.int(8083, 0, 65535, 'the port for /healthz, /readyz and /metrics'),
  INDEX_SHARDS: env.int(6, 1, 1024, 'number of vector-index shards = partitions of products.enriched.v1'),
  INDEX_TIMEOUT_MS: env.int(1000, 50, 60_000, 'milliseconds to wait for an index shard'),
  RECS_RANKER_CONFIG: env.optionalString(
    'a ranker configuration JSON written by `./dev eval <log> --fit` (blend weights and relevance cut-offs fitted on a replay of your own log); default: the bundled configuration fitted on the development logs',
  ),
  RECS_K: env.int(20, 1, 200, 'items per list (overrides the ranker configuration’s k)'),
  RECS_MMR_LAMBDA: z.coerce.number().min(0).max(1).optional().describe('relevance vs diversity, 1 = no diversification (default: the ranker configuration’s, 1)'),
  RECS_LINEAR_INTERVAL_MS: env.int(600_000, 0, 86_400_000, 'milliseconds between refits of the linear item–item models (EASE^R over baskets and histories; one instance at a time); 0 disables them'),
  RECS_LINEAR_ITEMS: env.int(2000, 10, 10_000, 'items the linear models cover (the most supported); the refit inverts an n×n matrix, about 10 s of one core at 2,000'),
  RECS_HISTORY_WINDOW: env.int(20, 1, 200, 'distinct items of a shopper’s recent history each new item is paired with in the co-occurrence counts; every recommender instance must agree'),
  RECS_COALESCE_MS: env.int(100, 0, 60_000, 'milliseconds triggers for one list may wait to be merged into one recompute'),
  RECS_BEHAVIOUR_COALESCE_MS: env.int(5000, 0, 600_000, 'milliseconds behaviour-embedding triggers for one list may wait to be merged'),
  RECS_CONCURRENCY: env.int(4, 1, 64, 'lists computed at once by one instance'),
  RECS_NEIGHBOUR_FANOUT: env.int(3, 0, 50, 'similar lists of a new product’s nearest neighbours refreshed with it'),
  RECS_TRENDING_INTERVAL_MS: env.int(2000, 100, 3_600_000, 'milliseconds between trending list refreshes'),
  RECS_TRENDING_HALF_LIFE_MS: env.int(6 * 3600 * 1000, 60_000, 90 * 24 * 3600 * 1000, 'half-life of trending scores in milliseconds'),
  RECS_PARTITIONS_CONCURRENTLY: env.int(3, 1, 64, 'partitions handled in parallel by one instance'),
};

export function loadRecommenderConfig(source: NodeJS.ProcessEnv = process.env) {
  return parseEnv(recommenderEnv, source);
}
