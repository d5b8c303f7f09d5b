/**
 * Drill (issue #12 "Done when"): hostile input on every input topic of the real services.
 *
 * One pipeline — enricher, indexer, graph and recommender, each its own process — reads
 * catalog.products.v1 (enricher), products.enriched.v1 (indexer, recommender),
 * interactions.v1 (graph, recommender) and embeddings.behaviour.v1 (recommender). The drill
 * writes oversized and malformed records to each, between valid records and replays, then
 * property-generated hostile keys and strings. The contracts' decoders say which records are
 * accepted; every rejected record must reach the DLQ once per group that reads it, bounded and
 * faithful, and every accepted one must take effect exactly once (test/support/drills.ts).
 *
 * What test/stream-consumer.test.ts covers already (a 400 KiB record through a bare
 * BatchConsumer on the catalog; a DLQ the broker refuses) is not repeated; this adds the other
 * topics, the real services, sizes beyond a fetch, and what a producer can get wrong.
 */
import { randomBytes } from 'node:crypto';
import { INTERACTION_TYPES, encodeJson, type ProductUpsertInput } from '@affinity/contracts';
import { uciProducts } from '@affinity/sample-data';
import fc from 'fast-check';
import type { IHeaders } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InputTopic, type RawRecord, DrillPipeline } from '../support/drills';
import { enrichedProduct, numberedInteraction, seeded, unitVector, userBehaviour } from '../support/fixtures';

const KiB = 1024;
const BASE_TS = 1_700_000_000_000;
let d: DrillPipeline;

beforeAll(async () => {
  d = await DrillPipeline.open('drill-input', {
    services: ['enricher', 'indexer', 'graph', 'recommender'],
    partitions: { catalog: 3, interactions: 3, enriched: 3, behaviour: 3, recs: 3 },
  });
});

afterAll(async () => {
  await d?.close();
});

/** JSON of any size (the codecs' own encoder refuses above the limit, which is the point here). */
const json = (v: unknown): Buffer => encodeJson(v, Number.POSITIVE_INFINITY);

/** 100 headers with built-in member names and 2 KiB values: the DLQ keeps 32, each cut to 512 characters. */
function hostileHeaders(): IHeaders {
  const h = Object.create(null) as IHeaders;
  for (const name of ['__proto__', 'constructor', 'toString', ...Array.from({ length: 97 }, (_, i) => `h${i}`)]) h[name] = `${name}=`.padEnd(2 * KiB, 'v');
  return h;
}

interface Bad {
  label: string;
  record: RawRecord;
  why: RegExp;
}

