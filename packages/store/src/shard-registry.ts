import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script';

export interface ShardOwner {
  partition: number;
  instance: string;
  /** Base URL the owner answers queries on. */
  url: string;
  /** Epoch ms when the owner claimed it. */
  since: number;
  /** The owner's heartbeat key is present. */
  alive: boolean;
}

export interface ShardRegistryOptions {
  /** Key prefix, e.g. `affinity:index`. */
  namespace: string;
  /** Consumer group the shards belong to (one registry per index deployment). */
  group: string;
  instance: string;
  url: string;
  /** Heartbeat lifetime; an instance missing this long is considered gone. @defaultValue 10000 */
  ttlMs?: number;
}

// Release only what we still own: a newer owner's claim must survive our late cleanup.
const RELEASE = new LuaScript(`
local released = 0
for i = 1, #ARGV - 1 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if cur then
    local ok, v = pcall(cjson.decode, cur)
    if ok and v.instance == ARGV[#ARGV] then
      redis.call('HDEL', KEYS[1], ARGV[i])
      released = released + 1
    end
  end
end
return released
`);

/**
 * Who owns which vector-index shard (docs/architecture.md "Scale-out"): a Redis hash
 * partition → owner, plus a heartbeat key per instance with a TTL. Ownership follows Kafka's
 * assignment; the heartbeat lets readers tell a live owner from a crashed one before Kafka has
 * reassigned.
 */
export class ShardRegistry {
  private readonly ttlMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private options: ShardRegistryOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 10_000;
  }

  static shardsKey(namespace: string, group: string): string {
    return `${namespace}:shards:${group}`;
  }

  static instanceKey(namespace: string, group: string, instance: string): string {
    return `${namespace}:instances:${group}:${instance}`;
  }

  private get shardsKey(): string {
    return ShardRegistry.shardsKey(this.options.namespace, this.options.group);
  }

  /** The URL announced for this instance (set once the HTTP port is known). */
  setUrl(url: string): void {
    this.options.url = url;
  }

  async heartbeat(): Promise<void> {
    await this.redis.set(ShardRegistry.instanceKey(this.options.namespace, this.options.group, this.options.instance), this.options.url, 'PX', this.ttlMs);
  }

  /** Heartbeats every ttl/3 until {@link stop}. */
  startHeartbeat(onError: (err: unknown) => void): void {
    const beat = (): void => void this.heartbeat().catch(onError);
    beat();
    this.timer = setInterval(beat, Math.max(250, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  async claim(partitions: readonly number[]): Promise<void> {
    if (partitions.length === 0) return;
    const value = JSON.stringify({ instance: this.options.instance, url: this.options.url, since: Date.now() });
    await this.heartbeat();
    await this.redis.hset(this.shardsKey, ...partitions.flatMap((p) => [String(p), value]));
  }

  async release(partitions: readonly number[]): Promise<number> {
    if (partitions.length === 0) return 0;
    return (await RELEASE.run(this.redis, [this.shardsKey], [...partitions.map(String), this.options.instance])) as number;
  }

  /** Stops heartbeating and removes this instance's claims and heartbeat. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const owners = await ShardRegistry.read(this.redis, this.options.namespace, this.options.group);
    await this.release(owners.filter((o) => o.instance === this.options.instance).map((o) => o.partition));
    await this.redis.del(ShardRegistry.instanceKey(this.options.namespace, this.options.group, this.options.instance));
  }

  /** Current owners, with liveness from the heartbeat keys. */
  static async read(redis: Redis, namespace: string, group: string): Promise<ShardOwner[]> {
    const raw = await redis.hgetall(ShardRegistry.shardsKey(namespace, group));
    const entries = Object.entries(raw).flatMap(([p, v]) => {
      try {
        const o = JSON.parse(v) as { instance: string; url: string; since: number };
        return [{ partition: Number(p), instance: o.instance, url: o.url, since: o.since }];
      } catch {
        return [];
      }
    });
    const instances = [...new Set(entries.map((e) => e.instance))];
    const alive = new Set<string>();
    if (instances.length > 0) {
      const values = await redis.mget(...instances.map((i) => ShardRegistry.instanceKey(namespace, group, i)));
      instances.forEach((i, idx) => values[idx] !== null && alive.add(i));
    }
    return entries.map((e) => ({ ...e, alive: alive.has(e.instance) })).sort((a, b) => a.partition - b.partition);
  }
}
