import { LuaScript, pendingListsKey, type KeySpace, type ListPriority, type Redis } from '@affinity/store';

export type Priority = ListPriority;

/** A list that needs recomputing, with the events that asked for it. */
export interface ClaimedTrigger {
  priority: Priority;
  /** `kind:subjectId`. */
  listId: string;
  /** The exact lease score; completing with it proves nobody re-triggered meanwhile. */
  lease: string;
  causes: string[];
  /** Earliest Kafka ingest time among the causes. */
  causeTs: number | undefined;
}

// KEYS: pending zset, causes prefix. ARGV: due, max causes, then per trigger: listId,
// "eventId|ts". The earliest due time wins, so a burst of triggers within the
// window is one recompute; a trigger during a lease lowers the score, which the completing
// worker notices (the list is recomputed again with the new causes).
const ADD = new LuaScript(`
local due = tonumber(ARGV[1])
local maxCauses = tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  local cur = redis.call('ZSCORE', KEYS[1], id)
  if (not cur) or tonumber(cur) > due then redis.call('ZADD', KEYS[1], due, id) end
  local ck = KEYS[2] .. id
  redis.call('RPUSH', ck, ARGV[i + 1])
  redis.call('LTRIM', ck, -maxCauses, -1)
end
return 1
`);

// Leases due triggers: their score moves to now + lease, so a crashed worker's triggers come
// back when the lease expires. KEYS: pending, causes prefix. ARGV: now, lease ms, max.
// Returns flat [id, score, n, cause...] groups.
const CLAIM = new LuaScript(`
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for n, id in ipairs(ids) do
  local score = string.format('%.3f', now + tonumber(ARGV[2]) + n / 1000)
  redis.call('ZADD', KEYS[1], 'XX', score, id)
  local causes = redis.call('LRANGE', KEYS[2] .. id, 0, -1)
  table.insert(out, id)
  table.insert(out, score)
  table.insert(out, tostring(#causes))
  for _, c in ipairs(causes) do table.insert(out, c) end
end
return out
`);

// Done: remove the trigger only if it was not re-triggered during the lease; drop the causes
// this run covered. KEYS: pending, causes key. ARGV: id, lease score, causes covered.
const COMPLETE = new LuaScript(`
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if cur and string.format('%.3f', tonumber(cur)) == ARGV[2] then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('DEL', KEYS[2])
  return 1
end
redis.call('LTRIM', KEYS[2], tonumber(ARGV[3]), -1)
return 0
`);

// Failed: bring a leased trigger back after a short delay instead of at lease expiry, unless it
// was re-triggered meanwhile (then it is due soon anyway). KEYS: pending. ARGV: id, lease, due.
const RETRY = new LuaScript(`
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if cur and string.format('%.3f', tonumber(cur)) == ARGV[2] then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[3]), ARGV[1])
  return 1
end
return 0
`);

export interface TriggerQueueOptions {
  keys: KeySpace;
  /** How long a claimed trigger stays invisible before another instance may take it. @defaultValue 30000 */
  leaseMs?: number;
  /** Cause ids kept per list (the rest are counted, not listed). @defaultValue 100 */
  maxCauses?: number;
}

/**
 * The lists waiting to be recomputed, in Redis (a sorted set by due time). Consuming an
 * event only adds triggers — fast, durable, and idempotent — and is then committed; list
 * computation runs beside it, at its own pace. Triggers for the same list merge while they
 * wait, so under load each list is recomputed once per pass instead of once per event, and
 * a crash loses nothing: an unfinished trigger's lease expires and another instance runs it.
 */
export class TriggerQueue {
  private readonly leaseMs: number;
  private readonly maxCauses: number;

  constructor(
    private readonly redis: Redis,
    private readonly o: TriggerQueueOptions,
  ) {
    this.leaseMs = o.leaseMs ?? 30_000;
    this.maxCauses = o.maxCauses ?? 100;
  }

  private pendingKey(priority: Priority): string {
    return pendingListsKey(this.o.keys, priority);
  }

  /**
   * Causes are kept per priority: a list can be pending in both queues at once (a click and a
   * behaviour wave), and completing one must not drop the causes the other still has to report.
   */
  private causesKey(priority: Priority, id = ''): string {
    return this.o.keys.key('recs', 'pending-causes', priority, id);
  }

  /**
   * Schedules lists to be recomputed no later than `due` (epoch ms). `high` is for what a
   * shopper or merchant just did (a click, a product edit); `low` for background refreshes
   * (behaviour-vector waves, neighbour fan-out), which wait — and merge more — under load.
   */
  async add(triggers: readonly { listId: string; eventId: string; ts: number }[], due: number, priority: Priority = 'high'): Promise<void> {
    if (triggers.length === 0) return;
    const argv: string[] = [String(due), String(this.maxCauses)];
    for (const t of triggers) argv.push(t.listId, `${t.eventId}|${t.ts}`);
    await ADD.run(this.redis, [this.pendingKey(priority), this.causesKey(priority)], argv);
  }

  /** Leases up to `max` due lists, high priority first. */
  async claim(max: number, now: number = Date.now()): Promise<ClaimedTrigger[]> {
    const high = await this.claimFrom('high', max, now);
    return high.length >= max ? high : [...high, ...(await this.claimFrom('low', max - high.length, now))];
  }

  private async claimFrom(priority: Priority, max: number, now: number): Promise<ClaimedTrigger[]> {
    const flat = (await CLAIM.run(this.redis, [this.pendingKey(priority), this.causesKey(priority)], [String(now), String(this.leaseMs), String(max)])) as string[];
    const out: ClaimedTrigger[] = [];
    for (let i = 0; i < flat.length; ) {
      const n = Number(flat[i + 2]);
      const raw = flat.slice(i + 3, i + 3 + n);
      const causes = raw.map((c) => c.slice(0, c.lastIndexOf('|')));
      const times = raw.map((c) => Number(c.slice(c.lastIndexOf('|') + 1))).filter((t) => Number.isFinite(t));
      out.push({ listId: flat[i]!, lease: flat[i + 1]!, priority, causes, causeTs: times.length > 0 ? Math.min(...times) : undefined });
      i += 3 + n;
    }
    return out;
  }

  /** Returns false when the list was triggered again meanwhile (it stays pending). */
  async complete(t: ClaimedTrigger): Promise<boolean> {
    const r = (await COMPLETE.run(this.redis, [this.pendingKey(t.priority), this.causesKey(t.priority, t.listId)], [t.listId, t.lease, String(t.causes.length)])) as number;
    return r === 1;
  }

  /**
   * Gives a claimed trigger back to be retried at `due` (a failed recompute: Redis or Kafka
   * hiccup). Its causes stay, so the retry still reports them. Without this the list would wait
   * out the whole lease — seconds of staleness for one transient error.
   */
  async retryAt(t: ClaimedTrigger, due: number): Promise<void> {
    await RETRY.run(this.redis, [this.pendingKey(t.priority)], [t.listId, t.lease, String(due)]);
  }

  /** Lists waiting (due or leased). */
  async size(priority: Priority): Promise<number> {
    return this.redis.zcard(this.pendingKey(priority));
  }
}
