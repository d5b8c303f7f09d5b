import { normalizeText, type Reason, type RecKind, type RecommendedItem } from '@affinity/contracts';
import { mmrSelect } from './mmr';
import { relevanceFromZ } from './score-calibrator';
import { dot } from './vector-math';

export type SourceKind = 'content' | 'behaviour' | 'profile' | 'copurchase' | 'attributes' | 'trending';

/** What each candidate source found for one candidate. Scores are already per-query calibrated. */
export interface CandidateSignals {
  /** Content (text embedding) similarity to the subject: raw cosine and its z-score against the query's background. */
  content?: { cos: number; z: number };
  /** Behaviour (FastRP) similarity. */
  behaviour?: { cos: number; z: number };
  /** Similarity to a user's profile; `anchor` is the title of the recent item it is closest to. */
  profile?: { cos: number; z: number; anchor?: string };
  /** Co-purchase statistics with the subject (or the user's recent baskets). */
  copurchase?: { count: number; npmi: number; lift: number };
  /** Attribute relations (complementary fallback when co-purchase data is thin). */
  attributes?: { shared: readonly { name: string; value: string }[] };
  /** Decayed interaction count; `count` is the raw number in the window. */
  trending?: { score: number; count: number };
}

export interface Candidate {
  productId: string;
  signals: CandidateSignals;
  /** Content vector, unit length (the embedder normalizes), for near-duplicate detection and diversity. */
  vector?: Float32Array;
}

/** What ranking needs to know about an item. Missing metadata means unknown or deleted: the item is dropped. */
export interface ItemInfo {
  productId: string;
  title: string;
  brand?: string;
  categoryPath: readonly string[];
  availability: 'in_stock' | 'out_of_stock' | 'preorder' | 'discontinued';
  attributes?: Readonly<Record<string, string>>;
}

export interface RankRequest {
  kind: RecKind;
  /** The item a similar/complementary list is for (with its content vector when known). */
  subject?: ItemInfo & { vector?: Float32Array };
  candidates: readonly Candidate[];
  items: ReadonlyMap<string, ItemInfo>;
  /** Never recommend these (already purchased, the user's own recent items, ...). */
  exclude?: ReadonlySet<string>;
  /** Overrides the configured list length. */
  k?: number;
}

export type SourceWeights = Partial<Record<SourceKind, number>>;

export interface RankerOptions {
  /** Per list kind, how much each source counts (0 = ignored). */
  weights?: Partial<Record<RecKind, SourceWeights>>;
  /**
   * The one global relevance cut-off in (0, 1): a candidate whose combined evidence is weaker
   * is dropped, even if the list ends up shorter than k. @defaultValue 0.5
   */
  threshold?: number;
  /** z-score at which a similarity source alone reaches relevance 0.5 (≈ "3σ above chance"). @defaultValue 3 */
  zMidpoint?: number;
  /** Steepness of the z → relevance curve. @defaultValue 0.75 */
  zWidth?: number;
  /** NPMI (shrunk) at which co-purchase alone reaches relevance 0.5. @defaultValue 0.15 */
  npmiMidpoint?: number;
  /** Fewer co-purchases than this are ignored. @defaultValue 2 */
  minCopurchases?: number;
  /** Interactions in the trending window below which an item is not trending. @defaultValue 3 */
  minTrendingCount?: number;
  /** MMR trade-off: 1 = pure relevance, 0 = pure diversity. @defaultValue 0.8 */
  mmrLambda?: number;
  /** Content cosine at or above which two listings are the same product. @defaultValue 0.97 */
  duplicateCosine?: number;
  /** Content cosine at or above which a complement is really a substitute. @defaultValue 0.8 */
  complementMaxCosine?: number;
  /** List length. @defaultValue 20 */
  k?: number;
}

export type CompiledRankerOptions = Required<Omit<RankerOptions, 'weights'>> & { weights: Record<RecKind, SourceWeights> };

export const DEFAULT_WEIGHTS: Record<RecKind, SourceWeights> = {
  similar: { content: 1, behaviour: 0.8, copurchase: 0.3, attributes: 0 },
  complementary: { copurchase: 1, attributes: 0.35, behaviour: 0.3 },
  personalized: { profile: 1, behaviour: 0.8, copurchase: 0.7, trending: 0.2 },
  trending: { trending: 1 },
};