/** What is wrong the same way on every topic; `key` and `event` are a valid record to spoil. */
function malformed(key: string, event: object): Bad[] {
  const valid = json(event);
  return [
    { label: '400 KiB of random bytes', record: { key, value: randomBytes(400 * KiB) }, why: /not valid UTF-8/ },
    { label: 'a valid event padded to 600 KiB', record: { key, value: json({ ...event, padding: 'x'.repeat(600 * KiB) }) }, why: /above the 524288-byte limit/ },
    // Above kafkajs' 1 MiB fetch per partition and the broker's default message.max.bytes.
    { label: 'a valid event padded to 2 MiB', record: { key, value: json({ ...event, padding: 'x'.repeat(2048 * KiB) }) }, why: /above the 524288-byte limit/ },
    { label: 'truncated JSON with 100 hostile headers', record: { key, value: valid.subarray(0, valid.length >> 1), headers: hostileHeaders() }, why: /not valid JSON/ },
    { label: 'invalid UTF-8 inside a string', record: { key, value: Buffer.concat([Buffer.from('{"type":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]) }, why: /not valid UTF-8/ },
    { label: 'an empty value', record: { key, value: Buffer.alloc(0) }, why: /not valid JSON/ },
    { label: 'arrays nested 100,000 deep', record: { key, value: `${'['.repeat(100_000)}${']'.repeat(100_000)}` }, why: /expected object, received array/ },
    { label: 'an unknown type', record: { key, value: json({ ...event, type: 'teleport' }) }, why: /type: Invalid/ },
  ];
}

/** A record whose key is not its id, and one whose key is 64 KiB (the DLQ keeps its first 1 KiB). */
function misKeyed(event: object): Bad[] {
  return [
    { label: 'a key that is not its id', record: { key: 'someone-else', value: json(event) }, why: /does not match/ },
    { label: 'a 64 KiB key', record: { key: 'k'.repeat(64 * KiB), value: json(event) }, why: /does not match/ },
  ];
}

const future = (): number => Date.now() + 3 * 24 * 3600 * 1000;
const products = uciProducts().slice(0, 16);
const rnd = seeded(1212);

/** The i-th valid record of each topic: few ids, so later records are newer versions of earlier ones. */
const valid: Record<InputTopic, (i: number) => { key: string; event: object }> = {
  catalog: (i) => {
    const p = products[i % products.length]!;
    const event: ProductUpsertInput = { ...p, eventId: `${p.eventId}-v${i}`, price: 1 + i / 100, updatedAt: BASE_TS + i };
    return { key: p.productId, event };
  },
  enriched: (i) => ({ key: `de-${i % 8}`, event: enrichedProduct(`de-${i % 8}`, unitVector(16, rnd), { version: i }) }),
  interactions: (i) => {
    const event = numberedInteraction('d', i, 7, 11);
    return { key: event.userId, event };
  },
  behaviour: (i) => ({ key: `user:db${i % 5}`, event: userBehaviour(`db${i % 5}`, `dbe-${i}`, BASE_TS + i, unitVector(16, rnd)) }),
};

/** Every way a record on `topic` can be wrong that the drill knows of. */
function badRecords(topic: InputTopic): Bad[] {
  const { key, event } = valid[topic](0);
  const e = event as Record<string, unknown>;
  const nan = Buffer.from(new Float32Array(16).fill(Number.NaN).buffer).toString('base64');
  switch (topic) {
    case 'catalog':
      return [
        ...malformed(key, event),
        ...misKeyed(event),
        { label: 'a tombstone with an empty key (a compacted topic refuses a null one)', record: { key: '', value: null }, why: /invalid tombstone: productId: must not be empty/ },
        { label: 'updatedAt three days ahead', record: { key, value: json({ ...e, updatedAt: future() }) }, why: /ahead of now/ },
        { label: 'a date that does not exist', record: { key, value: json({ ...e, updatedAt: '2024-02-30T00:00:00Z' }) }, why: /does not exist/ },
        { label: 'a lone surrogate in the title', record: { key, value: Buffer.from(json(e).toString().replace(/"title":"/, '"title":"\\ud800')) }, why: /lone surrogate/ },
        { label: 'a 100 kB description', record: { key, value: json({ ...e, description: 'd'.repeat(100_000) }) }, why: /at most 8192 characters/ },
      ];
    case 'enriched':
      return [
        ...malformed(key, event),
        ...misKeyed(event),
        { label: 'a tombstone with an empty key (a compacted topic refuses a null one)', record: { key: '', value: null }, why: /invalid tombstone: productId: must not be empty/ },
        { label: 'a vector of NaN', record: { key, value: json({ ...e, embedding: { modelId: 'test-model', dim: 16, vector: nan } }) }, why: /not finite/ },
        { label: 'a vector shorter than its dim', record: { key, value: json({ ...e, embedding: { modelId: 'test-model', dim: 17, vector: unitVector(16, rnd) } }) }, why: /does not match dim/ },
      ];
    case 'interactions':
      return [
        ...malformed(key, event),
        ...misKeyed(event),
        { label: 'a tombstone', record: { key, value: null }, why: /unexpected tombstone/ },
        { label: 'ts three days ahead', record: { key, value: json({ ...e, ts: future() }) }, why: /ahead of now/ },
        { label: 'userId __proto__', record: { key: '__proto__', value: json({ ...e, userId: '__proto__' }) }, why: /userId: letters, digits/ },
        { label: 'a negative quantity', record: { key, value: json({ ...e, quantity: -5 }) }, why: /quantity/ },
      ];
    case 'behaviour':
      return [
        ...malformed(key, event),
        { label: 'a tombstone', record: { key, value: null }, why: /unexpected tombstone/ },
        { label: 'a vector of NaN', record: { key, value: json({ ...e, embedding: { modelId: 'fastrp-d16', dim: 16, vector: nan } }) }, why: /not finite/ },
        { label: 'nodeKind planet', record: { key, value: json({ ...e, nodeKind: 'planet' }) }, why: /nodeKind/ },
      ];
  }
}

const TOPICS: readonly InputTopic[] = ['catalog', 'enriched', 'interactions', 'behaviour'];
const record = (topic: InputTopic, i: number): RawRecord => {
  const { key, event } = valid[topic](i);
  return { key, value: json(event) };
};

describe('drill: hostile input on every input topic of the real services', () => {
  it('oversized and malformed records on every input topic reach each reading group’s DLQ once, bounded; the records around them are applied exactly once', async () => {
    for (const topic of TOPICS) {
      await d.writeValid(topic, Array.from({ length: 30 }, (_, i) => record(topic, i)));
      const bad = badRecords(topic);
      for (const [j, b] of bad.entries()) {
        await d.write(topic, b.record, b.why);
        // A valid record right behind it, on the same partition when the bad one had the right key.
        await d.write(topic, record(topic, 30 + j), false);
      }
      // Replays of records already applied: same event ids, same versions.
      await d.writeValid(topic, Array.from({ length: 10 }, (_, i) => record(topic, i)));
    }
    // Deletes: a tombstone (id and time in headers) and an explicit delete, newer than every version.
    const [gone, alsoGone] = [products[0]!.productId, products[1]!.productId];
    await d.write('catalog', { key: gone, value: null, headers: { 'event-id': `del-${gone}`, ts: String(BASE_TS + 10_000) } }, false);
    await d.write('catalog', { key: alsoGone, value: json({ type: 'product.delete', eventId: `del-${alsoGone}`, productId: alsoGone, updatedAt: BASE_TS + 10_000 }) }, false);

    await d.verify();
    expect(d.catalog.get(gone)?.type).toBe('product.delete');
    expect(d.interactions.size).toBe(30 + badRecords('interactions').length);
  });

  it('hostile keys and strings (property): whatever the contracts accept is applied exactly once downstream, whatever they reject is in the DLQ, and no service stops', async () => {
    let seq = 0;
    let accepted = 0;
    let rejected = 0;
    // Event ids that are Object.prototype member names and valid identifiers, each used once.
    const memberIds = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', 'prototype'];
    const eventIds = { catalog: [...memberIds], interactions: [...memberIds] };
    const eventId = (topic: 'catalog' | 'interactions', hostile: boolean): string => (hostile && eventIds[topic].shift()) || `h-${topic}-${seq}`;

    await fc.assert(
      fc.asyncProperty(fc.array(productArb, { minLength: 10, maxLength: 25 }), fc.array(interactionArb, { minLength: 15, maxLength: 40 }), async (ps, is) => {
        for (const p of ps) {
          seq++;
          const { value, productId } = productJson(p, eventId('catalog', p.hostileEventId), seq);
          const r = await d.write('catalog', { key: p.keyIsId ? productId : p.otherKey, value });
          if (r.rejected) rejected++;
          else accepted++;
        }
        for (const x of is) {
          seq++;
          const event = interactionEvent(x, eventId('interactions', x.hostileEventId), seq);
          const r = await d.write('interactions', { key: x.keyIsUser ? x.userId : x.otherKey, value: JSON.stringify(event) });
          if (r.rejected) rejected++;
          else accepted++;
        }
        await d.verify();
      }),
      { numRuns: Number(process.env.DRILL_RUNS ?? 5), endOnFailure: true, ...(process.env.DRILL_SEED ? { seed: Number(process.env.DRILL_SEED) } : {}) },
    );
    // The generators must exercise both outcomes, or the drill proves little.
    expect(accepted, `accepted ${accepted}, rejected ${rejected}`).toBeGreaterThan(10);
    expect(rejected, `accepted ${accepted}, rejected ${rejected}`).toBeGreaterThan(10);
  });
});

/** What an arbitrary draws. */
type Drawn<A> = A extends fc.Arbitrary<infer T> ? T : never;

const BUILT_IN = [...Object.getOwnPropertyNames(Object.prototype), 'prototype'];
/** Identifiers that are valid but awkward: member names, Redis and path separators, the longest allowed. */
const AWKWARD_IDS = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'prototype', 'user:1:items', 'a/../b', 'x@y', 'A.B', '9', 'e+1', '-', 'a'.repeat(128)];
const LONE_SURROGATES = fc.string({ unit: fc.constantFrom('\ud800', '\udfff', 'a', '\u0301'), minLength: 1, maxLength: 6 });
const HOSTILE_STRINGS = ['\u202eevil', 'Z̸̢̧a̶l̷g̵o̶', '🏳️‍🌈 👩‍👩‍👧‍👦', '\u0000\u0001\u001f', 'ﷺ'.repeat(200), 'ß'.repeat(600), '\t\n\r', '__proto__', '<script>alert(1)</script>', "'; DROP TABLE products;--", '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '\uFEFF', ' ', '\u200b\u200b'];

/** Ids: mostly a small pool of valid awkward ones (so ids repeat and counts add up), sometimes anything at all. */
const hostileId = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...AWKWARD_IDS) },
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,20}$/) },
  { weight: 1, arbitrary: fc.constantFrom(...BUILT_IN, 'a'.repeat(129), '', 'x y', 'ü') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
);
const hostileText = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }) },
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }) },
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 1, arbitrary: LONE_SURROGATES },
);

