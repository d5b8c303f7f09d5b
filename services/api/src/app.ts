import { timingSafeEqual } from 'node:crypto';
import { STATUS_CODES, maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import {
  AffinityError,
  CatalogEvent,
  Identifier,
  Interaction,
  MAX_REC_ITEMS,
  REC_KINDS,
  ValidationError,
  emptyDictionary,
  newEventId,
  parseJsonBytes,
  parseWith,
  recKey,
  requireNotFuture,
  type RecKind,
  type RecommendationUpdate,
} from '@affinity/contracts';
import type { IndexRouter, KnnFilter } from '@affinity/index-router';
import type { ServingStore } from '@affinity/store';
import { type EventProducer, type Logger, METRICS_UNAUTHORIZED, type MetricsExposure, metricsAccess } from '@affinity/stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AuthFailureThrottle } from './auth-throttle';
import { openApiDocument } from './openapi';
import type { RecsFeed } from './recs-feed';

export interface QueryEmbedder {
  modelId: string;
  embed(text: string): Promise<Float32Array>;
}

export interface ApiDeps {
  producer: EventProducer;
  topics: { catalog: string; interactions: string };
  serving: ServingStore;
  router: IndexRouter;
  feed: RecsFeed;
  /** Absent: /v1/search answers 503 (no model loaded). */
  embedder?: QueryEmbedder;
  logger: Logger;
  auth: { readKeys: readonly string[]; writeKeys: readonly string[] };
  /**
   * `maxFutureSkewMs`: how far ahead of this clock an event's updatedAt/ts may be (EVENT_MAX_FUTURE_SKEW_MS);
   * `authFailuresPerMinute`: 401/403 answers one client address may get per minute before it is blocked for the rest of it.
   */
  limits: { bodyBytes: number; eventsPerRequest: number; requestsPerMinute: number; authFailuresPerMinute: number; maxFutureSkewMs: number };
  /**
   * Whose X-Forwarded-For names the client (API_TRUST_PROXY): false, nobody's (the client is the
   * TCP peer); a list, only these proxies' (addresses, CIDRs, or proxy-addr's loopback, linklocal,
   * uniquelocal); true, anyone's. @defaultValue false
   */
  trustProxy?: boolean | readonly string[];
  /** Extra readiness (Kafka/Redis connected). */
  ready(): boolean;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Who may read /metrics (METRICS_ENABLED, METRICS_TOKEN). @defaultValue enabled, no token */
  metricsExposure?: MetricsExposure;
}

type Scope = 'read' | 'write';

function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// The auth scheme is case-insensitive (RFC 7235 §2.1): "bearer" is as good as "Bearer".
const BEARER = /^bearer +(\S+) *$/i;

/** Probes must answer whatever a client at the kubelet's address did. */
const PROBES = new Set(['/healthz', '/readyz']);

function apiKey(req: FastifyRequest): string | undefined {
  const h = req.headers['x-api-key'];
  if (typeof h === 'string' && h.length > 0) return h;
  return BEARER.exec(req.headers.authorization ?? '')?.[1];
}

/** Each error is a JSON body with a stable `error` code, a message a person can act on, and the field issues. */
function errorBody(error: string, message: string, issues: unknown[] = []): { error: string; message: string; issues: unknown[] } {
  return { error, message, issues };
}

function sendError(reply: FastifyReply, status: number, error: string, message: string, issues: unknown[] = []): FastifyReply {
  return reply.code(status).send(errorBody(error, message, issues));
}

/** Stable codes for the framework's 4xx errors (its own codes, FST_ERR_…, are not part of our API). */
const ERROR_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'HEADERS_TOO_LARGE',
};

/** Longest path parameter routed; ids are at most 128 characters, so every valid one reaches validation. */
const MAX_PARAM_CHARS = 256;

/**
 * Errors Node's HTTP parser meets before there is a request (headers above the size limit,
 * garbage): written to the socket in the API's shape. A request line that alone overflows the
 * limit is a URL too long (414); otherwise the headers are (431).
 */