export function compileRankerOptions(o: RankerOptions = {}): CompiledRankerOptions {
  const compiled: CompiledRankerOptions = {
    weights: { ...DEFAULT_WEIGHTS, ...o.weights } as Record<RecKind, SourceWeights>,
    threshold: o.threshold ?? 0.5,
    zMidpoint: o.zMidpoint ?? 3,
    zWidth: o.zWidth ?? 0.75,
    npmiMidpoint: o.npmiMidpoint ?? 0.15,
    minCopurchases: o.minCopurchases ?? 2,
    minTrendingCount: o.minTrendingCount ?? 3,
    mmrLambda: o.mmrLambda ?? 0.8,
    duplicateCosine: o.duplicateCosine ?? 0.97,
    complementMaxCosine: o.complementMaxCosine ?? 0.8,
    k: o.k ?? 20,
  };
  if (!(compiled.threshold > 0 && compiled.threshold < 1)) throw new RangeError('threshold must be in (0, 1)');
  if (!(compiled.mmrLambda >= 0 && compiled.mmrLambda <= 1)) throw new RangeError('mmrLambda must be in [0, 1]');
  if (!(compiled.k >= 1 && compiled.k <= 200)) throw new RangeError('k must be in [1, 200]');
  return compiled;
}

/** A short fingerprint of the configuration, recorded in every list's `versions`. */
export function rankerVersion(o: CompiledRankerOptions): string {
  const s = JSON.stringify(o);
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return `r1-${(h >>> 0).toString(16)}`;
}

interface Scored {
  candidate: Candidate;
  info: ItemInfo;
  relevance: number;
  parts: Partial<Record<SourceKind, number>>;
}

const fmt = (x: number, digits = 2): string => x.toFixed(digits);
/** A source must reach this relevance to be named as a reason. */
const MIN_REASON_RELEVANCE = 0.3;
const leafCategory = (i: ItemInfo): string | undefined => i.categoryPath[i.categoryPath.length - 1]?.toLowerCase();
const titleKey = (t: string): string => normalizeText(t).toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

/**
 * Blends candidate sources into a final list (DESIGN.md "packages/recommend"):
 * business rules → per-source relevance → weighted noisy-OR blend → one global cut-off →
 * MMR diversity → reasons. Pure and synchronous: the recommender gathers candidates, this
 * decides.
 */
export class Ranker {
  readonly options: CompiledRankerOptions;
  readonly version: string;

  constructor(options: RankerOptions = {}) {
    this.options = compileRankerOptions(options);
    this.version = rankerVersion(this.options);
  }

  rank(req: RankRequest): RecommendedItem[] {
    const o = this.options;
    const k = req.k ?? o.k;
    const weights = o.weights[req.kind];
    const subject = req.subject;
    const subjectTitle = subject ? titleKey(subject.title) : undefined;
    const seen = new Set<string>();
    const scored: Scored[] = [];

    for (const candidate of req.candidates) {
      const id = candidate.productId;
      if (seen.has(id)) continue;
      seen.add(id);
      const info = req.items.get(id);
      // Business rules: unknown/deleted, unavailable, excluded, the subject itself.
      if (info === undefined) continue;
      if (info.availability === 'out_of_stock' || info.availability === 'discontinued') continue;
      if (req.exclude?.has(id) || id === subject?.productId) continue;
      if (subject) {
        const cos = subject.vector && candidate.vector ? dot(subject.vector, candidate.vector) : undefined;
        // Near-duplicate listings of the subject are the same product, not a recommendation.
        if ((cos !== undefined && cos >= o.duplicateCosine) || titleKey(info.title) === subjectTitle) continue;
        if (req.kind === 'complementary') {
          // A complement is a different kind of thing: not the same leaf category, not a near-substitute.
          const sameLeaf = leafCategory(subject) !== undefined && leafCategory(subject) === leafCategory(info);
          if (sameLeaf || (cos !== undefined && cos >= o.complementMaxCosine)) continue;
        }
      }
      const parts = this.sourceRelevance(candidate.signals, weights);
      // Weighted noisy-OR: each source is independent evidence; one strong source suffices,
      // several moderate ones reinforce each other, and weights act as exponents.
      let miss = 1;
      for (const [source, rel] of Object.entries(parts) as [SourceKind, number][]) {
        miss *= (1 - Math.min(rel, 0.999)) ** (weights[source] ?? 0);
      }
      const relevance = 1 - miss;
      if (relevance < o.threshold) continue;
      scored.push({ candidate, info, relevance, parts });
    }

    scored.sort((a, b) => b.relevance - a.relevance);
    // Drop near-duplicates among the candidates themselves: keep the most relevant listing.
    const distinct: Scored[] = [];
    const titles = new Set<string>();
    for (const s of scored) {
      const t = titleKey(s.info.title);
      if (titles.has(t)) continue;
      const v = s.candidate.vector;
      if (v && distinct.some((d) => d.candidate.vector && dot(v, d.candidate.vector) >= o.duplicateCosine)) continue;
      titles.add(t);
      distinct.push(s);
      if (distinct.length >= k * 4) break;
    }
    // Trending is a ranking of activity, not of relevance to a subject: keep its order.
    const order =
      req.kind === 'trending'
        ? distinct
            .map((s, i) => [i, s.candidate.signals.trending?.score ?? 0] as const)
            .sort((a, b) => b[1] - a[1])
            .slice(0, k)
            .map(([i]) => i)
        : mmrSelect(
            distinct.map((s) => ({ score: s.relevance, vector: s.candidate.vector })),
            k,
            o.mmrLambda,
          );
    return order.map((i) => {
      const s = distinct[i]!;
      return { productId: s.candidate.productId, score: Number(s.relevance.toFixed(6)), reasons: this.reasons(s, subject) };
    });
  }

