import { type EnrichedProduct, type Interaction, type RecKind, type RecommendationUpdate, emptyDictionary } from '@affinity/contracts';
import { INTERACTION_WEIGHT, forwardDecayValue, sampleHash, type ItemInfo } from '@affinity/recommend';
import { LuaScript, ServingStore, type KeySpace, type Redis, type ServingItem } from '@affinity/store';

/** Float32 values as stored in Redis (little-endian, as the machine's own layout on x86/arm). */
const vectorBytes = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** What the recommender stores per product (the serving copy of the enriched catalog). */
export type StoredItem = ServingItem & ItemInfo;

export interface RecentInteraction {
  productId: string;
  type: Interaction['type'];
  ts: number;
  eventId: string;
}

export interface NeighbourRow {
  productId: string;
  /** Baskets (or shoppers) holding both. */
  both: number;
}

/** A linear model's weight from an anchor to an item. */
export interface LinearRow {
  productId: string;
  weight: number;
}

/** `basket`: bought in one order; `history`: touched by one shopper within a few items of each other. */
export type CoOccurrenceKind = 'basket' | 'history';

/** The Redis key part of a category: the path's first `depth` levels, lower case. */
export function categoryKey(path: readonly string[], depth: number): string {
  return path
    .slice(0, depth)
    .map((c) => c.toLowerCase())
    .join(' > ');
}

export interface RecStateOptions {
  keys: KeySpace;
  /** Half-life of trending scores. @defaultValue 6 h */
  trendingHalfLifeMs?: number;
  /** Interactions kept per user. @defaultValue 50 */
  recentPerUser?: number;
  /** Items per basket that form pairs (bounds the O(n²) of huge orders). @defaultValue 50 */
  maxBasketItems?: number;
  /** Dedupe window for event ids (seconds). @defaultValue 7 days */
  dedupeTtlSeconds?: number;
  /**
   * How many of a shopper's most recent distinct items each newly touched item is paired with
   * in the history co-occurrence counts (an item-based neighbourhood over a sliding window of
   * each history). @defaultValue 20
   */
  historyWindow?: number;
}

// Upsert of an item, newest updatedAt wins. KEYS: item hash, content vector, all items (a
// sorted set by the id's sample hash), brand-set prefix, item → categories hash. ARGV:
// updatedAt, fields JSON, vector bytes, brand (lower case, or ''), product id, available (1/0),
// leaf category key, root category key, sample hash.
// A brand change moves the item from the old brand's set to the new one.
const UPSERT_ITEM = new LuaScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'updatedAt') or '-1')
local ts = tonumber(ARGV[1])
if ts < cur then return 0 end
local prev = redis.call('HGET', KEYS[1], 'json')
if prev then
  local ok, item = pcall(cjson.decode, prev)
  if ok and type(item.brand) == 'string' and string.lower(item.brand) ~= ARGV[4] then redis.call('SREM', KEYS[4] .. string.lower(item.brand), ARGV[5]) end
end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[1], 'json', ARGV[2], 'deleted', '0', 'available', ARGV[6])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], tonumber(ARGV[9]), ARGV[5])
if ARGV[4] ~= '' then redis.call('SADD', KEYS[4] .. ARGV[4], ARGV[5]) end
redis.call('HSET', KEYS[5], ARGV[5], ARGV[7] .. '\\n' .. ARGV[8])
if prev then return 2 end
return 1
`);

// Delete: keeps a tombstone (updatedAt) so a late, older upsert cannot resurrect the item, and
// takes the item out of the brand, popularity and category-popularity sets. KEYS: item hash,
// content vector, all items, brand-set prefix, popularity zset, item → categories hash,
// category-popularity prefix. ARGV: updatedAt, product id.
const DELETE_ITEM = new LuaScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'updatedAt') or '-1')
local ts = tonumber(ARGV[1])
if ts < cur then return 0 end
local prev = redis.call('HGET', KEYS[1], 'json')
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[1], 'deleted', '1')
redis.call('HDEL', KEYS[1], 'json')
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[2])
if prev then
  local ok, item = pcall(cjson.decode, prev)
  if ok and type(item.brand) == 'string' then redis.call('SREM', KEYS[4] .. string.lower(item.brand), ARGV[2]) end
end
redis.call('ZREM', KEYS[5], ARGV[2])
local cats = redis.call('HGET', KEYS[6], ARGV[2])
if cats then
  local nl = string.find(cats, '\\n', 1, true)
  redis.call('ZREM', KEYS[7] .. string.sub(cats, 1, nl - 1), ARGV[2])
  redis.call('ZREM', KEYS[7] .. string.sub(cats, nl + 1), ARGV[2])
end
return 1
`);

