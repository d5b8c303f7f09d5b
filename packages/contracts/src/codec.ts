import { isUtf8 } from 'node:buffer';
import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from './errors';
import { BehaviourEmbedding } from './schemas/behaviour-embedding';
import { EnrichedProduct } from './schemas/enriched-product';
import { Interaction } from './schemas/interaction';
import { CatalogEvent, ProductDelete } from './schemas/product';
import { RecommendationUpdate } from './schemas/recommendation';
import { MAX_MESSAGE_BYTES, type TopicId } from './topics';
import { wireReplacer } from './vector-codec';

/** The parts of a Kafka record a decoder looks at (structurally a kafkajs `KafkaMessage`). */
export interface RawMessage {
  key: Buffer | null;
  value: Buffer | null;
  /** Record timestamp, epoch ms as a decimal string (kafkajs convention). */
  timestamp: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

export type Decoder<T> = (message: RawMessage) => T;


function describeIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

/** Bytes → JSON value. Never throws anything but {@link ValidationError}. */
export function parseJsonBytes(bytes: Uint8Array, maxBytes: number = MAX_MESSAGE_BYTES): unknown {
  if (bytes.byteLength > maxBytes) {
    throw new ValidationError(`message is ${bytes.byteLength} bytes, above the ${maxBytes}-byte limit`, [{ path: '(root)', message: 'too large' }]);
  }
  // isUtf8 is a SIMD scan; decoding with a fatal TextDecoder costs as much as JSON.parse.
  if (!isUtf8(bytes)) throw new ValidationError('message is not valid UTF-8', [{ path: '(root)', message: 'invalid UTF-8' }]);
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as unknown;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new ValidationError(`message is not valid JSON: ${detail.slice(0, 200)}`, [{ path: '(root)', message: 'invalid JSON' }]);
  }
}

/** JSON value → typed event. Never throws anything but {@link ValidationError}. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = 'event'): z.output<S> {
  let result: ReturnType<S['safeParse']>;
  try {
    result = schema.safeParse(value) as ReturnType<S['safeParse']>;
  } catch (err) {
    // zod does not throw on data, but a pathological input (deep nesting) can exhaust the stack.
    throw new ValidationError(`${what} could not be validated: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!result.success) {
    const issues = describeIssues(result.error);
    const first = issues[0];
    throw new ValidationError(`invalid ${what}: ${first ? `${first.path}: ${first.message}` : 'schema mismatch'}${issues.length > 1 ? ` (+${issues.length - 1} more)` : ''}`, issues);
  }
  return result.data as z.output<S>;
}

export function headerString(message: RawMessage, name: string): string | undefined {
  const h = message.headers?.[name];
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.toString('utf8');
}

function keyString(message: RawMessage): string | undefined {
  return message.key === null ? undefined : message.key.toString('utf8');
}

/**
 * A key as an error message quotes it: whole when short, else its start and size. A message is
 * kept to 4096 characters in a DLQ record, and a 64 KiB key quoted whole would leave no room
 * for what is wrong with it.
 */
function quoteKey(key: string | undefined): string {
  if (key === undefined) return 'null';
  return key.length <= 128 ? JSON.stringify(key) : `${JSON.stringify(key.slice(0, 64))}… (${Buffer.byteLength(key)} bytes)`;
}

function requireKeyMatches(message: RawMessage, expected: string, field: string): void {
  const key = keyString(message);
  if (key !== expected) {
    throw new ValidationError(`record key ${quoteKey(key)} does not match ${field} ${JSON.stringify(expected)}; producers must key by ${field} so ordering holds`, [
      { path: '(key)', message: `must equal ${field}` },
    ]);
  }
}

/** A null-value record for `key` is a delete; its id and time come from headers or the record. */
function tombstoneToDelete(message: RawMessage): ProductDelete {
  const productId = keyString(message);
  const ts = Number(headerString(message, 'ts') ?? message.timestamp);
  return parseWith(
    ProductDelete,
    {
      type: 'product.delete',
      eventId: headerString(message, 'event-id') ?? `tombstone-${productId ?? ''}-${message.timestamp}`,
      productId,
      updatedAt: ts,
    },
    'tombstone',
  );
}

