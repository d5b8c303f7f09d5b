import type { Redis } from 'ioredis';
import { sleep } from './internal/sleep';
import { LuaScript } from './lua-script';

export interface LeaderLeaseOptions {
  key: string;
  instance: string;
  /** Lease lifetime; a crashed leader is replaced after at most this long. @defaultValue 10000 */
  ttlMs?: number;
  /** How often a standby tries to take the lease. @defaultValue 1000 */
  pollMs?: number;
}

// Renew; if the lease lapsed (a long pause) and nobody took it meanwhile, take it back.
const RENEW = new LuaScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`);
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * A single active instance among replicas (for work that cannot be partitioned, like FastRP
 * over the whole behaviour graph). The holder renews every ttl/3; a lapsed lease that nobody
 * took meanwhile is taken back (a long GC or CPU pause is not a handover); if another
 * instance holds it, `onLost` fires and the holder must stop working at once.
 */
export class LeaderLease {
  private readonly ttl: number;
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private stopped = false;

  constructor(
    private readonly redis: Redis,
    private readonly options: LeaderLeaseOptions,
  ) {
    this.ttl = options.ttlMs ?? 10_000;
  }

  get isLeader(): boolean {
    return this.held;
  }

  /** Resolves once this instance holds the lease (or rejects if {@link release} was called first). */
  async acquire(onLost: () => void): Promise<void> {
    while (!this.stopped) {
      try {
        const ok = await this.redis.set(this.options.key, this.options.instance, 'PX', this.ttl, 'NX');
        if (ok === 'OK' || (await this.redis.get(this.options.key)) === this.options.instance) break;
      } catch {
        // Redis unavailable: keep trying.
      }
      await sleep(this.options.pollMs ?? 1000);
    }
    if (this.stopped) throw new Error('lease released before it was acquired');
    this.held = true;
    this.timer = setInterval(() => {
      RENEW.run(this.redis, [this.options.key], [this.options.instance, String(this.ttl)])
        .then((r) => {
          if (r !== 1 && this.held) {
            this.held = false;
            clearInterval(this.timer);
            onLost();
          }
        })
        .catch(() => undefined);
    }, Math.max(100, Math.floor(this.ttl / 3)));
    this.timer.unref();
  }

  async release(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (!this.held) return;
    this.held = false;
    await RELEASE.run(this.redis, [this.options.key], [this.options.instance]).catch(() => undefined);
  }
}
