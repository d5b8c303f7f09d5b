/**
 * "Visited" marks for graph traversal that clear in O(1): each search bumps an epoch and a
 * slot counts as visited when its tag equals the epoch (the hnswlib VisitedList trick).
 * The tags live in the graph's row store (wasm memory), where the wasm layer-0 search marks
 * them too; they are read through the store because its views change when it grows.
 */
export class VisitedSet {
  epoch = 0;

  constructor(private readonly store: { readonly tags: Uint16Array }) {}

  /** Starts a new traversal: every slot becomes unvisited. Returns the new epoch. */
  reset(): number {
    this.epoch++;
    if (this.epoch === 0x10000) {
      this.store.tags.fill(0);
      this.epoch = 1;
    }
    return this.epoch;
  }

  /** Marks `slot`; returns true when it was not yet visited in this traversal. */
  visit(slot: number): boolean {
    const tags = this.store.tags;
    if (tags[slot] === this.epoch) return false;
    tags[slot] = this.epoch;
    return true;
  }
}