function jsonDecoder<S extends z.ZodType>(schema: S, what: string): Decoder<z.output<S>> {
  return (message) => {
    if (message.value === null) throw new ValidationError(`${what}: unexpected tombstone (null value)`, [{ path: '(root)', message: 'null value' }]);
    return parseWith(schema, parseJsonBytes(message.value), what);
  };
}

/** Default of how far ahead of the receiving clock an event time may be (EVENT_MAX_FUTURE_SKEW_MS): one day. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = 24 * 3600 * 1000;

export interface EventTimeOptions {
  /** How far an event time may be ahead of `now()`. @defaultValue DEFAULT_MAX_FUTURE_SKEW_MS */
  maxFutureSkewMs?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/**
 * Rejects an event whose time (a catalog event's `updatedAt`, an interaction's `ts`) is more
 * than `maxFutureSkewMs` ahead of this clock: a product version "updated in 2099" would win
 * over every real update after it, and a trending score decayed forward from 2099 would never
 * fade. Past times are always accepted (historic logs, replays). Returns the event.
 */
export function requireNotFuture<E extends CatalogEvent | Interaction>(event: E, options: EventTimeOptions = {}, what = 'event'): E {
  const [field, ts] = 'ts' in event ? ['ts', event.ts] : ['updatedAt', event.updatedAt];
  const now = (options.now ?? Date.now)();
  const skew = options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
  if (ts > now + skew) {
    const message = `${field} ${new Date(ts).toISOString()} is more than ${skew} ms ahead of now (${new Date(now).toISOString()})`;
    throw new ValidationError(`${what}: ${message}; a time in the future would win over every real update (check the producer's clock and units)`, [{ path: field, message: `at most ${skew} ms in the future` }]);
  }
  return event;
}

/** Catalog events (tombstones become deletes); `options` bound how far in the future their `updatedAt` may be. */
export function catalogEventDecoder(options: EventTimeOptions = {}): Decoder<CatalogEvent> {
  return (message) => {
    if (message.value === null) return requireNotFuture(tombstoneToDelete(message), options, 'tombstone');
    const event = parseWith(CatalogEvent, parseJsonBytes(message.value), 'catalog event');
    requireKeyMatches(message, event.productId, 'productId');
    return requireNotFuture(event, options, 'catalog event');
  };
}

export const decodeCatalogEvent: Decoder<CatalogEvent> = catalogEventDecoder();

export type EnrichedEvent = EnrichedProduct | ProductDelete;

export const decodeEnrichedEvent: Decoder<EnrichedEvent> = (message) => {
  if (message.value === null) return tombstoneToDelete(message);
  const event = parseWith(EnrichedProduct, parseJsonBytes(message.value), 'enriched product');
  requireKeyMatches(message, event.productId, 'productId');
  return event;
};

/** Interactions keyed by user; `options` bound how far in the future their `ts` may be. */
export function interactionDecoder(options: EventTimeOptions = {}): Decoder<Interaction> {
  const decode = jsonDecoder(Interaction, 'interaction');
  return (message) => {
    const event = decode(message);
    requireKeyMatches(message, event.userId, 'userId');
    return requireNotFuture(event, options, 'interaction');
  };
}

export const decodeInteraction: Decoder<Interaction> = interactionDecoder();

export const decodeBehaviourEmbedding: Decoder<BehaviourEmbedding> = jsonDecoder(BehaviourEmbedding, 'behaviour embedding');
export const decodeRecommendationUpdate: Decoder<RecommendationUpdate> = jsonDecoder(RecommendationUpdate, 'recommendation update');

export const DECODERS = {
  catalog: decodeCatalogEvent,
  enriched: decodeEnrichedEvent,
  interactions: decodeInteraction,
  behaviour: decodeBehaviourEmbedding,
  recs: decodeRecommendationUpdate,
} satisfies Record<TopicId, Decoder<unknown>>;

/** Serializes an event (Float32Arrays as base64 float32) and enforces the size limit. */
export function encodeJson(value: unknown, maxBytes: number = MAX_MESSAGE_BYTES): Buffer {
  const buf = Buffer.from(JSON.stringify(value, wireReplacer), 'utf8');
  if (buf.byteLength > maxBytes) {
    throw new ValidationError(`encoded message is ${buf.byteLength} bytes, above the ${maxBytes}-byte limit`);
  }
  return buf;
}
