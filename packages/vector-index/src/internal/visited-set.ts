/**
 * "Visited" marks for graph traversal that clear in O(1): each search bumps an epoch and a
 * slot counts as visited when its tag equals the epoch (the hnswlib VisitedList trick).
 */
export class VisitedSet {
  private tags: Uint16Array;
  private epoch = 0;

  constructor(capacity: number) {
    this.tags = new Uint16Array(capacity);
  }

  ensureCapacity(capacity: number): void {
    if (capacity <= this.tags.length) return;
    const next = new Uint16Array(capacity);
    next.set(this.tags);
    this.tags = next;
  }

  /** Starts a new traversal: every slot becomes unvisited. */
  reset(): void {
    this.epoch++;
    if (this.epoch === 0x10000) {
      this.tags.fill(0);
      this.epoch = 1;
    }
  }

  /** Marks `slot`; returns true when it was not yet visited in this traversal. */
  visit(slot: number): boolean {
    if (this.tags[slot] === this.epoch) return false;
    this.tags[slot] = this.epoch;
    return true;
  }

  get byteLength(): number {
    return this.tags.byteLength;
  }
}
