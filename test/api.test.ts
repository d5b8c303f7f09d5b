import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { AffinityHttpClient, ApiError, KafkaEventPublisher, RecsSubscriber, type RecsChange } from '@affinity/client';
import { RecommendationUpdate, ValidationError, encodeJson, newEventId, parseWith, recKey, topicName } from '@affinity/contracts';
import { KeySpace, ServingStore, type Redis } from '@affinity/store';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildWorker, type TestEnv, TopicCollector, openTestEnv, spawnWorker, stopWorkers, waitFor } from './support/harness';
import { freePort } from './support/processes';

const WRITE = 'write-key-0123456789abcdef';
const READ = 'read-key-0123456789abcdef';
/** Used only by the rate-limit test, so its one-minute window starts with that test. */
const LIMITED = 'limited-key-0123456789abcdef';
const HOUR = 3600 * 1000;
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
let t: TestEnv;
let kafka: Kafka;
let redis: Redis;
let producer: Producer;
let prefix: string;
let api: ChildWorker;
let base: string;

/** The API as its own process on a free port, once it is ready. */
async function startApi(label: string, env: Record<string, string>): Promise<{ worker: ChildWorker; base: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const worker = spawnWorker('services/api/src/main.ts', t.serviceEnv({ HTTP_PORT: String(port), ...env }), `${prefix}${label}`);
  await waitFor(() => fetch(`${url}/readyz`).then((r) => r.status), (s) => s === 200, 120_000, `${label} ready`);
  return { worker, base: url };
}

beforeAll(async () => {
  t = await openTestEnv('api');
  ({ kafka, redis, producer, prefix } = t);
  ({ worker: api, base } = await startApi('api', {
    API_WRITE_KEYS: WRITE,
    API_READ_KEYS: `${READ},${LIMITED}`,
    API_RATE_LIMIT_PER_MINUTE: '40',
    API_AUTH_FAILURES_PER_MINUTE: '20',
    API_BODY_LIMIT_BYTES: '4096',
    EVENT_MAX_FUTURE_SKEW_MS: String(HOUR),
  }));
});

afterAll(async () => {
  expect(await stopWorkers(api)).toEqual([0]);
  await t?.close();
});

/** One request written to the socket as it is (fetch would refuse or rewrite these), and the response. */
async function rawHttp(request: string): Promise<{ status: number; json: unknown }> {
  const { port, hostname } = new URL(base);
  const response = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(request));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', (err) => (chunks.length > 0 ? undefined : reject(err)));
  });
  const [head, body] = response.split('\r\n\r\n');
  return { status: Number(head!.split(' ')[1]), json: JSON.parse(body!) as unknown };
}

/**
 * A request from a chosen source address. 127.0.0.0/8 is all loopback on Linux, so each test
 * can be a client of its own (rate limits count per client address), and none needs a network.
 */
function from(source: string, path: string, headers: Record<string, string> = {}, url = base): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, headers, localAddress: source, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The API's error shape, for a 429: `error` as given, and a Retry-After in seconds within the minute. */
function expectTooMany(res: { status: number; headers: IncomingHttpHeaders; body: string }, error: string): void {
  expect(res.status).toBe(429);
  expect(JSON.parse(res.body)).toEqual({ error, message: expect.stringMatching(/retry in \d+ s$/), issues: [] });
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
}

const call = (path: string, init: RequestInit & { key?: string } = {}) =>
  fetch(`${base}${path}`, { ...init, headers: { 'content-type': 'application/json', ...(init.key ? { 'x-api-key': init.key } : {}), ...init.headers } });

