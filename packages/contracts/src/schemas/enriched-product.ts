import { z } from 'zod';
import { Identifier, Timestamp, text } from '../normalize';
import { Embedding } from '../vector-codec';
import { ProductUpsert } from './product';

export const ATTRIBUTE_SOURCES = ['catalog', 'pattern', 'vocabulary', 'zero-shot'] as const;

/** One extracted attribute value with where it came from. */
export const ExtractedAttribute = z.object({
  /** Attribute name from the category schema, lower_snake_case (brand, color, capacity, ...). */
  name: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'lower_snake_case, at most 64 characters'),
  /** Normalized value (for measures: canonical unit, e.g. "500 ml"). */
  value: text(1, 256),
  /** The text as it appears in the source field. */
  raw: z.string().max(512).optional(),
  field: z.enum(['title', 'description', 'catalog']),
  /** [start, end) character offsets into the normalized field. */
  span: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]).refine(([a, b]) => b >= a, 'end before start'),
  confidence: z.number().min(0).max(1),
  source: z.enum(ATTRIBUTE_SOURCES),
});
export type ExtractedAttribute = z.output<typeof ExtractedAttribute>;

/** `products.enriched.v1` (key: productId). Deletes are Kafka tombstones with `event-id` and `ts` headers. */
export const EnrichedProduct = z.object({
  type: z.literal('product.enriched'),
  /** Derived deterministically from the source event id, so a replay is recognisably the same event. */
  eventId: Identifier,
  sourceEventId: Identifier,
  productId: Identifier,
  product: ProductUpsert.omit({ type: true }),
  /** sha256 (hex) of the text that was embedded. */
  contentHash: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 hex'),
  attributes: z.array(ExtractedAttribute).max(128, 'at most 128 attributes'),
  embedding: Embedding,
  /** When the source event entered the pipeline (its updatedAt), for freshness metrics. */
  sourceTs: Timestamp,
  enrichedAt: Timestamp,
});
export type EnrichedProduct = z.output<typeof EnrichedProduct>;
export type EnrichedProductInput = z.input<typeof EnrichedProduct>;
