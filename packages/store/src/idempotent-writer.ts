import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script';

/** A Redis command to run as part of an event's effect: `[command, key, ...args]`. */
export type RedisCommand = readonly [command: string, key: string, ...args: (string | number)[]];

/** One event's effect. It is applied at most once per `eventId` within the dedupe window. */
export interface IdempotentOp {
  eventId: string;
  commands: readonly RedisCommand[];
}

export interface IdempotentWriterOptions {
  /** Key prefix for the dedupe markers, e.g. `affinity:graph:seen`. */
  namespace: string;
  /**
   * How long an event id is remembered (seconds). Must exceed the longest replay window:
   * the retention of the source topic. @defaultValue 604800 (7 days, the interactions.v1 retention)
   */
  ttlSeconds?: number;
}

// Marks and effects run in one script, so they are atomic: a crash either applied both or
// neither. KEYS = markers then command keys; ARGV = ttl, op count, then per op its command
// count and per command: arg count, name, key index, args.
const SCRIPT = new LuaScript(`
local ttl = tonumber(ARGV[1])
local nops = tonumber(ARGV[2])
local p = 3
local applied = {}
for i = 1, nops do
  local ncmd = tonumber(ARGV[p]); p = p + 1
  local fresh = redis.call('SET', KEYS[i], '1', 'NX', 'EX', ttl)
  for c = 1, ncmd do
    local nargs = tonumber(ARGV[p]); local name = ARGV[p + 1]; local key = KEYS[tonumber(ARGV[p + 2])]
    if fresh then
      local args = {}
      for a = 1, nargs do args[a] = ARGV[p + 2 + a] end
      redis.call(name, key, unpack(args))
    end
    p = p + 3 + nargs
  end
  applied[i] = fresh and 1 or 0
end
return applied
`);

/**
 * Applies each event's Redis effect exactly once, however often the event is delivered:
 * the dedupe marker and the effect are written by one Lua script. This is the "dedupe
 * helper" every consumer with Redis effects uses; with offsets committed after it
 * resolves, replays after a crash never double count.
 *
 * Single-node Redis (or all keys in one hash slot in a cluster: put a `{tag}` in the
 * namespace and keys).
 */
export class IdempotentWriter {
  private readonly ttl: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: IdempotentWriterOptions,
  ) {
    this.ttl = options.ttlSeconds ?? 7 * 24 * 3600;
  }

  markerKey(eventId: string): string {
    return `${this.options.namespace}:${eventId}`;
  }

  /** Resolves with, per op, whether it was applied now (false = seen before, skipped). */
  async apply(ops: readonly IdempotentOp[]): Promise<boolean[]> {
    if (ops.length === 0) return [];
    // Ops with the same event id inside one call: the script's SET NX makes the second a no-op.
    const keys: string[] = ops.map((op) => this.markerKey(op.eventId));
    const keyIndex = new Map<string, number>();
    const argv: (string | number)[] = [this.ttl, ops.length];
    for (const op of ops) {
      argv.push(op.commands.length);
      for (const [name, key, ...args] of op.commands) {
        let idx = keyIndex.get(key);
        if (idx === undefined) {
          keys.push(key);
          idx = keys.length;
          keyIndex.set(key, idx);
        }
        argv.push(args.length, name, idx, ...args);
      }
    }
    const result = (await SCRIPT.run(this.redis, keys, argv)) as number[];
    return result.map((r) => r === 1);
  }

  /** Which of these ids were already applied (no side effects). */
  async seen(eventIds: readonly string[]): Promise<boolean[]> {
    if (eventIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of eventIds) pipeline.exists(this.markerKey(id));
    const out = await pipeline.exec();
    return (out ?? []).map(([, v]) => v === 1);
  }
}
