/** Progress of a long step on stderr: a redrawn bar on a terminal, a line every 10% otherwise. */
export class Progress {
  private lastPct = -1;
  private readonly tty = process.stderr.isTTY === true;
  private readonly started = performance.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly enabled = true,
  ) {}

  update(done: number): void {
    if (!this.enabled || this.total <= 0) return;
    const pct = Math.min(100, Math.floor((done / this.total) * 100));
    if (this.tty) {
      if (pct === this.lastPct) return;
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      const secs = ((performance.now() - this.started) / 1000).toFixed(0);
      process.stderr.write(`\r  ${this.label.padEnd(34).slice(0, 34)} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(pct).padStart(3)}% ${done}/${this.total} ${secs}s`);
    } else if (pct >= this.lastPct + 10 || (pct === 100 && this.lastPct !== 100)) {
      process.stderr.write(`  ${this.label}: ${pct}% (${done}/${this.total})\n`);
    } else return;
    this.lastPct = pct;
  }

  done(): void {
    if (!this.enabled) return;
    this.update(this.total);
    if (this.tty) process.stderr.write('\n');
  }
}
