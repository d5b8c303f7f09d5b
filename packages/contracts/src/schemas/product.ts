import { z } from 'zod';
import { Identifier, Timestamp, dictionary, multilineText, text } from '../normalize';

export const AVAILABILITY = ['in_stock', 'out_of_stock', 'preorder', 'discontinued'] as const;
export const Availability = z.enum(AVAILABILITY);
export type Availability = z.output<typeof Availability>;

/** At most this many catalog-supplied attributes per product. */
export const MAX_PRODUCT_ATTRIBUTES = 64;

/**
 * A product as the catalog publishes it on `catalog.products.v1` (key: productId).
 * All strings are normalized (NFC, invisible characters removed, whitespace collapsed).
 */
export const ProductUpsert = z.object({
  type: z.literal('product.upsert'),
  /** Unique per published change; replays of the same change carry the same id. */
  eventId: Identifier,
  productId: Identifier,
  title: text(1, 512),
  description: multilineText(8192).default(''),
  brand: text(1, 128).optional(),
  /** Root first, e.g. ["Home", "Kitchen", "Mugs"]. */
  categoryPath: z.array(text(1, 128)).max(12, 'at most 12 levels').default([]),
  price: z.number().finite().nonnegative().max(1e9, 'at most 1e9'),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'an ISO-4217 code such as GBP')
    .transform((s) => s.toUpperCase()),
  availability: Availability.default('in_stock'),
  /** Attributes the catalog already knows; extraction never overrides them. */
  attributes: dictionary(text(1, 64), text(1, 256), { max: MAX_PRODUCT_ATTRIBUTES, what: 'attributes' }).optional(),
  imageUrl: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  seller: text(1, 128).default('default'),
  /** Newer wins: an upsert or delete with an older `updatedAt` than the stored one is a no-op. */
  updatedAt: Timestamp,
});
export type ProductUpsert = z.output<typeof ProductUpsert>;
export type ProductUpsertInput = z.input<typeof ProductUpsert>;

/**
 * An explicit delete. A Kafka tombstone (null value) for the key means the same;
 * consumers turn it into this shape using the record timestamp.
 */
export const ProductDelete = z.object({
  type: z.literal('product.delete'),
  eventId: Identifier,
  productId: Identifier,
  updatedAt: Timestamp,
});
export type ProductDelete = z.output<typeof ProductDelete>;

export const CatalogEvent = z.discriminatedUnion('type', [ProductUpsert, ProductDelete]);
export type CatalogEvent = z.output<typeof CatalogEvent>;
export type CatalogEventInput = z.input<typeof CatalogEvent>;
