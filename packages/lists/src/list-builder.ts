import type { RecKind, RecommendedItem } from '@affinity/contracts';
import {
  ScoreCalibrator,
  cosine,
  dot,
  userProfile,
  zScore,
  type BackgroundStats,
  type Candidate,
  type Evidence,
  type FallbackCandidate,
  type FeatureVector,
  type RankRequest,
  type Ranker,
} from '@affinity/recommend';
import type { BehaviourVectors } from './behaviour-vectors';
import type { ContentIndex } from './content-index';
import { categoryKey, type CoOccurrenceKind, type NeighbourRow, type RecState, type RecentInteraction, type StoredItem } from './rec-state';

export interface BuiltList {
  kind: RecKind;
  subjectId: string;
  items: RecommendedItem[];
  versions: Record<string, string>;
  /** False when the content index answered for part of the catalog only. */
  complete: boolean;
}

/** What a list is built from, before ranking: the evaluation fits the ranker's weights on these. */
export interface GatheredList {
  request: RankRequest;
  modelId: string | undefined;
  complete: boolean;
}

export interface ListBuilderOptions {
  state: RecState;
  index: ContentIndex;
  behaviour: BehaviourVectors;
  ranker: Ranker;
  /** Candidates fetched per source and anchor. @defaultValue 50 */
  fanIn?: number;
  /** A shopper's most recent distinct items that anchor their list. @defaultValue 20 */
  anchorsPerUser?: number;
  /**
   * The catalog's rebuy rate (see RecState.repeatRate) below which a shopper is never shown what
   * they already have: random repeats run at about 0.1 where shoppers do not rebuy. @defaultValue 0.15
   */
  minRepeatRate?: number;
  /** Attributes that make a complement plausible. @defaultValue brand, size, collection */
  complementAttributes?: readonly string[];
}

const AVAILABLE = ['in_stock', 'preorder'] as const;
/** How much each kind of interaction says about a shopper's interest (a purchase says most). */
const INTEREST: Record<RecentInteraction['type'], number> = { view: 0.5, click: 0.6, add_to_cart: 0.8, purchase: 1, rating: 1 };
/** An anchor's weight halves every this many newer distinct items. */
const ANCHOR_HALF_RANK = 10;

/** Co-occurrence with weighted anchors, as the three features the ranker reads. */
interface CoStats {
  /** Σ anchors w·both */
  count: number;
  /** Σ w·both/√(n_a·n_c) */
  assoc: number;
  /** Σ w·both/(n_a + 1) */
  conf: number;
  /** Strongest single anchor's count (for the reason) and its id. */
  best: number;
  bestAnchor: string;
}

/**
 * Gathers candidates for one list from every source (content index, behaviour vectors, basket
 * and history co-occurrence, the shopper's own items, popularity, trending), measures the
 * features the ranker blends (docs/ranking.md), and hands them to the {@link Ranker}. Stateless
 * apart from the background samples used to calibrate cosines.
 */
export class ListBuilder {
  private readonly calibrators = new Map<string, ScoreCalibrator>();
  /** Background stats per (model, product): a product's list is recomputed often, its background rarely changes. */
  private backgrounds = new Map<string, BackgroundStats | undefined>();
  private readonly fanIn: number;
  private readonly anchorsPerUser: number;
  private readonly minRepeatRate: number;
  private readonly complementAttributes: readonly string[];

  constructor(private readonly o: ListBuilderOptions) {
    this.fanIn = o.fanIn ?? 50;
    this.anchorsPerUser = o.anchorsPerUser ?? 20;
    this.minRepeatRate = o.minRepeatRate ?? 0.15;
    this.complementAttributes = o.complementAttributes ?? ['brand', 'size', 'collection'];
  }

  /** Configured list length (k). */
  get listLength(): number {
    return this.o.ranker.k;
  }

  get ranker(): Ranker {
    return this.o.ranker;
  }

  /**
   * Reloads the background sample of catalog content vectors used to calibrate cosines: the
   * catalog's bottom-k sketch kept in Redis, so every instance (and every replay) calibrates alike.
   */
  async refreshCalibration(sampleSize = 512): Promise<void> {
    this.backgrounds = new Map();
    const ids = await this.o.state.sampleItemIds(sampleSize);
    const [items, vectors] = await Promise.all([this.o.state.items(ids), this.o.state.contentVectors(ids)]);
    for (const c of this.calibrators.values()) c.clear();
    for (const [id, v] of vectors) {
      const model = items.get(id)?.modelId;
      if (model) this.offer(id, model, v);
    }
  }