const productArb = fc.record({
  productId: hostileId,
  keyIsId: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  otherKey: hostileId,
  hostileEventId: fc.boolean(),
  title: hostileText,
  description: fc.option(hostileText),
  brand: fc.option(hostileText),
  categoryPath: fc.option(fc.array(hostileText, { maxLength: 4 })),
  attributes: fc.option(fc.array(fc.tuple(fc.oneof(fc.constantFrom(...BUILT_IN), hostileText), hostileText), { maxLength: 6 })),
  price: fc.oneof({ weight: 8, arbitrary: fc.double({ min: 0, max: 1e4, noNaN: true }) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1e12, Number.NaN) }),
  time: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('version', 'iso') }, { weight: 1, arbitrary: fc.constantFrom('future', 'impossible', 'seconds') }),
});

/** The product as JSON text (written by hand: a JS object would turn an attribute named __proto__ into its prototype). */
function productJson(p: Drawn<typeof productArb>, eventId: string, seq: number): { value: string; productId: string } {
  const attributes = Object.create(null) as Record<string, string>;
  for (const [k, v] of p.attributes ?? []) attributes[k] = v;
  const ms = BASE_TS + 1_000_000 + seq;
  const updatedAt = { version: ms, iso: new Date(ms).toISOString(), future: future(), impossible: '2024-02-30T00:00:00Z', seconds: Math.floor(ms / 1000) }[p.time];
  const event = {
    type: 'product.upsert',
    eventId,
    productId: p.productId,
    title: p.title,
    ...(p.description === null ? {} : { description: p.description }),
    ...(p.brand === null ? {} : { brand: p.brand }),
    ...(p.categoryPath === null ? {} : { categoryPath: p.categoryPath }),
    ...(p.attributes === null ? {} : { attributes }),
    price: p.price,
    currency: 'GBP',
    updatedAt,
  };
  return { value: JSON.stringify(event), productId: p.productId };
}

