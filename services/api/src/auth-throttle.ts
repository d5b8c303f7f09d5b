/**
 * Failed authentications per client address in fixed one-minute windows (one API instance's
 * view, like the request rate limit). An address that had `limit` failures in its window is
 * blocked until the window ends: every request from it is refused, the right key included,
 * or the block would tell a key guesser which guess was right.
 */
export class AuthFailureThrottle {
  private readonly windows = new Map<string, { failures: number; endsAt: number }>();
  private nextSweep = 0;

  constructor(
    readonly limit: number,
    private readonly windowMs = 60_000,
    /** Addresses remembered at most; beyond it the oldest window is forgotten (memory stays bounded under many addresses). */
    private readonly maxAddresses = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `address` may try again, or 0 when it is not blocked. */
  blockedFor(address: string): number {
    const w = this.current(address);
    return w && w.failures >= this.limit ? w.endsAt - this.now() : 0;
  }

  /** Counts one failed authentication (a 401 or 403) from `address`. */
  fail(address: string): void {
    const w = this.current(address);
    if (w) {
      w.failures++;
      return;
    }
    // Ended windows of addresses that never come back are dropped once a window, or when full.
    if (this.windows.size >= this.maxAddresses || this.now() >= this.nextSweep) this.sweep();
    if (this.windows.size >= this.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(address, { failures: 1, endsAt: this.now() + this.windowMs });
  }

  private current(address: string): { failures: number; endsAt: number } | undefined {
    const w = this.windows.get(address);
    if (w && w.endsAt <= this.now()) {
      this.windows.delete(address);
      return undefined;
    }
    return w;
  }

  private sweep(): void {
    const now = this.now();
    this.nextSweep = now + this.windowMs;
    for (const [address, w] of this.windows) if (w.endsAt <= now) this.windows.delete(address);
  }
}
