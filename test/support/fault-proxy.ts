import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a dependency (Redis) that a test can make hang or fail, without
 * touching the server that other tests and other people share:
 * - `pass`: bytes flow both ways;
 * - `freeze`: connections stay open but nothing is forwarded (held back, in both directions) —
 *   a dependency that accepts a request and never answers;
 * - `refuse`: every connection is reset and new ones are closed at once — a dependency that is down.
 * Returning to `pass` after `freeze` forwards what was held back.
 */
export class FaultProxy {
  private server: Server | undefined;
  private mode: 'pass' | 'freeze' | 'refuse' = 'pass';
  private readonly pairs = new Set<Pair>();

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Listens on a free loopback port and returns it. */
  async start(): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return (server.address() as { port: number }).port;
  }

  pass(): void {
    this.mode = 'pass';
    for (const p of this.pairs) p.flush();
  }

  freeze(): void {
    this.mode = 'freeze';
  }

  refuse(): void {
    this.mode = 'refuse';
    for (const p of [...this.pairs]) p.destroy();
  }

  async close(): Promise<void> {
    for (const p of [...this.pairs]) p.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    if (this.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    const pair = new Pair(client, upstream, () => this.mode === 'pass', () => this.pairs.delete(pair));
    this.pairs.add(pair);
  }
}

/** One proxied connection: forwards or holds back data according to `flowing()`. */
class Pair {
  private readonly held: { to: Socket; data: Buffer }[] = [];
  private closed = false;

  constructor(
    private readonly client: Socket,
    private readonly upstream: Socket,
    private readonly flowing: () => boolean,
    private readonly onClose: () => void,
  ) {
    client.on('data', (d: Buffer) => this.forward(upstream, d));
    upstream.on('data', (d: Buffer) => this.forward(client, d));
    for (const s of [client, upstream]) {
      s.on('error', () => this.destroy());
      s.on('close', () => this.destroy());
    }
  }

  private forward(to: Socket, data: Buffer): void {
    if (this.flowing() && this.held.length === 0) to.write(data);
    else this.held.push({ to, data });
  }

  flush(): void {
    for (const { to, data } of this.held.splice(0)) to.write(data);
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.held.length = 0;
    this.client.resetAndDestroy();
    this.upstream.resetAndDestroy();
    this.onClose();
  }
}
