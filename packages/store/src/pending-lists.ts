import type { KeySpace } from './key-space';

/** The recommender's two queues of lists to recompute: what someone just did, and background refreshes. */
export const LIST_PRIORITIES = ['high', 'low'] as const;
export type ListPriority = (typeof LIST_PRIORITIES)[number];

/**
 * The sorted set of lists waiting to be recomputed at one priority (due or leased), by due time:
 * `<REDIS_PREFIX>:recs:pending:<priority>`. The recommender's `TriggerQueue` writes it; whoever
 * asks whether the pipeline has caught up reads its size. One definition so the two cannot drift.
 */
export function pendingListsKey(keys: KeySpace, priority: ListPriority): string {
  return keys.key('recs', 'pending', priority);
}
