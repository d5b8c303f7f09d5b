import type { RecKind, RecommendedItem } from '@affinity/contracts';
import type { IndexRouter } from '@affinity/index-router';
import {
  INTERACTION_WEIGHT,
  ScoreCalibrator,
  cosine,
  dot,
  npmi,
  lift,
  userProfile,
  zScore,
  type BackgroundStats,
  type Candidate,
  type CandidateSignals,
  type Ranker,
} from '@affinity/recommend';
import type { BehaviourTable } from './behaviour-table';
import type { RecState, StoredItem } from './rec-state';

export interface BuiltList {
  kind: RecKind;
  subjectId: string;
  items: RecommendedItem[];
  versions: Record<string, string>;
  /** False when the content index answered for part of the catalog only. */
  complete: boolean;
}

export interface ListBuilderOptions {
  state: RecState;
  router: IndexRouter;
  behaviour: BehaviourTable;
  ranker: Ranker;
  /** Candidates fetched per source. @defaultValue 50 */
  fanIn?: number;
  /** Attributes that make a complement plausible when co-purchase data is thin. @defaultValue brand, size, collection */
  complementAttributes?: readonly string[];
}

const AVAILABLE = ['in_stock', 'preorder'] as const;

/**
 * Gathers candidates for one list from every source (content index, behaviour table,
 * co-purchase counts, user history, trending), attaches calibrated signals, and hands them
 * to the {@link Ranker}. Stateless apart from the background samples used for calibration.
 */
export class ListBuilder {
  private readonly calibrators = new Map<string, ScoreCalibrator>();
  /** Background stats per (model, product): a product's list is recomputed often, its background rarely changes. */
  private backgrounds = new Map<string, BackgroundStats | undefined>();
  private readonly fanIn: number;
  private readonly complementAttributes: readonly string[];

  constructor(private readonly o: ListBuilderOptions) {
    this.fanIn = o.fanIn ?? 50;
    this.complementAttributes = o.complementAttributes ?? ['brand', 'size', 'collection'];
  }

  /** Refreshes the background sample of catalog content vectors used to calibrate cosines. */
  /** Configured list length (k). */
  get listLength(): number {
    return this.o.ranker.options.k;
  }