// One interaction, applied once per event id. KEYS: marker, recent list, purchased set,
// trending zset, basket set, item-basket counts hash, total-baskets counter, co-purchase
// prefix, trending epoch, trending clock, the user's item counts hash, the user's window of
// recently first-touched items, item → distinct users hash, history co-occurrence prefix,
// popularity zset, statistics hash, item → categories hash, category-popularity prefix, the
// user's current basket ("<returning 0/1>|<basket id>"), the user's item → last basket hash,
// the basket's leaf categories, leaf category → baskets hash, leaf co-purchase prefix.
// ARGV: ttl, recent JSON, recent cap, product, is purchase, weight, ts, half-life ms,
// basket-forming (1/0), max basket items, history window, basket (order, else session) id.
//
// The first time a shopper touches an item, the item counts one more shopper (popularity,
// and popularity within its leaf and root category), and it is paired with the shopper's
// last few first-touched items (history co-occurrence: an item-based neighbourhood). The
// statistics hash counts, over the baskets of returning shoppers, the items and the rebuys
// among them (an item the shopper had in an earlier basket): the catalog's rebuy rate.
//
// Trending uses forward decay (Cormode et al., ICDE 2009): the score grows by
// w·2^((ts − epoch)/halfLife), so older entries never need rewriting. When the exponent
// gets large the whole set is rescaled and the epoch moved, inside this script, so every
// instance always agrees on the epoch.
const APPLY_INTERACTION = new LuaScript(`
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[1])) then return -1 end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
local product = ARGV[4]
if ARGV[5] == '1' then redis.call('SADD', KEYS[3], product) end
local ts = tonumber(ARGV[7])
local hl = tonumber(ARGV[8])
local epoch = tonumber(redis.call('GET', KEYS[9]) or '')
if not epoch then epoch = ts; redis.call('SET', KEYS[9], ARGV[7]) end
local exponent = (ts - epoch) / hl
if exponent > 200 then
  redis.call('ZUNIONSTORE', KEYS[4], 1, KEYS[4], 'WEIGHTS', tostring(2 ^ (-exponent)))
  epoch = ts
  exponent = 0
  redis.call('SET', KEYS[9], ARGV[7])
end
redis.call('ZINCRBY', KEYS[4], tonumber(ARGV[6]) * 2 ^ exponent, product)
local clock = tonumber(redis.call('GET', KEYS[10]) or '0')
if ts > clock then redis.call('SET', KEYS[10], ARGV[7]) end
local own = redis.call('HINCRBY', KEYS[11], product, 1)
-- Rebuys: of the items in a returning shopper's later baskets, how many were in an earlier one.
local basket = ARGV[12]
local cur = redis.call('GET', KEYS[19])
local returning = false
if not cur then
  redis.call('SET', KEYS[19], '0|' .. basket)
elseif string.sub(cur, 3) ~= basket then
  redis.call('SET', KEYS[19], '1|' .. basket)
  returning = true
else
  returning = string.sub(cur, 1, 1) == '1'
end
local lastBasket = redis.call('HGET', KEYS[20], product)
redis.call('HSET', KEYS[20], product, basket)
if returning then
  redis.call('HINCRBY', KEYS[16], 'returning', 1)
  if lastBasket and lastBasket ~= basket then redis.call('HINCRBY', KEYS[16], 'rebuys', 1) end
end
if own == 1 then
  redis.call('HINCRBY', KEYS[13], product, 1)
  redis.call('ZINCRBY', KEYS[15], 1, product)
  local cats = redis.call('HGET', KEYS[17], product)
  if cats then
    local nl = string.find(cats, '\\n', 1, true)
    local leaf = string.sub(cats, 1, nl - 1)
    local root = string.sub(cats, nl + 1)
    if leaf ~= '' then redis.call('ZINCRBY', KEYS[18] .. leaf, 1, product) end
    if root ~= '' and root ~= leaf then redis.call('ZINCRBY', KEYS[18] .. root, 1, product) end
  end
  local window = redis.call('LRANGE', KEYS[12], 0, tonumber(ARGV[11]) - 1)
  for _, other in ipairs(window) do
    redis.call('ZINCRBY', KEYS[14] .. product, 1, other)
    redis.call('ZINCRBY', KEYS[14] .. other, 1, product)
  end
  redis.call('LPUSH', KEYS[12], product)
  redis.call('LTRIM', KEYS[12], 0, tonumber(ARGV[11]) - 1)
end
if ARGV[9] ~= '1' then return 0 end
if redis.call('SISMEMBER', KEYS[5], product) == 1 then return 0 end
local members = redis.call('SMEMBERS', KEYS[5])
if #members >= tonumber(ARGV[10]) then return 0 end
if #members == 0 then redis.call('INCR', KEYS[7]) end
for _, other in ipairs(members) do
  redis.call('ZINCRBY', KEYS[8] .. product, 1, other)
  redis.call('ZINCRBY', KEYS[8] .. other, 1, product)
end
redis.call('SADD', KEYS[5], product)
redis.call('EXPIRE', KEYS[5], tonumber(ARGV[1]))
redis.call('HINCRBY', KEYS[6], product, 1)
-- Leaf categories bought together: once per basket and pair of leaves.
local cats = redis.call('HGET', KEYS[17], product)
if cats then
  local leaf = string.sub(cats, 1, string.find(cats, '\\n', 1, true) - 1)
  if leaf ~= '' and redis.call('SADD', KEYS[21], leaf) == 1 then
    redis.call('EXPIRE', KEYS[21], tonumber(ARGV[1]))
    redis.call('HINCRBY', KEYS[22], leaf, 1)
    for _, other in ipairs(redis.call('SMEMBERS', KEYS[21])) do
      if other ~= leaf then
        redis.call('ZINCRBY', KEYS[23] .. leaf, 1, other)
        redis.call('ZINCRBY', KEYS[23] .. other, 1, leaf)
      end
    end
  end
end
return #members
`);