describe('API against real Kafka and Redis', () => {
  it('requires the right key for writes and reads', async () => {
    const event = { type: 'view', userId: 'u1', productId: 'p1', sessionId: 's1' };
    expect((await call('/v1/interactions', { method: 'POST', body: JSON.stringify(event) })).status).toBe(401);
    expect((await call('/v1/interactions', { method: 'POST', body: JSON.stringify(event), key: READ })).status).toBe(403);
    const ok = await call('/v1/interactions', { method: 'POST', body: JSON.stringify(event), key: WRITE });
    expect(ok.status).toBe(202);
    const { eventIds } = (await ok.json()) as { eventIds: string[] };
    // It reached Kafka, keyed by user, with the assigned id.
    const c = await new TopicCollector(kafka, topicName('interactions', { prefix })).start();
    try {
      await c.waitFor((m) => m.some((x) => x.value?.toString().includes(eventIds[0]!)), 30_000, 'the event on interactions.v1');
      expect(c.messages.find((x) => x.value?.toString().includes(eventIds[0]!))!.key?.toString()).toBe('u1');
    } finally {
      await c.stop();
    }
    expect((await call('/v1/trending')).status).toBe(401);
    expect((await call('/v1/trending', { key: READ })).status).toBe(404); // authorized, nothing published yet
    expect((await call('/v1/trending', { key: WRITE })).status).toBe(404); // write keys may read
  });

  it('answers bad input with a clear 4xx, and enforces the body limit', async () => {
    const bad = await call('/v1/products', { method: 'POST', key: WRITE, body: JSON.stringify({ events: [{ productId: 'p1', title: 'Mug', price: 3, currency: 'GBP' }, { productId: 'p 2', title: '', price: -1, currency: 'GBP' }] }) });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: string; message: string; issues: { path: string }[] };
    expect(body.error).toBe('VALIDATION');
    expect(body.message).toMatch(/^event 1:/);
    expect(body.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['events.1.productId']));
    const big = await call('/v1/products', { method: 'POST', key: WRITE, body: JSON.stringify({ title: 'x'.repeat(5000) }) });
    expect(big.status).toBe(413);
    expect((await call('/v1/items/not%20an%20id/similar', { key: READ })).status).toBe(400);
    expect((await call('/v1/nowhere', { key: READ })).status).toBe(404);
    const openapi = (await (await call('/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/products', '/v1/interactions', '/v1/search', '/v1/subscribe/{kind}/{subjectId}']));
  });

  it('answers the first k items of a stored list for ?k=, and refuses a bad k', async () => {
    const serving = new ServingStore(redis, new KeySpace(`${prefix}affinity`));
    const items = ['a1', 'a2', 'a3'].map((id, i) => ({ productId: id, score: 0.9 - i / 10, reasons: [{ code: 'bought_together', text: `bought together ${9 - i} times`, value: 9 - i }] }));
    const stored: RecommendationUpdate = { type: 'recs.update', eventId: newEventId(), kind: 'complementary', subjectId: 'k1', items, versions: { ranker: 'r2-test' }, generatedAt: Date.now(), causeEventIds: [] };
    await redis.set(serving.listKey('complementary', 'k1'), JSON.stringify(stored));
    const two = await call('/v1/items/k1/complementary?k=2', { key: READ });
    expect(two.status).toBe(200);
    const body = (await two.json()) as RecommendationUpdate;
    expect(body.items.map((i) => i.productId)).toEqual(['a1', 'a2']);
    expect(body.versions).toEqual({ ranker: 'r2-test' });
    expect(((await (await call('/v1/items/k1/complementary', { key: READ })).json()) as RecommendationUpdate).items).toHaveLength(3);
    expect(((await (await call('/v1/items/k1/complementary?k=50', { key: READ })).json()) as RecommendationUpdate).items).toHaveLength(3);
    for (const bad of ['0', '201', 'abc', '1.5']) {
      const r = await call(`/v1/items/k1/complementary?k=${bad}`, { key: READ });
      expect(r.status, bad).toBe(400);
      expect(((await r.json()) as { error: string }).error).toBe('VALIDATION');
    }
  });

  it('streams list updates from recs.v1 to a server-sent-events subscriber', async () => {
    const serving = new ServingStore(redis, new KeySpace(`${prefix}affinity`));
    const stored: RecommendationUpdate = { type: 'recs.update', eventId: newEventId(), kind: 'similar', subjectId: 'p1', items: [{ productId: 'p2', score: 0.9, reasons: [{ code: 'similar_description', text: 'similar description 0.90' }] }], versions: {}, generatedAt: Date.now(), causeEventIds: [] };
    await redis.set(serving.listKey('similar', 'p1'), JSON.stringify(stored));
    const res = await call('/v1/subscribe/similar/p1', { key: READ });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const received: string[] = [];
    const pump = (async () => {
      const dec = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        received.push(dec.decode(value));
      }
    })();
    await waitFor(async () => received.join(''), (t) => t.includes('"p2"'), 10_000, 'the stored list first');
    const update: RecommendationUpdate = { ...stored, eventId: newEventId(), items: [{ ...stored.items[0]!, productId: 'p3' }], generatedAt: Date.now() + 1 };
    // The feed starts from the latest offset: give its consumer a moment, then publish.
    await waitFor(
      async () => {
        await producer.send({ topic: topicName('recs', { prefix }), messages: [{ key: recKey('similar', 'p1'), value: encodeJson(update) }] });
        await new Promise((r) => setTimeout(r, 500));
        return received.join('');
      },
      (t) => t.includes('"p3"'),
      30_000,
      'the live update',
    );
    const events = received.join('').split('\n\n').filter((b) => b.startsWith('event: update'));
    expect(parseWith(RecommendationUpdate, JSON.parse(events.at(-1)!.split('data: ')[1]!)).items[0]!.productId).toBe('p3');
    await reader.cancel();
    await pump.catch(() => undefined);
  });

  it('answers a subscription to a list that does not exist yet at once: headers and a first comment, not after the 15 s keep-alive', async () => {
    const started = Date.now();
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 2000);
    try {
      const res = await call('/v1/subscribe/similar/no-list-yet', { key: READ, signal: ctl.signal }).catch((err: unknown) => {
        throw new Error(`no response headers within 2 s: ${String(err)}`);
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toMatch(/^:/); // an SSE comment: the stream is open
      expect(Date.now() - started).toBeLessThan(2000);
      await reader.cancel();
    } finally {
      clearTimeout(timer);
      ctl.abort();
    }
  });

  it('the typed client: publishes over HTTP and Kafka, validates before sending, subscribes to recs.v1', async () => {
    const http = new AffinityHttpClient({ baseUrl: base, apiKey: WRITE });
    const accepted = await http.publishInteractions([{ type: 'click', userId: 'u7', productId: 'p7', sessionId: 's7' }]);
    expect(accepted.eventIds).toHaveLength(1);
    const err = await http.publishInteractions([{ type: 'click', userId: 'u7', productId: 'p7', sessionId: 's7', quantity: -1 }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    expect((err as ApiError).issues.map((i) => i.path)).toContain('events.0.quantity');
    expect(await http.similar('nothing-yet')).toBeUndefined();

    const publisher = new KafkaEventPublisher(kafka, { prefix });
    await expect(publisher.publishInteractions([{ type: 'teleport' as never, userId: 'u8', productId: 'p8', sessionId: 's8' }])).rejects.toBeInstanceOf(ValidationError);
    const [id] = await publisher.publishInteractions([{ type: 'view', userId: 'u8', productId: 'p8', sessionId: 's8' }]);
    const c = await new TopicCollector(kafka, topicName('interactions', { prefix })).start();
    try {
      await c.waitFor((m) => m.some((x) => x.value?.toString().includes(id!)), 30_000, 'the published event');
      expect(c.messages.find((x) => x.value?.toString().includes(id!))!.key?.toString()).toBe('u8');
    } finally {
      await c.stop();
      await publisher.close();
    }

    const changes: RecsChange[] = [];
    const invalid: string[] = [];
    const subscriber = new RecsSubscriber(kafka, { prefix, groupId: `${prefix}subscriber`, kinds: ['complementary'] });
    await subscriber.start((ch) => void changes.push(ch), (_e, offset) => invalid.push(offset));
    const list: RecommendationUpdate = { type: 'recs.update', eventId: newEventId(), kind: 'complementary', subjectId: 'p9', items: [{ productId: 'p10', score: 0.7, reasons: [{ code: 'bought_together', text: 'bought together 3 times', value: 3 }] }], versions: {}, generatedAt: Date.now(), causeEventIds: [] };
    const topic = topicName('recs', { prefix });
    await producer.send({
      topic,
      messages: [
        { key: recKey('similar', 'p9'), value: encodeJson({ ...list, kind: 'similar' }) },
        { key: recKey('complementary', 'p9'), value: encodeJson(list) },
        { key: recKey('complementary', 'p11'), value: Buffer.from('{"not":"a list"}') },
        { key: recKey('complementary', 'p9'), value: null },
      ],
    });
    try {
      // p11's key may live on another partition than p9's, so its record can arrive after both p9 changes.
      await waitFor(async () => [changes.length, invalid.length] as const, ([n, bad]) => n >= 2 && bad >= 1, 30_000, 'two complementary changes and one invalid record');
      expect(changes.map((ch) => [ch.subjectId, ch.update?.items[0]?.productId ?? null])).toEqual([
        ['p9', 'p10'],
        ['p9', null],
      ]);
      expect(invalid).toHaveLength(1);
    } finally {
      await subscriber.close();
    }
  });

  it('refuses impossible dates, lone surrogates and times further ahead than EVENT_MAX_FUTURE_SKEW_MS', async () => {
    const productJson = (extra: string) => `{"productId":"p-time","title":"Mug","price":1,"currency":"GBP"${extra}}`;
    const post = async (path: string, body: string) => {
      const res = await call(path, { method: 'POST', key: WRITE, body });
      return { status: res.status, body: (await res.json()) as { error: string; issues: { path: string; message: string }[] } };
    };
    const feb30 = await post('/v1/products', productJson(',"updatedAt":"2024-02-30T00:00:00Z"'));
    expect(feb30).toMatchObject({ status: 400, body: { error: 'VALIDATION', issues: [{ path: 'updatedAt', message: '2024-02-30 does not exist: February 2024 has 29 days' }] } });
    const surrogate = await post('/v1/products', '{"productId":"p-time","title":"Mug \\ud800","price":1,"currency":"GBP"}');
    expect(surrogate).toMatchObject({ status: 400, body: { issues: [{ path: 'title', message: expect.stringMatching(/lone surrogate/) }] } });
    // The process was started with a skew of one hour: two hours ahead is refused, half an hour is not.
    expect(await post('/v1/products', productJson(`,"updatedAt":${Date.now() + 2 * HOUR}`))).toMatchObject({ status: 400, body: { issues: [{ path: 'updatedAt' }] } });
    expect((await post('/v1/products', productJson(`,"updatedAt":${Date.now() + HOUR / 2}`))).status).toBe(202);
    expect((await post('/v1/interactions', `{"type":"view","userId":"u1","productId":"p1","sessionId":"s1","ts":"2099-01-01T00:00:00Z"}`)).status).toBe(400);
  });

  it('answers 414, 431, malformed URLs and non-JSON bodies in the API error shape; accepts "bearer" in any case', async () => {
    const shape = (body: unknown) => expect(Object.keys(body as object).sort()).toEqual(['error', 'issues', 'message']);
    // Above Node's header limit (16 KiB): in the request line, the URL is too long; elsewhere, the headers are.
    const longUrl = await rawHttp(`GET /v1/search?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(longUrl.status).toBe(414);
    shape(longUrl.json);
    expect(longUrl.json).toMatchObject({ error: 'URI_TOO_LONG' });
    const bigHeaders = await rawHttp(`GET /v1/trending HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(bigHeaders.status).toBe(431);
    shape(bigHeaders.json);
    expect(bigHeaders.json).toMatchObject({ error: 'HEADERS_TOO_LARGE' });
    const longParam = await call(`/v1/items/${'a'.repeat(300)}/similar`, { key: READ });
    expect(longParam.status).toBe(414);
    shape(await longParam.json());
    const badUrl = await call('/v1/items/%E0%A4%A/similar', { key: READ });
    expect(badUrl.status).toBe(400);
    expect(await badUrl.json()).toMatchObject({ error: 'BAD_URL', issues: [] });
    const text = await call('/v1/interactions', { method: 'POST', key: WRITE, body: '{"type":"view"}', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ error: 'UNSUPPORTED_MEDIA_TYPE', issues: [] });
    const yesterday = await call('/v1/interactions', { method: 'POST', key: WRITE, body: '{"type":"view","userId":"u1","productId":"p1","sessionId":"s1","ts":"yesterday"}' });
    expect(await yesterday.json()).toMatchObject({ error: 'VALIDATION', issues: [{ path: 'ts', message: expect.stringMatching(/^"yesterday" is not a time: send epoch milliseconds or an ISO-8601 date-time/) }] });
    expect((await fetch(`${base}/v1/trending`, { headers: { authorization: `bearer ${READ}` } })).status).toBe(404); // authorized; nothing published yet
  });

  it('rate-limits per key', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++) statuses.push((await call('/v1/trending', { key: LIMITED })).status);
    expect(statuses).toContain(429);
    // Other keys have their own budget.
    expect((await call('/v1/trending', { key: READ })).status).not.toBe(429);
    const limited = await call('/v1/trending', { key: LIMITED });
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: string }).error).toBe('RATE_LIMITED');
  });

  it('listens on 127.0.0.1 only when HTTP_HOST is unset (the default), and serves /metrics without a token when METRICS_TOKEN is unset', async () => {
    const port = Number(new URL(base).port);
    expect((await from('127.0.0.1', '/healthz', {}, `http://127.0.0.1:${port}`)).status).toBe(200);
    // Another address of this machine (all of 127/8 is loopback on Linux): refused.
    await expect(from('127.0.0.1', '/healthz', {}, `http://127.0.0.2:${port}`)).rejects.toThrow(/ECONNREFUSED/);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('affinity_');
  });

  it('a keyless client cannot pick its own address with X-Forwarded-For when API_TRUST_PROXY is unset (the default)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 650; i++) statuses.push((await from('127.0.0.3', '/openapi.json', { 'x-forwarded-for': `198.51.100.${i % 250}, 203.0.113.${i % 200}` })).status);
    // One client, one budget of 40 (API_RATE_LIMIT_PER_MINUTE), whatever the header says.
    expect(statuses.filter((s) => s === 200)).toHaveLength(40);
    expect(statuses.slice(40).every((s) => s === 429)).toBe(true);
    expectTooMany(await from('127.0.0.3', '/openapi.json', { 'x-forwarded-for': '192.0.2.1' }), 'RATE_LIMITED');
  });

  it('throttles failed authentication per client address: many wrong keys get 429, the right key too while blocked, probes never', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 650; i++) statuses.push((await from('127.0.0.5', '/v1/trending', { 'x-api-key': `wrong-key-${i}-0123456789abcdef` })).status);
    // API_AUTH_FAILURES_PER_MINUTE=20: twenty 403s, then nothing but 429s.
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(403));
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    // A blocked address cannot tell a right key from a wrong one...
    expectTooMany(await from('127.0.0.5', '/v1/trending', { 'x-api-key': READ }), 'AUTH_RATE_LIMITED');
    // ...its probes still answer, and other addresses are not affected.
    expect((await from('127.0.0.5', '/healthz')).status).toBe(200);
    expect((await from('127.0.0.6', '/v1/trending', { 'x-api-key': READ })).status).toBe(404);
    const missing: number[] = [];
    for (let i = 0; i < 25; i++) missing.push((await from('127.0.0.6', '/v1/trending')).status);
    expect(missing.slice(0, 20)).toEqual(Array(20).fill(401));
    expectTooMany(await from('127.0.0.6', '/v1/trending'), 'AUTH_RATE_LIMITED');
  });

});

