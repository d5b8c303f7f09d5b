import { Bitset } from './bitset';

/**
 * The slots holding one attribute term. Rare terms keep a Set (≈16-40 bytes a member),
 * frequent ones a bitset (capacity/8 bytes): whichever is smaller, with hysteresis so a
 * term hovering at the threshold does not flip on every update.
 */
export class Posting {
  count = 0;
  private set: Set<number> | null = new Set();
  private bits: Bitset | null = null;

  add(slot: number, capacity: number): void {
    this.count++;
    if (this.set) {
      this.set.add(slot);
      if (this.count > 64 && this.count * 128 > capacity) this.toBits(capacity);
      return;
    }
    if (slot >= this.bits!.size) this.growBits(Math.max(capacity, slot + 1));
    this.bits!.add(slot);
  }

  delete(slot: number, capacity: number): void {
    this.count--;
    if (this.set) {
      this.set.delete(slot);
      return;
    }
    this.bits!.delete(slot);
    if (this.count * 512 < capacity) {
      const set = new Set<number>();
      this.bits!.forEach((s) => set.add(s));
      this.set = set;
      this.bits = null;
    }
  }

  has(slot: number): boolean {
    if (this.set) return this.set.has(slot);
    return slot < this.bits!.size && this.bits!.has(slot);
  }

  forEach(fn: (slot: number) => void): void {
    if (this.set) this.set.forEach(fn);
    else this.bits!.forEach(fn);
  }

  /** target |= this */
  orInto(target: Bitset): void {
    if (this.set) {
      for (const s of this.set) target.add(s);
      return;
    }
    const src = this.bits!.words;
    const dst = target.words;
    const n = Math.min(src.length, dst.length);
    for (let i = 0; i < n; i++) dst[i]! |= src[i]!;
  }

  byteLength(): number {
    return this.set ? 48 + this.set.size * 24 : this.bits!.words.byteLength + 48;
  }

  private toBits(capacity: number): void {
    const bits = new Bitset(capacity);
    for (const s of this.set!) bits.add(s);
    this.bits = bits;
    this.set = null;
  }

  private growBits(size: number): void {
    const bits = new Bitset(size);
    bits.words.set(this.bits!.words);
    this.bits = bits;
  }
}
