import { z } from 'zod';
import { Identifier, Timestamp, dictionary, text } from '../normalize';

export const REC_KINDS = ['similar', 'complementary', 'personalized', 'trending'] as const;
export const RecKind = z.enum(REC_KINDS);
export type RecKind = z.output<typeof RecKind>;

/** Why an item is on a list, e.g. {code: "co_purchase", text: "bought together 312 times", value: 312}. */
export const Reason = z.object({
  code: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/),
  text: text(1, 256),
  value: z.number().finite().optional(),
});
export type Reason = z.output<typeof Reason>;

export const RecommendedItem = z.object({
  productId: Identifier,
  score: z.number().finite(),
  reasons: z.array(Reason).min(1, 'every item needs a reason').max(16),
});
export type RecommendedItem = z.output<typeof RecommendedItem>;

export const MAX_REC_ITEMS = 200;

/** `recs.v1` (key: `<kind>:<subjectId>`, compacted): the full current list for one subject. */
export const RecommendationUpdate = z.object({
  type: z.literal('recs.update'),
  eventId: Identifier,
  kind: RecKind,
  /** productId for similar/complementary, userId for personalized, a scope ("global", a category) for trending. */
  subjectId: Identifier,
  items: z.array(RecommendedItem).max(MAX_REC_ITEMS),
  /** Model and configuration versions that produced the list, e.g. {embedding: "minilm-l6-v2-int8", fastrp: "d128-s3"}. */
  versions: dictionary(z.string().max(64), z.string().max(128)),
  generatedAt: Timestamp,
  causeEventIds: z.array(Identifier).max(100),
  /** Earliest timestamp among the causing events: generatedAt − causeTs is event-to-recommendation latency. */
  causeTs: Timestamp.optional(),
});
export type RecommendationUpdate = z.output<typeof RecommendationUpdate>;
export type RecommendationUpdateInput = z.input<typeof RecommendationUpdate>;

export function recKey(kind: RecKind, subjectId: string): string {
  return `${kind}:${subjectId}`;
}