// Stores a list if it is newer than the stored one, without items that are deleted or
// unavailable *now* (a recompute that read the catalog just before a delete must not bring
// the item back after the purge), and maintains the reverse index item → lists.
// KEYS: list key, reverse-index prefix, item-hash prefix. ARGV: generatedAt, JSON, list id.
// Returns the stored JSON, or false when a newer list exists.
const PUT_LIST = new LuaScript(`
local cur = redis.call('GET', KEYS[1])
local ts = tonumber(ARGV[1])
local old = {}
if cur then
  local ok, v = pcall(cjson.decode, cur)
  if ok then
    if tonumber(v.generatedAt) > ts then return false end
    for _, it in ipairs(v.items) do old[it.productId] = true end
  end
end
local list = cjson.decode(ARGV[2])
local kept = {}
local new = {}
for _, it in ipairs(list.items) do
  local state = redis.call('HMGET', KEYS[3] .. it.productId, 'deleted', 'available')
  if state[1] ~= '1' and state[2] ~= '0' then
    table.insert(kept, it)
    new[it.productId] = true
  end
end
local json = ARGV[2]
if #kept ~= #list.items then
  list.items = kept
  json = cjson.encode(list)
  if #kept == 0 then json = string.gsub(json, '"items":{}', '"items":[]') end
end
redis.call('SET', KEYS[1], json)
for id, _ in pairs(new) do redis.call('SADD', KEYS[2] .. id, ARGV[3]) end
for id, _ in pairs(old) do if not new[id] then redis.call('SREM', KEYS[2] .. id, ARGV[3]) end end
return json
`);