  async refreshCalibration(sampleSize = 512): Promise<void> {
    // Reservoir sampling keeps the sample representative as the catalog grows.
    this.backgrounds = new Map();
    const ids = await this.o.state.sampleItemIds(sampleSize);
    const [items, vectors] = await Promise.all([this.o.state.items(ids), this.o.state.contentVectors(ids)]);
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

  private contentSignal(query: Float32Array, v: Float32Array | undefined, bg: ReturnType<ScoreCalibrator['background']>): CandidateSignals['content'] {
    if (!v || !bg) return undefined;
    const cos = cosine(query, v);
    return { cos, z: zScore(cos, bg) };
  }

  /** Behaviour-space signal; `bg` is the query's background, computed once per list. */
  private behaviourSignal(query: Float32Array | undefined, bg: ReturnType<ScoreCalibrator['background']>, id: string): CandidateSignals['behaviour'] {
    if (!query || !bg) return undefined;
    const v = this.o.behaviour.vector(id);
    if (!v) return undefined;
    const cos = cosine(query, v);
    return { cos, z: zScore(cos, bg) };
  }

  private async coPurchaseSignals(productId: string): Promise<Map<string, NonNullable<CandidateSignals['copurchase']>>> {
    const { rows, self, total } = await this.o.state.coPurchases(productId, this.fanIn);
    const out = new Map<string, NonNullable<CandidateSignals['copurchase']>>();
    for (const r of rows) {
      const c = { both: r.both, x: self, y: r.other, total };
      out.set(r.productId, { count: r.both, npmi: npmi(c), lift: lift(c) });
    }
    return out;
  }

  async similar(productId: string): Promise<BuiltList | undefined> {
    const subject = (await this.o.state.items([productId])).get(productId);
    const subjectVec = (await this.o.state.contentVectors([productId])).get(productId);
    if (!subject || !subjectVec) return undefined;
    const behaviourVec = this.o.behaviour.vector(productId);
    const [content, copurchase] = await Promise.all([
      this.o.router.search({ modelId: subject.modelId, vector: subjectVec, k: this.fanIn, exclude: [productId], filter: { availability: [...AVAILABLE] } }),
      this.coPurchaseSignals(productId),
    ]);
    const ids = new Set<string>(content.hits.map((h) => h.id));
    if (behaviourVec) for (const h of this.o.behaviour.search(behaviourVec, this.fanIn)) ids.add(h.id);
    for (const id of copurchase.keys()) ids.add(id);
    ids.delete(productId);
    const bgKey = `${subject.modelId}:${productId}`;
    if (!this.backgrounds.has(bgKey)) {
      if (this.backgrounds.size > 50_000) this.backgrounds = new Map();
      this.backgrounds.set(bgKey, this.calibrators.get(subject.modelId)?.background(subjectVec, new Set([productId])));
    }
    const bg = this.backgrounds.get(bgKey);
    const behaviourBg = behaviourVec && this.o.behaviour.calibrator.background(behaviourVec);
    const { items, vectors } = await this.load([...ids]);
    const candidates: Candidate[] = [...ids].map((id) => ({
      productId: id,
      vector: vectors.get(id),
      signals: { content: this.contentSignal(subjectVec, vectors.get(id), bg), behaviour: this.behaviourSignal(behaviourVec, behaviourBg, id), copurchase: copurchase.get(id) },
    }));
    const ranked = this.o.ranker.rank({ kind: 'similar', subject: { ...subject, vector: subjectVec }, candidates, items });
    return { kind: 'similar', subjectId: productId, items: ranked, versions: this.versions(subject.modelId), complete: content.complete };
  }

  async complementary(productId: string): Promise<BuiltList | undefined> {
    const subject = (await this.o.state.items([productId])).get(productId);
    if (!subject) return undefined;
    const subjectVec = (await this.o.state.contentVectors([productId])).get(productId);
    const behaviourVec = this.o.behaviour.vector(productId);
    const copurchase = await this.coPurchaseSignals(productId);
    const ids = new Set<string>(copurchase.keys());
    // Thin co-purchase data: items sharing brand (and size, collection...) but of another kind.
    const sameBrand = subject.brand ? await this.o.state.itemsOfBrand(subject.brand, this.fanIn) : [];
    for (const id of sameBrand) ids.add(id);
    ids.delete(productId);
    const { items, vectors } = await this.load([...ids]);
    const behaviourBg = behaviourVec && this.o.behaviour.calibrator.background(behaviourVec);
    const candidates: Candidate[] = [...ids].map((id) => ({
      productId: id,
      vector: vectors.get(id),
      signals: {
        copurchase: copurchase.get(id),
        behaviour: this.behaviourSignal(behaviourVec, behaviourBg, id),
        attributes: { shared: this.sharedAttributes(subject, items.get(id)) },
      },
    }));
    const ranked = this.o.ranker.rank({ kind: 'complementary', subject: { ...subject, vector: subjectVec }, candidates, items });
    return { kind: 'complementary', subjectId: productId, items: ranked, versions: this.versions(subject.modelId), complete: true };
  }

  async personalized(userId: string): Promise<BuiltList> {
    const [recent, purchased, userBehaviour, trending] = await Promise.all([
      this.o.state.recent(userId),
      this.o.state.purchased(userId),
      this.o.state.behaviourVector('user', userId),
      this.o.state.trending(this.fanIn),
    ]);
    const recentIds = [...new Set(recent.map((r) => r.productId))];
    const { items: recentItems, vectors: recentVectors } = await this.load(recentIds);
    const newest = recent.reduce((m, r) => Math.max(m, r.ts), 0);
    const modelId = [...recentItems.values()][0]?.modelId;
    const profile = userProfile(
      recent.flatMap((r) => {
        const v = recentVectors.get(r.productId);
        return v && recentItems.get(r.productId)?.modelId === modelId ? [{ vector: v, weight: INTERACTION_WEIGHT[r.type], ts: r.ts }] : [];
      }),
      newest,
    );
    // Baskets: what goes with what they bought or put in the cart lately.
    const anchors = [...new Set(recent.filter((r) => r.type === 'purchase' || r.type === 'add_to_cart').map((r) => r.productId))].slice(0, 3);
    const [content, ...anchorSignals] = await Promise.all([
      profile && modelId ? this.o.router.search({ modelId, vector: profile, k: this.fanIn, exclude: recentIds, filter: { availability: [...AVAILABLE] } }) : undefined,
      ...anchors.map((a) => this.coPurchaseSignals(a)),
    ]);
    const ids = new Set<string>(content?.hits.map((h) => h.id) ?? []);
    if (userBehaviour) for (const h of this.o.behaviour.search(userBehaviour, this.fanIn)) ids.add(h.id);
    const copurchase = new Map<string, NonNullable<CandidateSignals['copurchase']>>();
    for (const signals of anchorSignals) {
      for (const [id, s] of signals) {
        const prev = copurchase.get(id);
        if (!prev || s.npmi * s.count > prev.npmi * prev.count) copurchase.set(id, s);
        ids.add(id);
      }
    }
    // Cold start and a gentle popularity prior.
    for (const t of trending) ids.add(t.productId);
    const trendingById = new Map(trending.map((t) => [t.productId, t]));
    const { items, vectors } = await this.load([...ids]);
    const bg = profile && modelId ? this.calibrators.get(modelId)?.background(profile) : undefined;
    // The reason names the recent item a candidate is closest to; the last ten are enough.
    const anchorVectors = new Map(recentIds.slice(0, 10).flatMap((id) => (recentVectors.has(id) ? [[id, recentVectors.get(id)!] as const] : [])));
    const behaviourBg = userBehaviour && this.o.behaviour.calibrator.background(userBehaviour);
    const candidates: Candidate[] = [...ids].map((id) => {
      const v = vectors.get(id);
      const profileSignal = profile ? this.contentSignal(profile, v, bg) : undefined;
      const t = trendingById.get(id);
      return {
        productId: id,
        vector: v,
        signals: {
          profile: profileSignal && { ...profileSignal, anchor: v ? this.nearestTitle(v, recentItems, anchorVectors) : undefined },
          behaviour: this.behaviourSignal(userBehaviour, behaviourBg, id),
          copurchase: copurchase.get(id),
          trending: t && { score: t.score, count: Math.round(t.score) },
        },
      };
    });
    const exclude = new Set([...purchased, ...recentIds]);
    const ranked = this.o.ranker.rank({ kind: 'personalized', candidates, items, exclude });
    return { kind: 'personalized', subjectId: userId, items: ranked, versions: this.versions(modelId), complete: content?.complete ?? true };
  }

  async trending(scope = 'global'): Promise<BuiltList> {
    const top = await this.o.state.trending(this.fanIn * 2);
    const { items, vectors } = await this.load(top.map((t) => t.productId));
    const candidates: Candidate[] = top.map((t) => ({ productId: t.productId, vector: vectors.get(t.productId), signals: { trending: { score: t.score, count: Math.round(t.score) } } }));
    const ranked = this.o.ranker.rank({ kind: 'trending', candidates, items });
    return { kind: 'trending', subjectId: scope, items: ranked, versions: this.versions(undefined), complete: true };
  }

  private async load(ids: readonly string[]): Promise<{ items: Map<string, StoredItem>; vectors: Map<string, Float32Array> }> {
    const [items, vectors] = await Promise.all([this.o.state.items(ids), this.o.state.contentVectors(ids)]);
    return { items, vectors };
  }

  private nearestTitle(v: Float32Array, items: Map<string, StoredItem>, vectors: Map<string, Float32Array>): string | undefined {
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

  private sharedAttributes(a: StoredItem, b: StoredItem | undefined): { name: string; value: string }[] {
    if (!b) return [];
    const out: { name: string; value: string }[] = [];
    for (const name of this.complementAttributes) {
      const va = name === 'brand' ? a.brand : a.attributes?.[name];
      const vb = name === 'brand' ? b.brand : b.attributes?.[name];
      if (va && vb && va.toLowerCase() === vb.toLowerCase()) out.push({ name, value: va });
    }
    return out;
  }
}