  /** Adds a fresh catalog vector to the calibration sample of its model. */
  offer(productId: string, modelId: string, vector: Float32Array): void {
    this.backgrounds.delete(`${modelId}:${productId}`);
    let c = this.calibrators.get(modelId);
    if (!c) this.calibrators.set(modelId, (c = new ScoreCalibrator({ sampleSize: 512 })));
    c.offer(productId, vector);
  }

  private versions(modelId: string | undefined): Record<string, string> {
    return { ranker: this.o.ranker.version, embedding: modelId ?? 'none', behaviour: this.o.behaviour.modelId ?? 'none' };
  }

  async similar(productId: string, k?: number): Promise<BuiltList | undefined> {
    return this.build('similar', productId, k);
  }

  async complementary(productId: string, k?: number): Promise<BuiltList | undefined> {
    return this.build('complementary', productId, k);
  }

  async personalized(userId: string, k?: number): Promise<BuiltList> {
    return (await this.build('personalized', userId, k))!;
  }

  async trending(scope = 'global', k?: number): Promise<BuiltList> {
    return (await this.build('trending', scope, k))!;
  }

  /** Gathers and ranks one list; undefined when its subject is unknown (a similar list of a deleted product). */
  async build(kind: RecKind, subjectId: string, k?: number): Promise<BuiltList | undefined> {
    const g = await this.gather(kind, subjectId);
    if (!g) return undefined;
    const items = this.o.ranker.rank({ ...g.request, ...(k !== undefined ? { k } : {}) });
    return { kind, subjectId, items, versions: this.versions(g.modelId), complete: g.complete };
  }

  /** The candidates, features, fillers and exclusions of one list, before ranking. */
  gather(kind: RecKind, subjectId: string): Promise<GatheredList | undefined> {
    switch (kind) {
      case 'similar':
      case 'complementary':
        return this.gatherForItem(kind, subjectId);
      case 'personalized':
        return this.gatherForUser(subjectId);
      case 'trending':
        return this.gatherTrending();
    }
  }

  private background(modelId: string, productId: string, vector: Float32Array): BackgroundStats | undefined {
    const key = `${modelId}:${productId}`;
    if (!this.backgrounds.has(key)) {
      if (this.backgrounds.size > 50_000) this.backgrounds = new Map();
      this.backgrounds.set(key, this.calibrators.get(modelId)?.background(vector, new Set([productId])));
    }
    return this.backgrounds.get(key);
  }

  /**
   * Co-occurrence of each candidate with weighted anchors (counts, and the linear model's
   * weights when one has been fitted), and the supports of everything involved.
   */
  private async coStats(kind: CoOccurrenceKind, anchors: ReadonlyMap<string, number>, perAnchor: number): Promise<{ stats: Map<string, CoStats>; rows: Map<string, NeighbourRow[]>; linear: Map<string, number> }> {
    const [rows, linearRows] = await Promise.all([this.o.state.neighbours(kind, [...anchors.keys()], perAnchor), this.o.state.linearNeighbours(kind, [...anchors.keys()], perAnchor)]);
    const linear = new Map<string, number>();
    for (const [a, list] of linearRows) {
      const w = anchors.get(a) ?? 0;
      for (const r of list) linear.set(r.productId, (linear.get(r.productId) ?? 0) + w * r.weight);
    }
    const ids = new Set<string>(anchors.keys());
    for (const list of rows.values()) for (const r of list) ids.add(r.productId);
    const support = await this.o.state.supports(kind, [...ids]);
    const stats = new Map<string, CoStats>();
    for (const [a, list] of rows) {
      const w = anchors.get(a) ?? 0;
      const na = support.get(a) ?? 0;
      for (const r of list) {
        const nc = Math.max(support.get(r.productId) ?? 0, r.both);
        let s = stats.get(r.productId);
        if (!s) stats.set(r.productId, (s = { count: 0, assoc: 0, conf: 0, best: 0, bestAnchor: a }));
        s.count += w * r.both;
        s.assoc += (w * r.both) / Math.sqrt(Math.max(na, r.both) * nc);
        s.conf += (w * r.both) / (Math.max(na, r.both) + 1);
        if (r.both > s.best) {
          s.best = r.both;
          s.bestAnchor = a;
        }
      }
    }
    return { stats, rows, linear };
  }

