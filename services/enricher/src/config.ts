import { commonEnv, env, parseEnv, redisEnv } from '@affinity/stream';

export const enricherEnv = {
  ...commonEnv,
  ...redisEnv,
  HTTP_PORT: env.int(8081, 0, 65535, 'the port for /healthz, /readyz and /metrics'),
  EMBEDDING_MODEL_ID: env.optionalString('a model id from packages/embeddings/src/models.json (default: its defaultModel); fetch it with packages/embeddings/scripts/fetch-model.sh <id>'),
  EMBEDDING_THREADS: env.int(0, 0, 64, 'onnxruntime intra-op threads (0 = one per core)'),
  EMBEDDING_CACHE_TTL_S: env.int(30 * 24 * 3600, 60, 365 * 24 * 3600, 'seconds an embedding (and the attributes extracted with it) stays cached by content hash'),
  ENRICHER_MAX_BATCH: env.int(256, 1, 5000, 'products per handler call'),
  ENRICHER_DESCRIPTION_CHARS: env.int(1000, 0, 8192, 'characters of the description included in the embedded text'),
  ATTRIBUTES_WORD_VECTORS: env.bool(true, 'true: the attribute tagger reads contextual word vectors of the embedding model (+0.01 F1 on OA-Mine, one extra model pass over each batch’s titles); false: it reads none (a saved vocabulary learned with them is then refused)'),
  ATTRIBUTES_VOCABULARY_PATH: env.optionalString('a vocabulary JSON written by `npx tsx packages/enrichment/src/learn-vocabulary-cli.ts --out <file>` (default: learned at start from data/oa-mine/train.jsonl: about 3 s, about 15 s with word vectors on 2 cores)'),
};

export function loadEnricherConfig(source: NodeJS.ProcessEnv = process.env) {
  return parseEnv(enricherEnv, source);
}
