import { commonEnv, env, parseEnv, redisEnv } from '@affinity/stream';

export const jobsEnv = {
  ...commonEnv,
  ...redisEnv,
  HTTP_PORT: env.int(8085, 0, 65535, 'the port for /healthz, /readyz and /metrics'),
  EMBEDDING_THREADS: env.int(0, 0, 64, 'onnxruntime intra-op threads for backfills (0 = one per core)'),
  ENRICHER_DESCRIPTION_CHARS: env.int(1000, 0, 8192, 'must equal the enricher’s, so both embed the same text'),
  EMBEDDING_CACHE_TTL_S: env.int(30 * 24 * 3600, 60, 365 * 24 * 3600, 'seconds an embedding (and the attributes extracted with it) stays cached by content hash'),
  ATTRIBUTES_WORD_VECTORS: env.bool(true, 'true: the attribute tagger reads contextual word vectors of the embedding model (+0.01 F1 on OA-Mine, one extra model pass over each batch’s titles); false: it reads none (a saved vocabulary learned with them is then refused)'),
  ATTRIBUTES_WORD_VECTOR_MODEL: env.optionalString('the model whose contextual word vectors the attribute tagger reads; set it to the enricher’s EMBEDDING_MODEL_ID so a backfill extracts what the live enricher does (default: the registry default model)'),
  ATTRIBUTES_VOCABULARY_PATH: env.optionalString('a vocabulary JSON written by `npx tsx packages/enrichment/src/learn-vocabulary-cli.ts --out <file>` (default: learned at start from data/oa-mine/train.jsonl: about 3 s, about 15 s with word vectors on 2 cores)'),
};

export function loadJobsConfig(source: NodeJS.ProcessEnv = process.env) {
  return parseEnv(jobsEnv, source);
}
