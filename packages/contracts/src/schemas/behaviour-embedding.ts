import { z } from 'zod';
import { Identifier, Timestamp } from '../normalize';
import { Embedding } from '../vector-codec';

/**
 * `embeddings.behaviour.v1` (key: `<nodeKind>:<nodeId>`, compacted): the latest FastRP
 * vector of a user or item. Published only when it moved more than the worker's epsilon.
 */
export const BehaviourEmbedding = z.object({
  type: z.literal('behaviour.embedding'),
  eventId: Identifier,
  nodeKind: z.enum(['item', 'user']),
  nodeId: Identifier,
  embedding: Embedding,
  /** Interaction events whose effect this vector includes (the last few), for tracing. */
  causeEventIds: z.array(Identifier).max(100).default([]),
  /** Timestamp of the newest interaction folded in. */
  sourceTs: Timestamp,
  updatedAt: Timestamp,
});
export type BehaviourEmbedding = z.output<typeof BehaviourEmbedding>;
export type BehaviourEmbeddingInput = z.input<typeof BehaviourEmbedding>;