const DROP_LIST = new LuaScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, v = pcall(cjson.decode, cur)
if ok then for _, it in ipairs(v.items) do redis.call('SREM', KEYS[2] .. it.productId, ARGV[1]) end end
redis.call('DEL', KEYS[1])
return 1
`);

/**
 * Everything the recommender keeps in Redis: the serving copy of the catalog and its content
 * vectors, behaviour vectors, per-user history and item counts, co-occurrence counts (baskets
 * and histories), popularity overall and per category, trending scores, the published lists
 * and the reverse index item → lists. Writes that come from events are
 * atomic Lua scripts with the event's dedupe marker, so replays never double count.
 */
export class RecState {
  readonly keys: KeySpace;
  readonly serving: ServingStore;
  private readonly halfLife: number;
  private readonly recentCap: number;
  private readonly maxBasket: number;
  private readonly ttl: number;
  private readonly historyWindow: number;

  constructor(
    readonly redis: Redis,
    options: RecStateOptions,
  ) {
    this.keys = options.keys;
    this.serving = new ServingStore(redis, options.keys);
    this.halfLife = options.trendingHalfLifeMs ?? 6 * 3600 * 1000;
    this.recentCap = options.recentPerUser ?? 50;
    this.maxBasket = options.maxBasketItems ?? 50;
    this.ttl = options.dedupeTtlSeconds ?? 7 * 24 * 3600;
    this.historyWindow = options.historyWindow ?? 20;
  }

  private itemKey = (id: string) => this.serving.itemKey(id);
  private contentKey = (id: string) => this.serving.contentKey(id);
  private behaviourKey = (kind: 'item' | 'user', id: string) => this.keys.key('vec', 'behaviour', kind, id);
  listKey = (kind: RecKind, subject: string) => this.serving.listKey(kind, subject);

  /** Returns 0 (older, ignored), 1 (new item) or 2 (update). */
  async upsertItem(e: EnrichedProduct, sourceTs: number): Promise<number> {
    const p = e.product;
    const item: StoredItem = {
      productId: e.productId,
      title: p.title,
      brand: p.brand ?? e.attributes.find((a) => a.name === 'brand' && a.confidence >= 0.8)?.value,
      categoryPath: p.categoryPath,
      availability: p.availability,
      attributes: Object.assign(emptyDictionary<string>(), Object.fromEntries(e.attributes.filter((a) => a.confidence >= 0.5).map((a) => [a.name, a.value])), p.attributes),
      price: p.price,
      modelId: e.embedding.modelId,
      updatedAt: p.updatedAt,
      sourceTs,
    };
    const brand = item.brand?.toLowerCase() ?? '';
    return (await UPSERT_ITEM.run(
      this.redis,
      [this.itemKey(e.productId), this.contentKey(e.productId), this.keys.key('items'), this.keys.key('brand', ''), this.keys.key('item-categories')],
      [
        String(p.updatedAt),
        JSON.stringify(item),
        vectorBytes(e.embedding.vector),
        brand,
        e.productId,
        p.availability === 'in_stock' || p.availability === 'preorder' ? '1' : '0',
        categoryKey(p.categoryPath, p.categoryPath.length),
        categoryKey(p.categoryPath, 1),
        String(sampleHash(e.productId)),
      ],
    )) as number;
  }

  async deleteItem(productId: string, updatedAt: number): Promise<boolean> {
    const r = (await DELETE_ITEM.run(
      this.redis,
      [this.itemKey(productId), this.contentKey(productId), this.keys.key('items'), this.keys.key('brand', ''), this.keys.key('popular'), this.keys.key('item-categories'), this.keys.key('catpop', '')],
      [String(updatedAt), productId],
    )) as number;
    return r === 1;
  }

  items(ids: readonly string[]): Promise<Map<string, StoredItem>> {
    return this.serving.items(ids);
  }

  async contentVectors(ids: readonly string[]): Promise<Map<string, Float32Array>> {
    return this.vectors(ids.map((id) => [id, this.contentKey(id)]));
  }

  async behaviourVector(kind: 'item' | 'user', id: string): Promise<Float32Array | undefined> {
    return (await this.vectors([[id, this.behaviourKey(kind, id)]])).get(id);
  }

  async setBehaviourVectors(updates: readonly { nodeKind: 'item' | 'user'; nodeId: string; embedding: { vector: Float32Array } }[]): Promise<void> {
    if (updates.length === 0) return;
    const p = this.redis.pipeline();
    for (const u of updates) p.set(this.behaviourKey(u.nodeKind, u.nodeId), vectorBytes(u.embedding.vector));
    await p.exec();
  }

  private async vectors(pairs: readonly (readonly [string, string])[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    if (pairs.length === 0) return out;
    const bufs = await this.redis.mgetBuffer(...pairs.map(([, k]) => k));
    bufs.forEach((b, i) => {
      if (b && b.length > 0 && b.length % 4 === 0) out.set(pairs[i]![0], new Float32Array(new Uint8Array(b).buffer));
    });
    return out;
  }

  /**
   * The calibration sample: the `n` catalog items with the smallest {@link sampleHash} of their
   * id (a bottom-k sketch: the same sample whatever order the catalog arrived in).
   */
  async sampleItemIds(n: number): Promise<string[]> {
    return this.redis.zrange(this.keys.key('items'), '0', String(n - 1));
  }

  async itemsOfBrand(brand: string, n: number): Promise<string[]> {
    return (await this.redis.srandmember(this.keys.key('brand', brand.toLowerCase()), n)) as string[];
  }

  /**
   * Applies an interaction once: user history, purchases, trending score and, for purchases
   * and add-to-cart, the basket's co-occurrence counts. Returns false for a replay.
   */
  async applyInteraction(e: Interaction): Promise<boolean> {
    const basket = e.orderId ?? e.sessionId;
    const formsBasket = e.type === 'purchase' || e.type === 'add_to_cart';
    const recent: RecentInteraction = { productId: e.productId, type: e.type, ts: e.ts, eventId: e.eventId };
    const r = (await APPLY_INTERACTION.run(
      this.redis,
      [
        this.keys.key('seen', 'interaction', e.eventId),
        this.keys.key('user', e.userId, 'recent'),
        this.keys.key('user', e.userId, 'purchased'),
        this.keys.key('trending', 'global'),
        this.keys.key('basket', basket),
        this.keys.key('basket-count'),
        this.keys.key('baskets-total'),
        this.keys.key('cop', ''),
        this.keys.key('trending', 'epoch'),
        this.keys.key('trending', 'clock'),
        this.keys.key('user', e.userId, 'items'),
        this.keys.key('user', e.userId, 'window'),
        this.keys.key('item-users'),
        this.keys.key('coh', ''),
        this.keys.key('popular'),
        this.keys.key('stats'),
        this.keys.key('item-categories'),
        this.keys.key('catpop', ''),
        this.keys.key('user', e.userId, 'basket'),
        this.keys.key('user', e.userId, 'item-baskets'),
        this.keys.key('basket-categories', basket),
        this.keys.key('category-baskets'),
        this.keys.key('catco', ''),
      ],
      [
        String(this.ttl),
        JSON.stringify(recent),
        String(this.recentCap),
        e.productId,
        e.type === 'purchase' ? '1' : '0',
        String(INTERACTION_WEIGHT[e.type]),
        String(e.ts),
        String(this.halfLife),
        formsBasket ? '1' : '0',
        String(this.maxBasket),
        String(this.historyWindow),
        basket,
      ],
    )) as number;
    return r !== -1;
  }

  async recent(userId: string): Promise<RecentInteraction[]> {
    const raw = await this.redis.lrange(this.keys.key('user', userId, 'recent'), 0, this.recentCap - 1);
    return raw.map((s) => JSON.parse(s) as RecentInteraction);
  }

  async purchased(userId: string): Promise<Set<string>> {
    return new Set(await this.redis.smembers(this.keys.key('user', userId, 'purchased')));
  }

  /**
   * The strongest co-occurrence neighbours of each anchor, by count: `basket` counts orders
   * holding both, `history` counts shoppers who touched both within their history window.
   */
  async neighbours(kind: CoOccurrenceKind, anchors: readonly string[], n: number): Promise<Map<string, NeighbourRow[]>> {
    const prefix = this.keys.key(kind === 'basket' ? 'cop' : 'coh', '');
    const rows = await Promise.all(anchors.map((a) => this.redis.zrevrange(prefix + a, 0, n - 1, 'WITHSCORES')));
    const out = new Map<string, NeighbourRow[]>();
    anchors.forEach((a, i) => {
      const flat = rows[i]!;
      const list: NeighbourRow[] = [];
      for (let j = 0; j < flat.length; j += 2) list.push({ productId: flat[j]!, both: Number(flat[j + 1]) });
      out.set(a, list);
    });
    return out;
  }

  /** How many baskets (`basket`) or distinct shoppers (`history`) hold each item. */
  async supports(kind: CoOccurrenceKind, ids: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (ids.length === 0) return out;
    const counts = await this.redis.hmget(this.keys.key(kind === 'basket' ? 'basket-count' : 'item-users'), ...ids);
    ids.forEach((id, i) => out.set(id, Number(counts[i] ?? 0)));
    return out;
  }

  /** The items a shopper has touched, with how many times. */
  async userItems(userId: string): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.keys.key('user', userId, 'items'));
    return new Map(Object.entries(all).map(([k, v]) => [k, Number(v)]));
  }

  /**
   * The leaf categories most often bought in one basket with each given leaf (category keys as
   * {@link categoryKey} makes them), with the baskets holding each leaf.
   */
  async categoryAssociations(leaves: readonly string[], n: number): Promise<{ rows: Map<string, { category: string; both: number }[]>; baskets: Map<string, number> }> {
    const unique = [...new Set(leaves)];
    const flats = await Promise.all(unique.map((l) => this.redis.zrevrange(this.keys.key('catco', l), 0, n - 1, 'WITHSCORES')));
    const rows = new Map<string, { category: string; both: number }[]>();
    const all = new Set(unique);
    unique.forEach((l, i) => {
      const flat = flats[i]!;
      const list: { category: string; both: number }[] = [];
      for (let j = 0; j < flat.length; j += 2) {
        list.push({ category: flat[j]!, both: Number(flat[j + 1]) });
        all.add(flat[j]!);
      }
      rows.set(l, list);
    });
    const keys = [...all];
    const counts = keys.length > 0 ? await this.redis.hmget(this.keys.key('category-baskets'), ...keys) : [];
    return { rows, baskets: new Map(keys.map((k, i) => [k, Number(counts[i] ?? 0)])) };
  }

  /** Every item's support: baskets holding it (`basket`) or distinct shoppers (`history`). */
  async allSupports(kind: CoOccurrenceKind): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.keys.key(kind === 'basket' ? 'basket-count' : 'item-users'));
    return new Map(Object.entries(all).map(([k, v]) => [k, Number(v)]));
  }

  /**
   * Stores a fitted linear item–item model as a new version (each item's strongest weights),
   * then points readers at it; the previous version's keys expire ten minutes later, so a list
   * being built while the pointer moves still reads a whole model.
   */
  async setLinearModel(kind: CoOccurrenceKind, rows: ReadonlyMap<string, readonly (readonly [string, number])[]>): Promise<number> {
    const base = this.keys.key('linear', kind);
    const version = await this.redis.incr(`${base}:seq`);
    const p = this.redis.pipeline();
    for (const [item, row] of rows) {
      if (row.length === 0) continue;
      const key = `${base}:v${version}:${item}`;
      p.zadd(key, ...row.flatMap(([id, w]) => [w, id]));
      p.expire(key, 30 * 24 * 3600);
    }
    p.sadd(`${base}:v${version}:items`, ...(rows.size > 0 ? [...rows.keys()] : ['']));
    p.expire(`${base}:v${version}:items`, 30 * 24 * 3600);
    await p.exec();
    const previous = await this.redis.getset(`${base}:current`, String(version));
    if (previous !== null) {
      const old = await this.redis.smembers(`${base}:v${previous}:items`);
      const q = this.redis.pipeline();
      for (const item of old) q.expire(`${base}:v${previous}:${item}`, 600);
      q.expire(`${base}:v${previous}:items`, 600);
      await q.exec();
    }
    return version;
  }

  /** The current linear model's strongest weights from each anchor (empty before the first fit). */
  async linearNeighbours(kind: CoOccurrenceKind, anchors: readonly string[], n: number): Promise<Map<string, LinearRow[]>> {
    const out = new Map<string, LinearRow[]>();
    const base = this.keys.key('linear', kind);
    const version = await this.redis.get(`${base}:current`);
    if (version === null) return out;
    const rows = await Promise.all(anchors.map((a) => this.redis.zrevrange(`${base}:v${version}:${a}`, 0, n - 1, 'WITHSCORES')));
    anchors.forEach((a, i) => {
      const flat = rows[i]!;
      const list: LinearRow[] = [];
      for (let j = 0; j < flat.length; j += 2) list.push({ productId: flat[j]!, weight: Number(flat[j + 1]) });
      out.set(a, list);
    });
    return out;
  }

  /**
   * The catalog's rebuy rate: of the items in returning shoppers' later baskets (orders, else
   * sessions), the share they had in an earlier basket — about 0.25 for groceries and repeat
   * wholesale orders, near 0 for films. Shrunk towards 0 over the first 50 such items, so a
   * handful of returning shoppers cannot decide it.
   */
  async repeatRate(): Promise<number> {
    const [returning, rebuys] = await this.redis.hmget(this.keys.key('stats'), 'returning', 'rebuys');
    return Number(rebuys ?? 0) / (Number(returning ?? 0) + 50);
  }

  /** Items with the most distinct shoppers, overall or within a category (a path prefix `depth` levels deep, or a category key). */
  async popular(n: number, category?: { path: readonly string[]; depth: number } | string): Promise<{ productId: string; shoppers: number }[]> {
    const key = category === undefined ? this.keys.key('popular') : this.keys.key('catpop', typeof category === 'string' ? category : categoryKey(category.path, category.depth));
    const flat = await this.redis.zrevrange(key, 0, n - 1, 'WITHSCORES');
    const out: { productId: string; shoppers: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ productId: flat[i]!, shoppers: Number(flat[i + 1]) });
    return out;
  }

  /**
   * Top trending items with decayed scores in "weighted interactions" units, as of the newest
   * interaction seen (event time: a replay of last year's log trends as it did then).
   */
  async trending(n: number): Promise<{ productId: string; score: number }[]> {
    const [epochRaw, clockRaw] = await this.redis.mget(this.keys.key('trending', 'epoch'), this.keys.key('trending', 'clock'));
    if (epochRaw === null || clockRaw === null) return [];
    const flat = await this.redis.zrevrange(this.keys.key('trending', 'global'), 0, n - 1, 'WITHSCORES');
    const out: { productId: string; score: number }[] = [];
    // Rounded to 9 significant digits: sums of the same increments in another order (another
    // interleaving of partitions) differ in the last bits, and must not reorder equal items.
    for (let i = 0; i < flat.length; i += 2) out.push({ productId: flat[i]!, score: Number(forwardDecayValue(Number(flat[i + 1]), Number(clockRaw), Number(epochRaw), this.halfLife).toPrecision(9)) });
    return out.sort((a, b) => b.score - a.score || (a.productId < b.productId ? -1 : 1));
  }

  /** Removes deleted items from the trending set. */
  async dropTrending(productId: string): Promise<void> {
    await this.redis.zrem(this.keys.key('trending', 'global'), productId);
  }

  /**
   * Stores a list if newer than the stored one, minus items deleted or unavailable by now;
   * maintains the reverse index. Returns what was stored (publish exactly that), or undefined.
   */
  async putList(update: RecommendationUpdate): Promise<RecommendationUpdate | undefined> {
    const r = (await PUT_LIST.run(
      this.redis,
      [this.listKey(update.kind, update.subjectId), this.keys.key('inlists', ''), this.itemKey('')],
      [String(update.generatedAt), JSON.stringify(update), `${update.kind}:${update.subjectId}`],
    )) as string | null;
    if (r === null) return undefined;
    return r.length === 0 ? undefined : (JSON.parse(r) as RecommendationUpdate);
  }

  async getList(kind: RecKind, subject: string): Promise<RecommendationUpdate | undefined> {
    const s = await this.serving.listJson(kind, subject);
    return s ? (JSON.parse(s) as RecommendationUpdate) : undefined;
  }

  async dropList(kind: RecKind, subject: string): Promise<boolean> {
    return ((await DROP_LIST.run(this.redis, [this.listKey(kind, subject), this.keys.key('inlists', '')], [`${kind}:${subject}`])) as number) === 1;
  }

  /** Lists (as `kind:subject`) that currently contain the item. */
  async listsContaining(productId: string): Promise<string[]> {
    return this.redis.smembers(this.keys.key('inlists', productId));
  }
}