const interactionArb = fc.record({
  type: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...INTERACTION_TYPES) }, { weight: 1, arbitrary: fc.constant('teleport') }),
  userId: hostileId,
  productId: hostileId,
  sessionId: hostileId,
  orderId: fc.option(hostileId),
  quantity: fc.option(fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 10_000 }) }, { weight: 1, arbitrary: fc.constantFrom(-2, 0, 10_001, 1.5) })),
  rating: fc.option(fc.double({ min: 0, max: 6, noNaN: true })),
  keyIsUser: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  otherKey: hostileId,
  hostileEventId: fc.boolean(),
  time: fc.oneof({ weight: 12, arbitrary: fc.constant('ok') }, { weight: 1, arbitrary: fc.constantFrom('future', 'seconds') }),
});

function interactionEvent(x: Drawn<typeof interactionArb>, eventId: string, seq: number): Record<string, unknown> {
  const ms = BASE_TS + 1_000_000_000 + seq * 1000;
  return {
    type: x.type,
    eventId,
    userId: x.userId,
    productId: x.productId,
    sessionId: x.sessionId,
    ...(x.orderId === null ? {} : { orderId: x.orderId }),
    ...(x.quantity === null ? {} : { quantity: x.quantity }),
    // A rating is required for type rating and refused otherwise: mostly give it where it belongs.
    ...(x.type === 'rating' ? { rating: x.rating ?? 3 } : x.rating !== null && x.rating > 5 ? { rating: x.rating } : {}),
    ts: { ok: ms, future: future(), seconds: Math.floor(ms / 1000) }[x.time],
  };
}