function clientError(error: Error, socket: Socket): void {
  const err = error as Error & { code?: string; rawPacket?: Buffer; bytesParsed?: number };
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let body = errorBody('BAD_REQUEST', 'malformed HTTP request');
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    body = errorBody('REQUEST_TIMEOUT', 'the request took too long to arrive');
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    const lineEnd = err.rawPacket?.indexOf('\r\n') ?? 0;
    const inRequestLine = err.rawPacket !== undefined && /^[A-Z]+ /.test(err.rawPacket.subarray(0, 16).toString('latin1')) && (lineEnd < 0 || lineEnd >= (err.bytesParsed ?? 0));
    status = inRequestLine ? 414 : 431;
    body = inRequestLine
      ? errorBody('URI_TOO_LONG', `the request line is above the ${maxHeaderSize} bytes allowed for it and the headers; send long queries in a body`)
      : errorBody('HEADERS_TOO_LARGE', `request headers above ${maxHeaderSize} bytes`);
  }
  const json = JSON.stringify(body);
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(json)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${json}`);
  socket.destroy(err);
}

const EventsBody = (max: number) => z.object({ events: z.array(z.unknown()).min(1, 'events must not be empty').max(max, `at most ${max} events per request`) });

const SearchQuery = z.object({
  q: z.string().trim().min(1, 'q must not be empty').max(512),
  k: z.coerce.number().int().min(1).max(100).default(10),
  brand: z.string().max(128).optional(),
  category: z.string().max(512).optional(),
  minPrice: z.coerce.number().finite().nonnegative().optional(),
  maxPrice: z.coerce.number().finite().nonnegative().optional(),
  availability: z.enum(['in_stock', 'out_of_stock', 'preorder', 'discontinued']).optional(),
});

/**
 * The Affinity HTTP API (docs/architecture.md "services/api"): stateless; writes go to Kafka, reads come
 * from Redis (lists, catalog copy) and the vector-index shards (search).
 */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  // Keep-alive longer than clients' (undici: 4 s) so a client never reuses a socket the server is closing.
  const app = Fastify({
    bodyLimit: deps.limits.bodyBytes,
    logger: false,
    // X-Forwarded-For is believed only from the proxies the operator named: otherwise any client
    // could pick the address the rate limits count it under.
    trustProxy: typeof deps.trustProxy === 'object' ? [...deps.trustProxy] : (deps.trustProxy ?? false),
    keepAliveTimeout: 75_000,
    routerOptions: { maxParamLength: MAX_PARAM_CHARS },
    // Errors raised before routing (a URL that does not decode, a path parameter above the limit) in our shape too.
    frameworkErrors: (err, _req, reply) => {
      if (err.code === 'FST_ERR_BAD_URL') void sendError(reply, 400, 'BAD_URL', 'the URL is not a valid URL: a percent-encoding (e.g. %E0%A4%A) does not decode');
      else if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') void sendError(reply, 414, 'URI_TOO_LONG', `a path parameter is above ${MAX_PARAM_CHARS} characters (ids are at most 128)`);
      else {
        deps.logger.error({ err }, 'request failed before routing');
        void sendError(reply, 500, 'INTERNAL', 'internal error');
      }
    },
    clientErrorHandler: clientError,
  });

  // Our own JSON parsing: an empty body is "no body" (DELETE with a content-type header), and
  // bad JSON is a VALIDATION error like any other.
  app.removeContentTypeParser('application/json');
  // Bodies are JSON only: any other type (text/plain included, which fastify would parse) is a 415.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    const buf = body as Buffer;
    if (buf.length === 0) return done(null, undefined);
    try {
      done(null, parseJsonBytes(buf, deps.limits.bodyBytes));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  const configuredKeys = [...deps.auth.readKeys, ...deps.auth.writeKeys];
  /** The request's key if it is one of ours; a made-up key is no identity (else each guess would get a fresh budget). */
  const knownKey = (req: FastifyRequest): string | undefined => {
    const key = apiKey(req);
    return key !== undefined && configuredKeys.some((k) => sameKey(k, key)) ? key : undefined;
  };

  await app.register(rateLimit, {
    max: deps.limits.requestsPerMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => knownKey(req) ?? req.ip,
    allowList: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url.split('?')[0]!),
    // Thrown, so the error handler answers it in the API's shape; the plugin has set Retry-After.
    errorResponseBuilder: (_req, ctx) => Object.assign(new Error(`more than ${ctx.max} requests per minute; retry in ${Math.ceil(ctx.ttl / 1000)} s`), { statusCode: 429 }),
  });

  // Failed authentication is throttled per client address, far below the request rate: guessing keys stays slow.
  const authFailures = new AuthFailureThrottle(deps.limits.authFailuresPerMinute);
  app.addHook('onRequest', async (req, reply) => {
    if (PROBES.has(req.url.split('?')[0]!)) return;
    const waitMs = authFailures.blockedFor(req.ip);
    if (waitMs <= 0) return;
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    return sendError(reply.header('retry-after', String(seconds)), 429, 'AUTH_RATE_LIMITED', `too many failed authentications from this address (${authFailures.limit} a minute at most); retry in ${seconds} s`);
  });
  app.addHook('onSend', async (req, reply) => {
    if (reply.statusCode === 401 || reply.statusCode === 403) authFailures.fail(req.ip);
  });

  const authorize = (scope: Scope) => async (req: FastifyRequest, reply: FastifyReply) => {
    const { readKeys, writeKeys } = deps.auth;
    const allowed = scope === 'write' ? writeKeys : [...readKeys, ...writeKeys];
    if ((scope === 'write' ? writeKeys : readKeys).length === 0) return;
    const key = apiKey(req);
    if (key === undefined) return sendError(reply, 401, 'UNAUTHENTICATED', 'send an API key in the x-api-key header (or Authorization: Bearer <key>)');
    if (!allowed.some((k) => sameKey(k, key))) return sendError(reply, 403, 'FORBIDDEN', `this key may not ${scope}`);
  };

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ValidationError) return sendError(reply, 400, 'VALIDATION', err.message, [...err.issues]);
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode === 413) return sendError(reply, 413, 'PAYLOAD_TOO_LARGE', `request body above ${deps.limits.bodyBytes} bytes`);
    if (e.statusCode === 415) return sendError(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', `send the body as application/json (got ${String(req.headers['content-type'] ?? 'no content-type').slice(0, 100)})`);
    if (e.statusCode === 429) return sendError(reply, 429, 'RATE_LIMITED', e.message ?? 'rate limited');
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return sendError(reply, e.statusCode, ERROR_CODES[e.statusCode] ?? 'BAD_REQUEST', e.message ?? 'bad request');
    if (err instanceof AffinityError && err.code === 'UNAVAILABLE') return sendError(reply, 503, 'UNAVAILABLE', err.message);
    deps.logger.error({ err }, 'request failed');
    return sendError(reply, 500, 'INTERNAL', 'internal error');
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));

  // ---- health, metrics, docs -------------------------------------------------------
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => (deps.ready() ? { status: 'ok' } : reply.code(503).send({ status: 'unavailable' })));
  // METRICS_ENABLED=false: no such route (404 like any other). With METRICS_TOKEN, a wrong or
  // missing token is a failed authentication like a wrong API key (and throttled the same way).
  if (deps.metricsExposure?.enabled !== false) {
    app.get('/metrics', async (req, reply) => {
      if (metricsAccess(deps.metricsExposure, req.headers.authorization) !== 'ok') {
        return sendError(reply.headers(METRICS_UNAUTHORIZED.headers), 401, METRICS_UNAUTHORIZED.error, METRICS_UNAUTHORIZED.message);
      }
      const m = await deps.metrics();
      return reply.type(m.contentType).send(m.body);
    });
  }
  app.get('/openapi.json', async () => openApiDocument());

  // ---- ingest -----------------------------------------------------------------------
  const timeLimit = { maxFutureSkewMs: deps.limits.maxFutureSkewMs };
  /** One event or {"events": [...]}; each event is validated by `parse`, and issues name the event. */
  const manyOf = <T>(body: unknown, parse: (raw: Record<string, unknown>) => T): T[] => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ValidationError('the body must be a JSON object: one event, or {"events": [...]}', [{ path: '(root)', message: 'expected an object' }]);
    }
    if (!('events' in body)) return [parse(body as Record<string, unknown>)];
    return parseWith(EventsBody(deps.limits.eventsPerRequest), body, 'request body').events.map((raw, i) => {
      try {
        return parse((typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>);
      } catch (err) {
        throw prefixIssues(err, i);
      }
    });
  };

  app.post('/v1/products', { preHandler: authorize('write') }, async (req, reply) => {
    const now = Date.now();
    const events = manyOf(req.body, (o) => requireNotFuture(parseWith(CatalogEvent, { type: 'product.upsert', eventId: newEventId(now), updatedAt: now, ...withoutUndefined(o) }, 'product'), timeLimit, 'product'));
    await deps.producer.send(
      deps.topics.catalog,
      events.map((e) => ({ key: e.productId, value: e })),
    );
    return reply.code(202).send({ accepted: events.length, eventIds: events.map((e) => e.eventId) });
  });

  app.delete('/v1/products/:productId', { preHandler: authorize('write') }, async (req, reply) => {
    const productId = parseWith(Identifier, (req.params as { productId: string }).productId, 'productId');
    const now = Date.now();
    const event = parseWith(CatalogEvent, { type: 'product.delete', eventId: newEventId(now), productId, updatedAt: now }, 'delete');
    await deps.producer.send(deps.topics.catalog, [{ key: productId, value: event }]);
    return reply.code(202).send({ accepted: 1, eventIds: [event.eventId] });
  });

  app.post('/v1/interactions', { preHandler: authorize('write') }, async (req, reply) => {
    const now = Date.now();
    const events = manyOf(req.body, (o) => requireNotFuture(parseWith(Interaction, { eventId: newEventId(now), ts: now, ...withoutUndefined(o) }, 'interaction'), timeLimit, 'interaction'));
    await deps.producer.send(
      deps.topics.interactions,
      events.map((e) => ({ key: e.userId, value: e })),
    );
    return reply.code(202).send({ accepted: events.length, eventIds: events.map((e) => e.eventId) });
  });

  // ---- reads ------------------------------------------------------------------------
  /** `?k=`: the first k items of the stored list (which holds RECS_K). */
  const ListQuery = z.object({ k: z.coerce.number().int().min(1).max(MAX_REC_ITEMS).optional() }).strict();
  const list = async (kind: RecKind, subject: string, query: unknown, reply: FastifyReply) => {
    const id = parseWith(Identifier, subject, kind === 'personalized' ? 'userId' : 'productId');
    const { k } = parseWith(ListQuery, query ?? {}, 'query');
    const json = await deps.serving.listJson(kind, id);
    if (json !== undefined) {
      if (k === undefined) return reply.type('application/json').send(json);
      const l = JSON.parse(json) as RecommendationUpdate;
      return reply.send({ ...l, items: l.items.slice(0, k) });
    }
    if (kind === 'personalized') {
      // A shopper we know nothing about yet: what everyone is looking at, labelled as such.
      const trending = await deps.serving.listJson('trending', 'global');
      if (trending !== undefined) {
        const t = JSON.parse(trending) as RecommendationUpdate;
        return reply.send({ ...t, kind: 'personalized', subjectId: id, items: t.items.slice(0, k), versions: { ...t.versions, fallback: 'trending' } });
      }
    }
    return sendError(reply, 404, 'NOT_FOUND', `no ${kind} list for ${id} yet`);
  };

  app.get('/v1/users/:userId/recommendations', { preHandler: authorize('read') }, async (req, reply) => list('personalized', (req.params as { userId: string }).userId, req.query, reply));
  app.get('/v1/items/:productId/similar', { preHandler: authorize('read') }, async (req, reply) => list('similar', (req.params as { productId: string }).productId, req.query, reply));
  app.get('/v1/items/:productId/complementary', { preHandler: authorize('read') }, async (req, reply) => list('complementary', (req.params as { productId: string }).productId, req.query, reply));
  app.get('/v1/trending', { preHandler: authorize('read') }, async (req, reply) => list('trending', 'global', req.query, reply));

  app.get('/v1/search', { preHandler: authorize('read') }, async (req, reply) => {
    const q = parseWith(SearchQuery, req.query, 'search query');
    if (!deps.embedder) return sendError(reply, 503, 'UNAVAILABLE', 'semantic search needs the embedding model: run packages/embeddings/scripts/fetch-model.sh and restart the API');
    const filter: KnnFilter = {};
    if (q.brand) filter.brand = q.brand;
    if (q.category) filter.categoryPath = q.category.split('>').map((s) => s.trim()).filter(Boolean);
    if (q.minPrice !== undefined || q.maxPrice !== undefined) filter.price = { min: q.minPrice, max: q.maxPrice };
    if (q.availability) filter.availability = q.availability;
    const attrs = emptyDictionary<string>();
    for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) {
      if (k.startsWith('attr.') && typeof v === 'string') attrs[parseWith(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/), k.slice(5), 'attribute name')] = v.slice(0, 256);
    }
    if (Object.keys(attrs).length > 0) filter.attributes = attrs;
    const vector = await deps.embedder.embed(q.q);
    const res = await deps.router.search({ modelId: deps.embedder.modelId, vector, k: q.k, filter });
    const items = await deps.serving.items(res.hits.map((h) => h.id));
    return reply.send({
      query: q.q,
      modelId: deps.embedder.modelId,
      complete: res.complete,
      missingShards: res.missing,
      results: res.hits.map((h) => ({ productId: h.id, score: h.score, item: items.get(h.id) ?? null })),
    });
  });

  app.get('/v1/subscribe/:kind/:subjectId', { preHandler: authorize('read') }, async (req, reply) => {
    const params = req.params as { kind: string; subjectId: string };
    const kind = parseWith(z.enum(REC_KINDS), params.kind, 'kind');
    const subjectId = parseWith(Identifier, params.subjectId, 'subjectId');
    const key = recKey(kind, subjectId);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    // Node sends the headers with the first write: write a comment now, so a subscriber to a list
    // that does not exist yet knows at once that it is subscribed (not after the first keep-alive).
    const write = (chunk: string): void => void (res.writableEnded || res.destroyed || res.write(chunk));
    write(': subscribed\n\n');
    const send = (event: string, data: string): void => write(`event: ${event}\ndata: ${data}\n\n`);
    const unsubscribe = deps.feed.subscribe(key, (u) => (u === null ? send('deleted', JSON.stringify({ key })) : send('update', JSON.stringify(u))));
    const ping = setInterval(() => write(': ping\n\n'), 15_000);
    // Before the first await: a subscriber gone while the stored list is read must not stay subscribed.
    res.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
    try {
      const current = await deps.serving.listJson(kind, subjectId);
      if (current !== undefined) send('update', current);
    } catch (err) {
      // The status line is sent: say what happened in the stream, and end it (EventSource reconnects).
      deps.logger.warn({ err, key }, 'subscription: reading the stored list failed');
      send('error', JSON.stringify(errorBody('UNAVAILABLE', 'the stored list could not be read; reconnect')));
      res.end();
    }
  });

  return app;
}

/** JSON has no undefined, but `{ eventId: null }` should mean "assign one" as much as a missing key. */
function withoutUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));
}

function prefixIssues(err: unknown, index: number): unknown {
  if (!(err instanceof ValidationError)) return err;
  return new ValidationError(`event ${index}: ${err.message}`, err.issues.map((i) => ({ path: `events.${index}.${i.path}`, message: i.message })));
}
