import type { Availability } from '@affinity/contracts';

/**
 * What a filter can test about an item. Strings are compared case-insensitively after NFC
 * normalization and whitespace collapsing ("Acme  Corp" matches "acme corp").
 */
export interface ItemAttributes {
  /** Root first, e.g. ["Home", "Kitchen", "Mugs"]; a filter on any prefix matches. */
  categoryPath?: readonly string[];
  brand?: string;
  /** In the shard's single currency; items without a price never match a price filter. */
  price?: number;
  availability?: Availability;
  /** Catalog and extracted attributes, name → value (or several values). */
  attributes?: Readonly<Record<string, string | readonly string[]>>;
}

/**
 * Conjunction of conditions; a list inside one condition means "any of". An absent or
 * empty condition does not constrain.
 */
export interface SearchFilter {
  /** Items whose category path starts with this path. */
  categoryPath?: readonly string[];
  brand?: string | readonly string[];
  /** Inclusive bounds. */
  price?: { min?: number; max?: number };
  availability?: Availability | readonly Availability[];
  /** Every named attribute must have one of the given values. */
  attributes?: Readonly<Record<string, string | readonly string[]>>;
}

/** How a query was (or must be) answered. */
export type SearchStrategy = 'auto' | 'exact' | 'graph';

export interface SearchOptions {
  filter?: SearchFilter;
  /**
   * Size of the candidate list of the graph search (HNSW `ef`); raised to `k` when smaller,
   * and widened for filtered queries as the share of matching items falls.
   * @defaultValue the shard's `ef` option
   */
  ef?: number;
  /**
   * `auto` chooses per query from the number of matching items: exact scan of the matches
   * when that costs fewer distance evaluations than the filtered graph search would.
   * `exact` and `graph` force a path (benchmarks, tests).
   * @defaultValue 'auto'
   */
  strategy?: SearchStrategy;
}

export interface SearchHit {
  id: string;
  /** Cosine similarity, in [-1, 1]. */
  score: number;
}

/** What a snapshot records about the stream position it reflects; extra fields are kept. */
export interface SnapshotMeta {
  /** Kafka offset of the next record to replay after restoring (int64 as a decimal string). */
  offset: string;
  partition: number;
  modelId: string;
  dim: number;
  [extra: string]: unknown;
}

export interface SnapshotInfo {
  path: string;
  bytes: number;
  /** sha256 hex of the file body (everything before the 32-byte trailer). */
  sha256: string;
  createdAt: number;
  meta: SnapshotMeta;
  size: number;
}

export interface VectorShardStats {
  /** Live vectors. */
  size: number;
  /** Slots allocated (rows the memory currently holds). */
  capacity: number;
  /** Slots ever used: live + tombstones + free. */
  slotsUsed: number;
  /** Deleted or replaced vectors not yet unlinked from the graph. */
  tombstones: number;
  /** Unlinked slots waiting for reuse. */
  freeSlots: number;
  maxLevel: number;
  memoryBytes: number;
  quantized: boolean;
  inserts: number;
  /** Upserts that only changed attributes (same vector). */
  attributeUpdates: number;
  /** Upserts that replaced the vector of an existing id. */
  replacements: number;
  deletes: number;
  consolidations: number;
  slotsReclaimed: number;
  lastConsolidationMs: number;
  searches: { graph: number; filteredGraph: number; exact: number; empty: number };
  /** Wall time spent in upsert/delete and search since construction (or restore). */
  latency: { upsert: OperationTiming; delete: OperationTiming; search: OperationTiming };
  /** Epoch ms of the last upsert or delete (freshness of the shard's content); null if none. */
  lastMutationAt: number | null;
  lastSnapshot: SnapshotInfo | null;
}

export interface OperationTiming {
  count: number;
  /** Milliseconds. */
  totalMs: number;
  maxMs: number;
}
