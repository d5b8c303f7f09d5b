import { z } from 'zod';
import { Identifier, Timestamp } from '../normalize';

export const INTERACTION_TYPES = ['view', 'click', 'add_to_cart', 'purchase', 'rating'] as const;
export const InteractionType = z.enum(INTERACTION_TYPES);
export type InteractionType = z.output<typeof InteractionType>;

/** A shopper's action on `interactions.v1` (key: userId, so a user's events stay ordered). */
export const Interaction = z
  .object({
    type: InteractionType,
    eventId: Identifier,
    userId: Identifier,
    productId: Identifier,
    sessionId: Identifier,
    /** Purchases of one order share it; co-purchase statistics group by it. */
    orderId: Identifier.optional(),
    quantity: z.number().int().min(1).max(10_000).optional(),
    /** 1..5, required for `rating`, forbidden otherwise. */
    rating: z.number().min(1).max(5).optional(),
    ts: Timestamp,
  })
  .superRefine((e, ctx) => {
    if (e.type === 'rating' && e.rating === undefined) {
      ctx.addIssue({ code: 'custom', path: ['rating'], message: 'required when type is rating' });
    }
    if (e.type !== 'rating' && e.rating !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['rating'], message: 'only allowed when type is rating' });
    }
  });
export type Interaction = z.output<typeof Interaction>;
export type InteractionInput = z.input<typeof Interaction>;
