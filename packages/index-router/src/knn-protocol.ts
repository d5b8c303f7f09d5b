import { Identifier, WireVector, dictionary } from '@affinity/contracts';
import { z } from 'zod';

const Strings = z.union([z.string().max(256), z.array(z.string().max(256)).max(64)]);

/** Attribute filter, as in `@affinity/vector-index` SearchFilter. */
export const KnnFilter = z
  .object({
    categoryPath: z.array(z.string().max(128)).max(12).optional(),
    brand: Strings.optional(),
    price: z.object({ min: z.number().finite().optional(), max: z.number().finite().optional() }).optional(),
    availability: z.union([z.enum(['in_stock', 'out_of_stock', 'preorder', 'discontinued']), z.array(z.enum(['in_stock', 'out_of_stock', 'preorder', 'discontinued']))]).optional(),
    attributes: dictionary(z.string().max(64), Strings).optional(),
  })
  .strict();
export type KnnFilter = z.output<typeof KnnFilter>;

/** POST /knn on an indexer instance. */
export const KnnRequest = z.object({
  modelId: z.string().min(1).max(128),
  vector: WireVector,
  k: z.number().int().min(1).max(1000),
  filter: KnnFilter.optional(),
  ef: z.number().int().min(1).max(4096).optional(),
  /** Shards (partitions) to search; all the instance owns when absent. */
  partitions: z.array(z.number().int().nonnegative()).max(1024).optional(),
  /** Ids to leave out (e.g. the query item itself). */
  exclude: z.array(Identifier).max(1000).optional(),
});
export type KnnRequest = z.output<typeof KnnRequest>;
export type KnnRequestInput = z.input<typeof KnnRequest>;

export const KnnHit = z.object({ id: z.string(), score: z.number(), partition: z.number().int() });
export type KnnHit = z.output<typeof KnnHit>;

export const KnnResponse = z.object({
  hits: z.array(KnnHit),
  /** Partitions searched. */
  answered: z.array(z.number().int()),
  /** Requested partitions this instance does not hold (or has not finished restoring). */
  missing: z.array(z.number().int()),
});
export type KnnResponse = z.output<typeof KnnResponse>;
