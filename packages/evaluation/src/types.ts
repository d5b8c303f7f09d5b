import type { Interaction, ProductUpsert } from '@affinity/contracts';

/** A real log prepared for evaluation: a catalog and its interactions, oldest first. */
export interface EvalDataset {
  name: string;
  /** One sentence: what the log is and how it was turned into events. */
  description: string;
  /** Where the data comes from and under what terms. */
  attribution: string;
  products: ProductUpsert[];
  /** Validated interactions in event-time order. */
  events: Interaction[];
  /** The task whose metric decides whether the pipeline beats the baselines on this log. */
  main: { task: TaskName; metric: MetricName };
  /** The tasks this log can answer honestly (all when absent): a log whose shoppers are synthetic has no personalized task. */
  tasks?: readonly TaskName[];
}

export const TASKS = ['basket', 'next-basket', 'next-items', 'session', 'cold-items', 'cold-users'] as const;
/**
 * - `basket`: next-in-basket. Each item of a held-out basket is hidden in turn and predicted
 *   from the complementary lists of the rest of the basket.
 * - `next-basket`: a shopper's first held-out basket, from their personalized list at the split.
 * - `next-items`: everything a shopper touches after the split, from the same list.
 * - `session`: the next distinct item of a held-out browsing session, from the similar list
 *   of the current one.
 * - `cold-items`: items with no behaviour before the split: their complementary list against the
 *   rest of the held-out basket they appear in (their similar list against the next item of a session).
 * - `cold-users`: shoppers first seen after the split: their personalized list against their items.
 */
export type TaskName = (typeof TASKS)[number];

export const CUTOFFS = [10, 20] as const;
export type MetricName = `${'recall' | 'ndcg' | 'mrr'}@${(typeof CUTOFFS)[number]}`;

/** One evaluation question: which list to read, and which items the shopper then chose. */
export interface Query {
  task: TaskName;
  /** The list(s) to read: complementary lists of `anchors`, the personalized list of `user`, the similar list of `item`. */
  list: { kind: 'complementary'; anchors: string[] } | { kind: 'personalized'; user: string } | { kind: 'similar'; item: string };
  targets: ReadonlySet<string>;
  /** Items the shopper already has in view (the rest of the basket, the current item): never counted. */
  known: ReadonlySet<string>;
  /** A label for per-segment results (history length, popularity of the hidden item...). */
  segment: string;
}

export interface RankedItem {
  productId: string;
  score: number;
  /** The source that carried the item (pipeline only: the first reason code). */
  source?: string;
}

/** A method under evaluation: the production pipeline or a baseline. */
export interface Method {
  readonly name: string;
  readonly kind: 'pipeline' | 'baseline';
  /** Learns from the training events (and the whole catalog). */
  fit(train: TrainingData): Promise<void>;
  /** A ranked list for the query's list kind; an empty array is an empty list. */
  recommend(query: Query, k: number): Promise<RankedItem[]>;
  close?(): Promise<void>;
}

/** The training part of a split, with the views the baselines use prebuilt. */
export interface TrainingData {
  products: readonly ProductUpsert[];
  events: readonly Interaction[];
  /** Event time of the split: every training event is older. */
  splitTs: number;
}
