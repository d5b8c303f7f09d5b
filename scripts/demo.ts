/**
 * `./dev demo`: the whole pipeline on the sample data, end to end.
 * Starts every service as its own process under the supervisor of `./dev run` (logs in
 * .affinity/demo/logs; a service that dies is restarted), sends the UCI Online
 * Retail catalog and 1,500 real baskets through the HTTP API, waits until the pipeline has
 * caught up (every consumer group read everything, the recommender's queue is empty: the
 * `PipelineBacklog` of packages/client), prints lists with their reasons, a search, and live
 * event-to-list latencies.
 *   ./dev demo            run, print, stop the services (Kafka and Redis stay up)
 *   ./dev demo --keep     leave the services running (API on :8080) until Ctrl-C
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PipelineBacklog } from '@affinity/client';
import { RecommendationUpdate, newEventId, parseWith, type InteractionInput } from '@affinity/contracts';
import { uciProducts, uciPurchases } from '@affinity/sample-data';
import { createRedis } from '@affinity/store';
import { commonEnv, kafkaSecurity, kafkaSecurityEnv, parseEnv, redisConnection, redisEnv, redisSecurityEnv } from '@affinity/stream';
import { DEFAULT_PORTS, REPOSITORY_ROOT as ROOT, Supervisor, affinityProcesses } from '@affinity/supervisor';
import { Kafka, logLevel } from 'kafkajs';

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false }, baskets: { type: 'string', default: '1500' } } });
// The services' own settings (KAFKA_BROKERS, REDIS_URL and their TLS/credential variables).
const config = parseEnv({ KAFKA_BROKERS: commonEnv.KAFKA_BROKERS, ...kafkaSecurityEnv, REDIS_URL: redisEnv.REDIS_URL, ...redisSecurityEnv });
const brokers = config.KAFKA_BROKERS;
const redisUrl = config.REDIS_URL;
const kafkaOptions = { brokers, logLevel: logLevel.NOTHING, ...kafkaSecurity(config) };
const redisOptions = redisConnection(config);
const prefix = 'demo.';
const redisPrefix = 'demo';
const say = (s: string) => console.log(`\x1b[1m${s}\x1b[0m`);

async function reset(): Promise<void> {
  // A demo starts clean: its own topic prefix and Redis prefix, wiped first.
  const admin = new Kafka(kafkaOptions).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics });
  await admin.disconnect();
  const redis = createRedis(redisOptions);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

const supervisor = new Supervisor({
  processes: affinityProcesses({
    env: {
      KAFKA_BROKERS: brokers.join(','),
      REDIS_URL: redisUrl,
      AFFINITY_TOPIC_PREFIX: prefix,
      REDIS_PREFIX: redisPrefix,
      INDEX_DIR: resolve(ROOT, '.affinity/demo/index'),
      CONSUMER_SESSION_TIMEOUT_MS: '10000',
      LOG_LEVEL: 'info',
    },
    serviceEnv: { recommender: { RECS_TRENDING_INTERVAL_MS: '1000' } },
  }),
  logDir: resolve(ROOT, '.affinity/demo/logs'),
  cwd: ROOT,
  // Only what goes wrong reaches the demo's output; the rest is in the logs.
  onEvent: (e, message) => {
    if (e.type === 'exited' || e.type === 'killed') console.log(`  ${message}`);
  },
});
const apiUrl = `http://127.0.0.1:${DEFAULT_PORTS.api}`;
const api = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(`${apiUrl}${path}`, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  return { status: res.status, body: (await res.json()) as unknown };
};
const post = async (path: string, events: unknown[]) => {
  for (let i = 0; i < events.length; i += 500) {
    const r = await api(path, { method: 'POST', body: JSON.stringify({ events: events.slice(i, i + 500) }) });
    if (r.status !== 202) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
  }
};
const redis = createRedis(redisOptions);
const admin = new Kafka(kafkaOptions).admin();
const backlog = new PipelineBacklog({ admin, redis, topicPrefix: prefix, redisPrefix });
/** Waits until every consumer group has read everything and the recommender has no list left to compute. */
async function caughtUp(what: string): Promise<void> {
  const started = Date.now();
  await backlog.waitUntilCaughtUp({ timeoutMs: 600_000, pollMs: 500 });
  console.log(`  ${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const products = uciProducts();
const titles = new Map(products.map((p) => [p.productId, p.title]));
function show(label: string, body: unknown): void {
  const list = parseWith(RecommendationUpdate, body);
  say(`\n${label}`);
  if (list.items.length === 0) console.log('  (nothing relevant enough: lists are cut by relevance, not padded)');
  for (const item of list.items.slice(0, 6)) {
    console.log(`  ${(titles.get(item.productId) ?? item.productId).padEnd(38)} ${item.score.toFixed(3)}  ${item.reasons.map((r) => r.text).join('; ')}`);
  }
}

try {
  say('Affinity demo: UCI Online Retail catalog and baskets through the whole pipeline');
  mkdirSync(resolve(ROOT, '.affinity/demo'), { recursive: true });
  await reset();
  supervisor.start();
  await supervisor.waitReady();
  console.log(`  services up (logs: .affinity/demo/logs); API ${apiUrl}`);

  say(`\n1. ${products.length} products → POST /v1/products → enricher (MiniLM embeddings, attributes) → indexer + recommender`);
  const t0 = Date.now();
  await admin.connect();
  await post('/v1/products', products);
  await caughtUp('similar lists computed');
  const known = new Set(products.map((p) => p.productId));
  const purchases = uciPurchases({ known, limit: Number(values.baskets), users: 300 });
  say(`\n2. ${Number(values.baskets)} real baskets (${purchases.length} purchases by 300 shoppers) → POST /v1/interactions → graph (FastRP) + recommender`);
  await post('/v1/interactions', purchases);
  await caughtUp('complementary, personalized and trending lists computed');
  console.log(`  total ${((Date.now() - t0) / 1000).toFixed(0)} s`);

  show('Similar to WHITE SKULL HOT WATER BOTTLE (GET /v1/items/21479/similar)', (await api('/v1/items/21479/similar')).body);
  show('Bought with WHITE HANGING HEART T-LIGHT HOLDER (GET /v1/items/85123A/complementary)', (await api('/v1/items/85123A/complementary')).body);
  const user = purchases[0]!.userId;
  show(`For shopper ${user} (GET /v1/users/${user}/recommendations)`, (await api(`/v1/users/${user}/recommendations`)).body);
  show('Trending (GET /v1/trending)', (await api('/v1/trending')).body);
  const search = (await api('/v1/search?q=christmas%20decoration&k=5')).body as { results: { productId: string; score: number }[] };
  say('\nSearch "christmas decoration" (GET /v1/search?q=christmas%20decoration&k=5)');
  for (const r of search.results) console.log(`  ${(titles.get(r.productId) ?? r.productId).padEnd(38)} ${r.score.toFixed(3)}`);

  say('\n3. Live: a click, and the shopper’s list on recs.v1 (GET /v1/subscribe/personalized/<user> streams the same)');
  const latencies: number[] = [];
  const consumer = new Kafka(kafkaOptions).consumer({ groupId: `demo-watch-${Date.now()}`, maxWaitTimeInMs: 50 });
  const seen = new Map<string, number>();
  await consumer.connect();
  await consumer.subscribe({ topic: `${prefix}recs.v1`, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      for (const id of JSON.parse(message.value?.toString() ?? '{}').causeEventIds ?? []) if (!seen.has(id)) seen.set(id, Date.now());
    },
  });
  await new Promise((r) => setTimeout(r, 3000));
  const shoppers = [...new Set(purchases.map((p) => p.userId))].slice(0, 20);
  for (const [n, userId] of shoppers.entries()) {
    const click: InteractionInput = { type: 'click', eventId: newEventId(), userId, productId: products[(n * 53) % products.length]!.productId, sessionId: `demo-${n}`, ts: Date.now() };
    const sent = Date.now();
    await post('/v1/interactions', [click]);
    while (!seen.has(click.eventId) && Date.now() - sent < 15_000) await new Promise((r) => setTimeout(r, 10));
    if (seen.has(click.eventId)) latencies.push(seen.get(click.eventId)! - sent);
  }
  await consumer.disconnect();
  latencies.sort((a, b) => a - b);
  console.log(`  click → personalized list on recs.v1: p50 ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies.at(-1)} ms over ${latencies.length} clicks`);

  if (values.keep) {
    say(`\nServices keep running. Try: curl ${apiUrl}/v1/trending | jq   (Ctrl-C to stop)`);
    await new Promise<void>((r) => process.once('SIGINT', () => r()));
  }
} finally {
  await backlog.close();
  await admin.disconnect();
  redis.disconnect();
  await supervisor.stop();
  say('\nServices stopped; Kafka and Redis are still up (./dev down stops them).');
}
