/**
 * The last `capacity` event ids seen, oldest evicted first. A cheap first line against
 * at-least-once redelivery; the worker's Redis dedupe set is the unbounded one.
 *
 * A ring of ids plus a Set: evicting through a Set's iterator would be quadratic in V8
 * (deleted entries at the front are skipped on every `values().next()`).
 */
export class DedupeWindow {
  private readonly ids = new Set<string>();
  private readonly ring: Array<string | undefined>;
  private pos = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<string | undefined>(capacity);
  }

  get size(): number {
    return this.ids.size;
  }

  /** True when `id` is new (and remembers it), false when it was seen in the window. */
  admit(id: string): boolean {
    if (this.capacity === 0) return true;
    if (this.ids.has(id)) return false;
    const evicted = this.ring[this.pos];
    if (evicted !== undefined) this.ids.delete(evicted);
    this.ring[this.pos] = id;
    this.pos = (this.pos + 1) % this.capacity;
    this.ids.add(id);
    return true;
  }

  /** Oldest first, so restoring preserves eviction order. */
  toArray(): string[] {
    const out: string[] = [];
    for (let k = 0; k < this.capacity; k++) {
      const id = this.ring[(this.pos + k) % this.capacity];
      if (id !== undefined) out.push(id);
    }
    return out;
  }

  load(ids: readonly string[]): void {
    this.ids.clear();
    this.ring.fill(undefined);
    this.pos = 0;
    for (const id of ids.slice(Math.max(0, ids.length - this.capacity))) this.admit(id);
  }
}