  /**
   * How strongly each leaf category is bought with the given leaves (weighted): the cosine of
   * their basket columns, averaged over the given leaves by weight; and the most associated
   * categories, strongest first.
   */
  private async categoryAssociations(leaves: ReadonlyMap<string, number>): Promise<{ of: (path: readonly string[]) => number; top: string[] }> {
    const { rows, baskets } = await this.o.state.categoryAssociations([...leaves.keys()], 30);
    const assoc = new Map<string, number>();
    let total = 0;
    for (const [leaf, w] of leaves) {
      total += w;
      const n = baskets.get(leaf) ?? 0;
      for (const r of rows.get(leaf) ?? []) {
        const m = baskets.get(r.category) ?? 0;
        if (n > 0 && m > 0) assoc.set(r.category, (assoc.get(r.category) ?? 0) + (w * r.both) / Math.sqrt(n * m));
      }
    }
    for (const [c, v] of assoc) assoc.set(c, v / (total || 1));
    const top = [...assoc].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([c]) => c);
    return { of: (path) => (path.length > 0 ? (assoc.get(categoryKey(path, path.length)) ?? 0) : 0), top };
  }

  private async gatherForItem(kind: 'similar' | 'complementary', productId: string): Promise<GatheredList | undefined> {
    const st = this.o.state;
    const [subject, subjectVec] = await Promise.all([st.items([productId]).then((m) => m.get(productId)), st.contentVectors([productId]).then((m) => m.get(productId))]);
    if (!subject) return undefined;
    const anchors = new Map([[productId, 1]]);
    const behaviourVec = this.o.behaviour.vector(productId);
    const leaf = subject.categoryPath.length;
    const subjectLeaf = categoryKey(subject.categoryPath, leaf);
    const [content, basket, history, brandItems, categoryTop, popular, leafAssoc] = await Promise.all([
      subjectVec ? this.o.index.search({ modelId: subject.modelId, vector: subjectVec, k: this.fanIn, exclude: [productId], filter: { availability: [...AVAILABLE] } }) : undefined,
      this.coStats('basket', anchors, kind === 'complementary' ? this.fanIn * 2 : this.fanIn),
      this.coStats('history', anchors, this.fanIn),
      kind === 'complementary' && subject.brand ? st.itemsOfBrand(subject.brand, this.fanIn) : Promise.resolve([]),
      leaf > 0 ? st.popular(this.fanIn, { path: subject.categoryPath, depth: leaf }) : Promise.resolve([]),
      st.popular(this.fanIn),
      leaf > 0 ? this.categoryAssociations(new Map([[subjectLeaf, 1]])) : undefined,
    ]);
    // The popular items of the categories bought most with the subject's.
    const associated = kind === 'complementary' && leafAssoc ? await Promise.all(leafAssoc.top.slice(0, 5).map((c) => st.popular(10, c))) : [];
    // Popular items compete on their features too: the strongest complements of a new or rare item are often staples.
    const ids = new Set<string>([
      ...(content?.hits.map((h) => h.id) ?? []),
      ...basket.stats.keys(),
      ...history.stats.keys(),
      ...basket.linear.keys(),
      ...history.linear.keys(),
      ...brandItems,
      ...categoryTop.map((c) => c.productId),
      ...popular.map((p) => p.productId),
      ...associated.flat().map((p) => p.productId),
    ]);
    if (behaviourVec) for (const h of this.o.behaviour.search(behaviourVec, this.fanIn)) ids.add(h.id);
    ids.delete(productId);
    const { items, vectors, shoppers } = await this.load([...ids]);
    const bg = subjectVec ? this.background(subject.modelId, productId, subjectVec) : undefined;
    const behaviourBg = behaviourVec && this.o.behaviour.calibrator.background(behaviourVec);
    const candidates: Candidate[] = [];
    for (const id of ids) {
      const info = items.get(id);
      if (!info) continue;
      const v = vectors.get(id);
      const features: FeatureVector = {};
      const evidence: Evidence = {};
      this.coFeatures(features, evidence, basket.stats.get(id), history.stats.get(id), undefined);
      linearFeatures(features, basket.linear.get(id), history.linear.get(id));
      if (subjectVec && v && bg) {
        const cos = cosine(subjectVec, v);
        features.content = clampZ(zScore(cos, bg));
        evidence.contentCos = cos;
      }
      this.behaviourFeature(features, evidence, behaviourVec, behaviourBg, id);
      const n = shoppers.get(id) ?? 0;
      features.popularity = Math.log1p(n);
      if (n > 0) evidence.shoppers = n;
      const [sameLeaf, sameRoot] = sharedCategory(subject, info);
      const assoc = leafAssoc?.of(info.categoryPath);
      if (assoc) {
        features.categoryAssoc = assoc;
        evidence.goesWith = info.categoryPath.at(-1);
      }
      if (sameLeaf) features.category = 1;
      if (sameRoot) features.department = 1;
      if (sameLeaf || sameRoot) evidence.category = info.categoryPath.slice(0, sameLeaf ? leaf : 1).join(' > ');
      if (kind === 'complementary') {
        const shared = this.sharedAttributes(subject, info);
        if (shared.length > 0) {
          features.attributes = shared.length;
          evidence.shared = shared;
        }
      }
      candidates.push({ productId: id, features, evidence, vector: v });
    }
    const fallback: FallbackCandidate[] = [
      ...categoryTop.map((c) => ({ productId: c.productId, reason: 'category' as const, label: subject.categoryPath.at(-1), value: c.shoppers, vector: vectors.get(c.productId) })),
      ...popular.map((p) => ({ productId: p.productId, reason: 'popular' as const, value: p.shoppers, vector: vectors.get(p.productId) })),
    ];
    // No co-occurrence at all yet: a new product, ranked by the kind's cold-start model.
    const cold = (basket.rows.get(productId)?.length ?? 0) === 0 && (history.rows.get(productId)?.length ?? 0) === 0;
    return {
      request: { kind, subject: { ...subject, vector: subjectVec }, candidates, fallback, items, cold },
      modelId: subject.modelId,
      complete: content?.complete ?? true,
    };
  }

  private async gatherForUser(userId: string): Promise<GatheredList> {
    const st = this.o.state;
    const [recent, own, repeatRate, userBehaviour, trending, popular] = await Promise.all([
      st.recent(userId),
      st.userItems(userId),
      st.repeatRate(),
      st.behaviourVector('user', userId),
      st.trending(this.fanIn),
      st.popular(this.fanIn),
    ]);
    // Anchors: the latest distinct items, the newest and most committed weighing most.
    const anchors = new Map<string, number>();
    for (const r of recent) {
      if (anchors.size >= this.anchorsPerUser && !anchors.has(r.productId)) continue;
      const w = INTEREST[r.type] * 0.5 ** (anchors.size / ANCHOR_HALF_RANK);
      if (w > (anchors.get(r.productId) ?? 0)) anchors.set(r.productId, w);
    }
    const anchorIds = [...anchors.keys()];
    const { items: anchorItems, vectors: anchorVectors } = await this.load(anchorIds);
    const modelId = [...anchorItems.values()][0]?.modelId;
    const newest = recent.reduce((m, r) => Math.max(m, r.ts), 0);
    const profile = userProfile(
      recent.flatMap((r) => {
        const v = anchorVectors.get(r.productId);
        return v && anchorItems.get(r.productId)?.modelId === modelId ? [{ vector: v, weight: INTEREST[r.type], ts: r.ts }] : [];
      }),
      newest,
    );
    const perAnchor = Math.max(10, Math.round((this.fanIn * 4) / Math.max(1, anchors.size)));
    const anchorLeaves = new Map<string, number>();
    for (const [a, w] of anchors) {
      const path = anchorItems.get(a)?.categoryPath;
      if (path && path.length > 0) anchorLeaves.set(categoryKey(path, path.length), (anchorLeaves.get(categoryKey(path, path.length)) ?? 0) + w);
    }
    const [content, basket, history, leafAssoc] = await Promise.all([
      profile && modelId ? this.o.index.search({ modelId, vector: profile, k: this.fanIn, exclude: anchorIds, filter: { availability: [...AVAILABLE] } }) : undefined,
      this.coStats('basket', anchors, perAnchor),
      this.coStats('history', anchors, perAnchor),
      anchorLeaves.size > 0 ? this.categoryAssociations(new Map([...anchorLeaves].sort((a, b) => b[1] - a[1]).slice(0, 5))) : undefined,
    ]);
    const rebuys = repeatRate >= this.minRepeatRate;
    const ownTop = [...own].sort((a, b) => b[1] - a[1]).slice(0, this.fanIn);
    const ids = new Set<string>([
      ...(content?.hits.map((h) => h.id) ?? []),
      ...basket.stats.keys(),
      ...history.stats.keys(),
      ...basket.linear.keys(),
      ...history.linear.keys(),
      ...trending.map((t) => t.productId),
      ...popular.map((p) => p.productId),
    ]);
    if (rebuys) for (const [id] of ownTop) ids.add(id);
    if (userBehaviour) for (const h of this.o.behaviour.search(userBehaviour, this.fanIn)) ids.add(h.id);
    const { items, vectors, shoppers } = await this.load([...ids]);
    // Category affinity: the share of the anchors' weight in each leaf and root category.
    const leafShare = new Map<string, number>();
    const rootShare = new Map<string, number>();
    let total = 0;
    for (const [a, w] of anchors) {
      const path = anchorItems.get(a)?.categoryPath;
      if (!path || path.length === 0) continue;
      total += w;
      leafShare.set(path.join('\u0000'), (leafShare.get(path.join('\u0000')) ?? 0) + w);
      rootShare.set(path[0]!, (rootShare.get(path[0]!) ?? 0) + w);
    }
    const bg = profile && modelId ? this.calibrators.get(modelId)?.background(profile) : undefined;
    const behaviourBg = userBehaviour && this.o.behaviour.calibrator.background(userBehaviour);
    const trendingById = new Map(trending.map((t) => [t.productId, t.score]));
    const candidates: Candidate[] = [];
    for (const id of ids) {
      const info = items.get(id);
      if (!info) continue;
      const v = vectors.get(id);
      const features: FeatureVector = {};
      const evidence: Evidence = {};
      this.coFeatures(features, evidence, basket.stats.get(id), history.stats.get(id), anchorItems);
      linearFeatures(features, basket.linear.get(id), history.linear.get(id));
      if (profile && v && bg) {
        const cos = cosine(profile, v);
        features.content = clampZ(zScore(cos, bg));
        evidence.contentCos = cos;
        evidence.anchorTitle ??= this.nearestTitle(v, anchorItems, anchorVectors);
      }
      this.behaviourFeature(features, evidence, userBehaviour, behaviourBg, id);
      const n = shoppers.get(id) ?? 0;
      features.popularity = Math.log1p(n);
      if (n > 0) evidence.shoppers = n;
      const t = trendingById.get(id);
      if (t !== undefined && t > 0) {
        features.trending = Math.log1p(t);
        evidence.trending = t;
      }
      const assoc = leafAssoc?.of(info.categoryPath);
      if (assoc) {
        features.categoryAssoc = assoc;
        evidence.goesWith = info.categoryPath.at(-1);
      }
      if (total > 0 && info.categoryPath.length > 0) {
        const leaf = (leafShare.get(info.categoryPath.join('\u0000')) ?? 0) / total;
        const root = (rootShare.get(info.categoryPath[0]!) ?? 0) / total;
        if (leaf > 0) features.category = leaf;
        if (root > 0) features.department = root;
        if (leaf > 0 || root > 0) evidence.category = leaf > 0 ? info.categoryPath.join(' > ') : info.categoryPath[0]!;
      }
      const mine = own.get(id);
      if (mine !== undefined && rebuys) {
        features.repeat = repeatRate * Math.log1p(mine);
        evidence.ownCount = mine;
      }
      candidates.push({ productId: id, features, evidence, vector: v });
    }
    const fallback: FallbackCandidate[] = [
      ...trending.map((t) => ({ productId: t.productId, reason: 'trending' as const, value: t.score, vector: vectors.get(t.productId) })),
      ...popular.map((p) => ({ productId: p.productId, reason: 'popular' as const, value: p.shoppers, vector: vectors.get(p.productId) })),
    ];
    const exclude = rebuys ? new Set<string>() : new Set(own.keys());
    return { request: { kind: 'personalized', candidates, fallback, items, exclude, cold: anchors.size === 0 }, modelId, complete: content?.complete ?? true };
  }

  private async gatherTrending(): Promise<GatheredList> {
    const [top, popular] = await Promise.all([this.o.state.trending(this.fanIn * 2), this.o.state.popular(this.fanIn)]);
    const { items, vectors } = await this.load([...top.map((t) => t.productId), ...popular.map((p) => p.productId)]);
    const candidates: Candidate[] = top
      .filter((t) => t.score > 0)
      .map((t) => ({ productId: t.productId, vector: vectors.get(t.productId), features: { trending: Math.log1p(t.score) }, evidence: { trending: t.score } }));
    const fallback: FallbackCandidate[] = popular.map((p) => ({ productId: p.productId, reason: 'popular', value: p.shoppers, vector: vectors.get(p.productId) }));
    return { request: { kind: 'trending', candidates, fallback, items }, modelId: undefined, complete: true };
  }

  private coFeatures(features: FeatureVector, evidence: Evidence, basket: CoStats | undefined, history: CoStats | undefined, anchorItems: ReadonlyMap<string, StoredItem> | undefined): void {
    if (basket && basket.count > 0) {
      features.copurchase = Math.log1p(basket.count);
      features.copurchaseAssoc = basket.assoc;
      features.copurchaseConf = basket.conf;
      evidence.boughtTogether = basket.best;
    }
    if (history && history.count > 0) {
      features.cooccurrence = Math.log1p(history.count);
      features.cooccurrenceAssoc = history.assoc;
      features.cooccurrenceConf = history.conf;
      evidence.engagedTogether = history.best;
      if (anchorItems) evidence.anchorTitle = anchorItems.get(history.bestAnchor)?.title;
    }
  }

  private behaviourFeature(features: FeatureVector, evidence: Evidence, query: Float32Array | undefined, bg: BackgroundStats | undefined, id: string): void {
    if (!query || !bg) return;
    const v = this.o.behaviour.vector(id);
    if (!v) return;
    const cos = cosine(query, v);
    features.behaviour = clampZ(zScore(cos, bg));
    evidence.behaviourCos = cos;
  }

  private async load(ids: readonly string[]): Promise<{ items: Map<string, StoredItem>; vectors: Map<string, Float32Array>; shoppers: Map<string, number> }> {
    const unique = [...new Set(ids)];
    const [items, vectors, shoppers] = await Promise.all([this.o.state.items(unique), this.o.state.contentVectors(unique), this.o.state.supports('history', unique)]);
    return { items, vectors, shoppers };
  }

  private nearestTitle(v: Float32Array, items: ReadonlyMap<string, StoredItem>, vectors: ReadonlyMap<string, Float32Array>): string | undefined {
    let best: string | undefined;
    let bestCos = -Infinity;
    for (const [id, w] of vectors) {
      const c = dot(v, w);
      if (c > bestCos) {
        bestCos = c;
        best = items.get(id)?.title;
      }
    }
    return best;
  }

  private sharedAttributes(a: StoredItem, b: StoredItem): { name: string; value: string }[] {
    const out: { name: string; value: string }[] = [];
    for (const name of this.complementAttributes) {
      const va = name === 'brand' ? a.brand : a.attributes?.[name];
      const vb = name === 'brand' ? b.brand : b.attributes?.[name];
      if (va && vb && va.toLowerCase() === vb.toLowerCase()) out.push({ name, value: va });
    }
    return out;
  }
}

/** The linear models' summed weights (only positive weights are stored). */
function linearFeatures(features: FeatureVector, basket: number | undefined, history: number | undefined): void {
  if (basket !== undefined && basket > 0) features.copurchaseLinear = basket;
  if (history !== undefined && history > 0) features.cooccurrenceLinear = history;
}

/** z-scores beyond this say nothing more (and would dominate a linear blend). */
const clampZ = (z: number): number => Math.max(-3, Math.min(8, z));

/** [same leaf category, same root category]; no category means unknown, not equal. */
function sharedCategory(a: StoredItem, b: StoredItem): [boolean, boolean] {
  const pa = a.categoryPath.map((c) => c.toLowerCase());
  const pb = b.categoryPath.map((c) => c.toLowerCase());
  if (pa.length === 0 || pb.length === 0) return [false, false];
  return [pa.length === pb.length && pa.every((c, i) => c === pb[i]), pa[0] === pb[0]];
}
