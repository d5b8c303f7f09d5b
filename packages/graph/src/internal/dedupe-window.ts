/**
 * The last `capacity` event ids seen, oldest evicted first. A cheap first line against
 * at-least-once redelivery; the worker's Redis dedupe set is the unbounded one.
 */
export class DedupeWindow {
  private readonly ids = new Set<string>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.ids.size;
  }

  /** True when `id` is new (and remembers it), false when it was seen in the window. */
  admit(id: string): boolean {
    if (this.capacity === 0) return true;
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next();
      if (oldest.done !== true) this.ids.delete(oldest.value);
    }
    return true;
  }

  /** Oldest first, so restoring preserves eviction order. */
  toArray(): string[] {
    return [...this.ids];
  }

  load(ids: readonly string[]): void {
    this.ids.clear();
    for (const id of ids.slice(Math.max(0, ids.length - this.capacity))) this.ids.add(id);
  }
}