  private sourceRelevance(sig: CandidateSignals, weights: SourceWeights): Partial<Record<SourceKind, number>> {
    const o = this.options;
    const parts: Partial<Record<SourceKind, number>> = {};
    const z = (x: { z: number }) => relevanceFromZ(x.z, o.zMidpoint, o.zWidth);
    if (sig.content && weights.content) parts.content = z(sig.content);
    if (sig.behaviour && weights.behaviour) parts.behaviour = z(sig.behaviour);
    if (sig.profile && weights.profile) parts.profile = z(sig.profile);
    if (sig.copurchase && weights.copurchase && sig.copurchase.count >= o.minCopurchases && sig.copurchase.npmi > 0) {
      const shrunk = sig.copurchase.npmi * (sig.copurchase.count / (sig.copurchase.count + 3));
      parts.copurchase = shrunk / (shrunk + o.npmiMidpoint);
    }
    if (sig.attributes && weights.attributes && sig.attributes.shared.length > 0) {
      // Each shared attribute (brand, size, collection...) is weak evidence on its own.
      parts.attributes = 1 - 0.5 ** sig.attributes.shared.length;
    }
    if (sig.trending && weights.trending && sig.trending.count >= o.minTrendingCount) {
      parts.trending = 1 - 1 / (1 + sig.trending.count / (o.minTrendingCount * 3));
    }
    return parts;
  }

  private reasons(s: Scored, subject: ItemInfo | undefined): Reason[] {
    const sig = s.candidate.signals;
    const out: (Reason & { weight: number })[] = [];
    const w = (k: SourceKind) => s.parts[k] ?? 0;
    if (sig.copurchase && s.parts.copurchase !== undefined) {
      out.push({ code: 'bought_together', text: `bought together ${sig.copurchase.count} times`, value: sig.copurchase.count, weight: w('copurchase') });
    }
    if (sig.content && s.parts.content !== undefined) {
      out.push({ code: 'similar_description', text: `similar description ${fmt(sig.content.cos)}`, value: Number(fmt(sig.content.cos, 4)), weight: w('content') });
    }
    if (sig.behaviour && s.parts.behaviour !== undefined) {
      out.push({ code: 'similar_shoppers', text: `shoppers with similar behaviour engage with it (${fmt(sig.behaviour.cos)})`, value: Number(fmt(sig.behaviour.cos, 4)), weight: w('behaviour') });
    }
    if (sig.profile && s.parts.profile !== undefined) {
      const anchor = sig.profile.anchor ? `matches your interest in ${sig.profile.anchor.slice(0, 120)}` : 'matches your recent interests';
      out.push({ code: 'matches_profile', text: `${anchor} (${fmt(sig.profile.cos)})`, value: Number(fmt(sig.profile.cos, 4)), weight: w('profile') });
    }
    if (sig.trending && s.parts.trending !== undefined) {
      out.push({ code: 'trending', text: `trending: ${sig.trending.count} recent interactions`, value: sig.trending.count, weight: w('trending') });
    }
    if (sig.attributes && s.parts.attributes !== undefined) {
      for (const a of sig.attributes.shared.slice(0, 3)) {
        out.push({ code: `same_${a.name}`.slice(0, 64), text: `same ${a.name.replace(/_/g, ' ')} (${a.value})`.slice(0, 256), weight: w('attributes') / 2 });
      }
    }
    // Brand is worth saying even when it was not a ranking source.
    if (subject?.brand && s.info.brand && subject.brand.toLowerCase() === s.info.brand.toLowerCase() && !out.some((r) => r.code === 'same_brand')) {
      out.push({ code: 'same_brand', text: `same brand (${s.info.brand})`.slice(0, 256), weight: 0 });
    }
    out.sort((a, b) => b.weight - a.weight);
    // Say what carried the item: weak contributors are noise to a shopper (the first reason always stays).
    const strongest = out[0]?.weight ?? 0;
    return out
      .filter((r, i) => i === 0 || r.weight >= Math.max(MIN_REASON_RELEVANCE, strongest / 4) || (r.weight === 0 && r.code === 'same_brand'))
      .slice(0, 16)
      .map(({ weight: _w, ...r }) => r);
  }
}