describe('API behind a proxy named in API_TRUST_PROXY, listening on every interface, metrics behind a token', () => {
  let proxied: ChildWorker;
  let proxiedBase: string;

  beforeAll(async () => {
    ({ worker: proxied, base: proxiedBase } = await startApi('api-proxied', {
      API_READ_KEYS: READ,
      API_RATE_LIMIT_PER_MINUTE: '40',
      API_AUTH_FAILURES_PER_MINUTE: '5',
      // The test's "proxy" is 127.0.0.1; clients that come from elsewhere in 127/8 reach the API directly.
      API_TRUST_PROXY: '127.0.0.1',
      HTTP_HOST: '0.0.0.0',
      METRICS_TOKEN: METRICS_TOKEN,
    }));
  });

  afterAll(async () => {
    expect(await stopWorkers(proxied)).toEqual([0]);
  });

  it('counts a client forwarded by the proxy under its X-Forwarded-For address, and a direct client under its own', async () => {
    const viaProxy = (client: string) => from('127.0.0.1', '/openapi.json', { 'x-forwarded-for': client }, proxiedBase).then((r) => r.status);
    // Each forwarded client has its own budget...
    const many: number[] = [];
    for (let i = 0; i < 100; i++) many.push(await viaProxy(`198.51.100.${i}`));
    expect(many.every((s) => s === 200)).toBe(true);
    // ...one of them is limited by its own address, without limiting the others.
    const one: number[] = [];
    for (let i = 0; i < 45; i++) one.push(await viaProxy('203.0.113.9'));
    expect(one.filter((s) => s === 200)).toHaveLength(40);
    expect(await viaProxy('203.0.113.10')).toBe(200);
    // A client that is not the proxy cannot pick its address.
    const direct: number[] = [];
    for (let i = 0; i < 45; i++) direct.push((await from('127.0.0.7', '/openapi.json', { 'x-forwarded-for': `198.51.100.${i}` }, proxiedBase)).status);
    expect(direct.filter((s) => s === 200)).toHaveLength(40);
  });

  it('throttles failed authentication per forwarded client, not per proxy', async () => {
    const guess = (client: string, key: string) => from('127.0.0.1', '/v1/trending', { 'x-forwarded-for': client, 'x-api-key': key }, proxiedBase);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await guess('198.51.100.200', `wrong-key-${i}-0123456789abcdef`)).status);
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429, 429, 429]);
    expectTooMany(await guess('198.51.100.200', READ), 'AUTH_RATE_LIMITED');
    // Another client behind the same proxy is not blocked.
    expect((await guess('198.51.100.201', READ)).status).toBe(404);
  });

  it('HTTP_HOST=0.0.0.0 listens on every interface; with METRICS_TOKEN, /metrics needs the token and probes do not', async () => {
    const port = Number(new URL(proxiedBase).port);
    expect((await from('127.0.0.1', '/healthz', {}, `http://127.0.0.2:${port}`)).status).toBe(200);
    const metrics = (authorization?: string) => from('127.0.0.8', '/metrics', authorization ? { authorization } : {}, proxiedBase);
    for (const res of [await metrics(), await metrics('Bearer wrong-token-0123456789abcdef'), await metrics(`Basic ${METRICS_TOKEN}`)]) {
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(JSON.parse(res.body)).toEqual({ error: 'UNAUTHENTICATED', message: expect.stringMatching(/METRICS_TOKEN/), issues: [] });
    }
    const ok = await metrics(`bearer ${METRICS_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('affinity_');
    expect((await from('127.0.0.8', '/healthz', {}, proxiedBase)).status).toBe(200);
    expect((await from('127.0.0.8', '/readyz', {}, proxiedBase)).status).toBe(200);
  });
});
