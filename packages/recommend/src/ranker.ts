import { normalizeText, type Availability, type Reason, type RecKind, type RecommendedItem } from '@affinity/contracts';
import defaults from './default-ranker.json' with { type: 'json' };
import { mmrSelect } from './mmr';
import { FEATURES, compileRankerConfig, type BlendModel, type CompiledRankerConfig, type Feature, type FeatureVector, type RankerConfigInput } from './ranker-config';
import { dot } from './vector-math';

/** What a candidate's features were measured from, for the reasons shown with it. */
export interface Evidence {
  /** Baskets holding both (the strongest anchor's count for a shopper). */
  boughtTogether?: number;
  /** Shoppers who engaged with both. */
  engagedTogether?: number;
  /** Text-embedding cosine to the subject or the shopper's profile. */
  contentCos?: number;
  /** Behaviour-embedding cosine. */
  behaviourCos?: number;
  /** The title of the shopper's recent item the candidate relates to most. */
  anchorTitle?: string;
  /** Distinct shoppers who engaged with it. */
  shoppers?: number;
  /** Decayed recent interactions. */
  trending?: number;
  /** The category it shares with the subject or the shopper. */
  category?: string;
  /** Its leaf category, when that is often bought with the subject's (or the shopper's). */
  goesWith?: string;
  /** The shopper's own interactions with it. */
  ownCount?: number;
  /** Shared attributes. */
  shared?: readonly { name: string; value: string }[];
}

export interface Candidate {
  productId: string;
  features: FeatureVector;
  evidence?: Evidence;
  /** Content vector, unit length, for duplicate detection and diversity. */
  vector?: Float32Array;
}

/** A candidate shown only to fill a list its merit could not fill, and why it is a sensible filler. */
export interface FallbackCandidate {
  productId: string;
  reason: 'category' | 'trending' | 'popular';
  /** The category name for `category`, the count for the others. */
  label?: string;
  value?: number;
  vector?: Float32Array;
}

/** What ranking needs to know about an item. Missing metadata means unknown or deleted: the item is dropped. */
export interface ItemInfo {
  productId: string;
  title: string;
  brand?: string;
  categoryPath: readonly string[];
  availability: Availability;
  attributes?: Readonly<Record<string, string>>;
}

export interface RankRequest {
  kind: RecKind;
  /** The item a similar/complementary list is for (with its content vector when known). */
  subject?: ItemInfo & { vector?: Float32Array };
  candidates: readonly Candidate[];
  /** Fillers in order of preference, used only when fewer than k candidates pass the cut-off. */
  fallback?: readonly FallbackCandidate[];
  items: ReadonlyMap<string, ItemInfo>;
  /** Never recommend these (the shopper's basket, items they will not rebuy, ...). */
  exclude?: ReadonlySet<string>;
  /** Overrides the configured list length. */
  k?: number;
  /** The subject has no behaviour yet (a new product or shopper): the kind's cold-start model ranks, when it has one. */
  cold?: boolean;
}

/** A scored candidate before the list is cut: what the evaluation fits weights on. */
export interface ScoredCandidate {
  productId: string;
  relevance: number;
  /** weight × feature per feature: what carried the item. */
  contributions: Partial<Record<Feature, number>>;
}

const fmt = (x: number, digits = 2): string => x.toFixed(digits);
const titleKey = (t: string): string => normalizeText(t).toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
/** A feature whose contribution to the logit is below this is not named as a reason. */
const MIN_REASON_LOGIT = 0.25;

const UNEXPLAINED: Reason[] = [{ code: 'relevant', text: 'relevant' }];

/** The defaults: a fit pooled over the development logs (see default-ranker.json's `source`). */
export const DEFAULT_RANKER_CONFIG: RankerConfigInput = defaults as RankerConfigInput;

interface Scored extends ScoredCandidate {
  candidate: Candidate;
  info: ItemInfo;
  /** Index into the prepared request's usable candidates. */
  slot: number;
}

interface Usable {
  candidate: Candidate;
  info: ItemInfo;
  title: string;
  slot: number;
}

/** What ranking a request needs that does not depend on the weights, computed once per request. */
interface Prepared {
  /** Candidates that pass the business rules, first occurrence of each id. */
  usable: Usable[];
  /** Whether two usable candidates are listings of one product (memoised). */
  sameProduct(a: number, b: number): boolean;
  /** Features of the usable candidates, row-major in FEATURES order. */
  x: Float64Array;
  /** Each usable candidate's position in id order (the tie-break). */
  idOrder: Int32Array;
  fillers: { fallback: FallbackCandidate; title: string }[];
}

const PREPARED = new WeakMap<RankRequest, Prepared & { duplicateCosine: number }>();

/**
 * Business rules (unknown or deleted, unavailable, excluded, the subject itself or another
 * listing of it) and the same-product relation between candidates (same normalized title, or
 * text embeddings at least `duplicateCosine` alike). Cached per request object: fitting ranks
 * one request under many weightings.
 */
function prepare(req: RankRequest, duplicateCosine: number): Prepared {
  const cached = PREPARED.get(req);
  if (cached && cached.duplicateCosine === duplicateCosine) return cached;
  const subject = req.subject;
  const subjectTitle = subject ? titleKey(subject.title) : undefined;
  const usableInfo = (id: string, vector: Float32Array | undefined): { info: ItemInfo; title: string } | undefined => {
    const info = req.items.get(id);
    if (info === undefined || info.availability === 'out_of_stock' || info.availability === 'discontinued') return undefined;
    if (req.exclude?.has(id) || id === subject?.productId) return undefined;
    const title = titleKey(info.title);
    if (subject && (title === subjectTitle || (subject.vector && vector && dot(subject.vector, vector) >= duplicateCosine))) return undefined;
    return { info, title };
  };
  const usable: Usable[] = [];
  const seen = new Set<string>();
  for (const candidate of req.candidates) {
    if (seen.has(candidate.productId)) continue;
    seen.add(candidate.productId);
    const u = usableInfo(candidate.productId, candidate.vector);
    if (u) usable.push({ candidate, ...u, slot: usable.length });
  }
  // 0 = not computed, 1 = different products, 2 = the same product.
  const n = usable.length;
  const memo = new Uint8Array(n * n);
  const sameProduct = (a: number, b: number): boolean => {
    const i = a * n + b;
    if (memo[i] === 0) {
      const ua = usable[a]!;
      const ub = usable[b]!;
      const va = ua.candidate.vector;
      const vb = ub.candidate.vector;
      memo[i] = memo[b * n + a] = ua.title === ub.title || (va !== undefined && vb !== undefined && dot(va, vb) >= duplicateCosine) ? 2 : 1;
    }
    return memo[i] === 2;
  };
  const fillers: Prepared['fillers'] = [];
  for (const f of req.fallback ?? []) {
    const u = usableInfo(f.productId, f.vector);
    if (u) fillers.push({ fallback: f, title: u.title });
  }
  const nf = FEATURES.length;
  const x = new Float64Array(n * nf);
  usable.forEach((u, i) => FEATURES.forEach((f, j) => (x[i * nf + j] = u.candidate.features[f] ?? 0)));
  const idOrder = new Int32Array(n);
  usable
    .map((u, i) => [u.candidate.productId, i] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .forEach(([, i], rank) => (idOrder[i] = rank));
  const prepared = { usable, sameProduct, fillers, duplicateCosine, x, idOrder };
  PREPARED.set(req, prepared);
  return prepared;
}

/**
 * Turns gathered candidates into a list (docs/ranking.md): business rules → a logistic blend
 * of the candidate's features with per-kind weights → the relevance cut-off → same-product
 * de-duplication → MMR diversity → fillers when the cut-off left fewer than k → reasons. Pure
 * and synchronous: the list builder gathers candidates and features, this decides.
 */
export class Ranker {
  readonly config: CompiledRankerConfig;

  constructor(config: RankerConfigInput = DEFAULT_RANKER_CONFIG, overrides: { k?: number; mmrLambda?: number } = {}) {
    this.config = compileRankerConfig({ ...config, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) });
  }

  get version(): string {
    return this.config.version;
  }

  private readonly weightVectors = new Map<BlendModel, Float64Array>();

  /** The model that ranks a request: the kind's, or its cold-start model for a subject without behaviour. */
  model(kind: RecKind, cold = false): BlendModel {
    const m = this.config.kinds[kind];
    return cold && m.cold ? m.cold : m;
  }

  /** A model's weights in FEATURES order. */
  private weightVector(model: BlendModel): Float64Array {
    let w = this.weightVectors.get(model);
    if (!w) this.weightVectors.set(model, (w = Float64Array.from(FEATURES, (f) => model.weights[f] ?? 0)));
    return w;
  }

  get k(): number {
    return this.config.k;
  }

  /** Relevance of one candidate for a list kind, with each feature's contribution to the logit. */
  score(kind: RecKind, features: FeatureVector, cold = false): ScoredCandidate & { logit: number } {
    const model = this.model(kind, cold);
    let logit = model.bias;
    const contributions: Partial<Record<Feature, number>> = {};
    for (const f of FEATURES) {
      const x = features[f];
      const w = model.weights[f];
      if (x === undefined || w === undefined || x === 0 || w === 0) continue;
      contributions[f] = w * x;
      logit += w * x;
    }
    return { productId: '', relevance: sigmoid(logit), contributions, logit };
  }

  /**
   * The ranked list. `explain: false` leaves the reasons out (every item gets one placeholder):
   * for fitting, where lists are ranked thousands of times and never shown.
   */
  rank(req: RankRequest, options: { explain?: boolean } = {}): RecommendedItem[] {
    const explain = options.explain ?? true;
    const k = req.k ?? this.config.k;
    const model = this.model(req.kind, req.cold);
    const threshold = model.threshold;
    const p = prepare(req, this.config.duplicateCosine);
    const w = this.weightVector(model);
    const nf = FEATURES.length;

    // Relevance of every usable candidate; those at or above the cut-off, best first (ties by id).
    const relevance = new Float64Array(p.usable.length);
    const passing: number[] = [];
    for (let i = 0; i < p.usable.length; i++) {
      let logit = model.bias;
      for (let f = 0; f < nf; f++) logit += w[f]! * p.x[i * nf + f]!;
      const r = sigmoid(logit);
      relevance[i] = r;
      if (r >= threshold) passing.push(i);
    }
    passing.sort((a, b) => relevance[b]! - relevance[a]! || p.idOrder[a]! - p.idOrder[b]!);

    // Two listings of one product: keep the more relevant.
    const distinct: number[] = [];
    for (const i of passing) {
      if (distinct.some((d) => p.sameProduct(i, d))) continue;
      distinct.push(i);
      if (distinct.length >= k * 4) break;
    }
    const order =
      this.config.mmrLambda >= 1 || req.kind === 'trending'
        ? distinct.slice(0, k)
        : mmrSelect(
            distinct.map((i) => ({ score: relevance[i]!, vector: p.usable[i]!.candidate.vector })),
            k,
            this.config.mmrLambda,
          ).map((j) => distinct[j]!);
    const out: RecommendedItem[] = order.map((i) => {
      const u = p.usable[i]!;
      const score = Number(relevance[i]!.toFixed(6));
      if (!explain) return { productId: u.candidate.productId, score, reasons: UNEXPLAINED };
      const s = this.score(req.kind, u.candidate.features, req.cold);
      return { productId: u.candidate.productId, score, reasons: this.reasons(req.kind, { ...s, productId: u.candidate.productId, candidate: u.candidate, info: u.info, slot: i }, req.subject) };
    });

    // Fillers: below the cut-off the list is short; what the category or the catalog is buying beats an empty slot.
    if (out.length < k && p.fillers.length > 0) {
      const floor = Math.min(threshold, out.at(-1)?.score ?? threshold);
      const shown = new Set(out.map((o) => o.productId));
      const titles = new Set(order.map((i) => p.usable[i]!.title));
      for (const f of p.fillers) {
        if (out.length >= k) break;
        if (shown.has(f.fallback.productId) || titles.has(f.title)) continue;
        titles.add(f.title);
        shown.add(f.fallback.productId);
        // Scores keep the list's order: every filler ranks below every item shown on merit.
        out.push({ productId: f.fallback.productId, score: Number((floor * 0.5 ** (1 + out.length / k)).toFixed(6)), reasons: [fallbackReason(f.fallback)] });
      }
    }
    return out;
  }

  private reasons(kind: RecKind, s: Scored, subject: ItemInfo | undefined): Reason[] {
    const ev = s.candidate.evidence ?? {};
    const out: (Reason & { weight: number })[] = [];
    const add = (weight: number | undefined, r: Reason) => {
      if (weight !== undefined && weight > 0) out.push({ ...r, weight });
    };
    const c = s.contributions;
    const sum = (...fs: Feature[]) => fs.reduce<number | undefined>((acc, f) => (c[f] === undefined ? acc : (acc ?? 0) + c[f]!), undefined);
    const together = sum('copurchase', 'copurchaseAssoc', 'copurchaseConf', 'copurchaseLinear');
    if (ev.boughtTogether !== undefined) add(together, { code: 'bought_together', text: `bought together ${ev.boughtTogether} times`, value: ev.boughtTogether });
    const engaged = sum('cooccurrence', 'cooccurrenceAssoc', 'cooccurrenceConf', 'cooccurrenceLinear');
    if (ev.engagedTogether !== undefined) {
      const text = ev.anchorTitle ? `shoppers who chose ${ev.anchorTitle.slice(0, 100)} also chose it (${ev.engagedTogether})` : `chosen by the same shoppers (${ev.engagedTogether})`;
      add(engaged, { code: 'chosen_together', text, value: ev.engagedTogether });
    }
    if (ev.contentCos !== undefined) {
      if (kind === 'personalized') {
        const anchor = ev.anchorTitle ? `matches your interest in ${ev.anchorTitle.slice(0, 120)}` : 'matches your recent interests';
        add(c.content, { code: 'matches_profile', text: `${anchor} (${fmt(ev.contentCos)})`, value: Number(fmt(ev.contentCos, 4)) });
      } else add(c.content, { code: 'similar_description', text: `similar description ${fmt(ev.contentCos)}`, value: Number(fmt(ev.contentCos, 4)) });
    }
    if (ev.behaviourCos !== undefined) add(c.behaviour, { code: 'similar_shoppers', text: `shoppers with similar behaviour engage with it (${fmt(ev.behaviourCos)})`, value: Number(fmt(ev.behaviourCos, 4)) });
    if (ev.ownCount !== undefined) add(c.repeat, { code: 'bought_before', text: `you chose it ${ev.ownCount} time${ev.ownCount === 1 ? '' : 's'} before`, value: ev.ownCount });
    if (ev.trending !== undefined) add(c.trending, { code: 'trending', text: `trending: ${fmt(ev.trending, 1)} recent interactions`, value: Number(fmt(ev.trending, 2)) });
    if (ev.shoppers !== undefined) add(c.popularity, { code: 'popular', text: `popular: ${ev.shoppers} shoppers`, value: ev.shoppers });
    if (ev.goesWith !== undefined) add(c.categoryAssoc, { code: 'category_goes_with', text: `${ev.goesWith} goes with ${kind === 'personalized' ? 'what you choose' : 'it'}`.slice(0, 256) });
    if (ev.category !== undefined) add(sum('category', 'department'), { code: 'same_category', text: `${kind === 'personalized' ? 'in a category you like' : 'same category'} (${ev.category})`.slice(0, 256) });
    if (ev.shared) for (const a of ev.shared.slice(0, 3)) add((c.attributes ?? 0) / 2, { code: `same_${a.name}`.slice(0, 64), text: `same ${a.name.replace(/_/g, ' ')} (${a.value})`.slice(0, 256) });
    out.sort((a, b) => b.weight - a.weight);
    // Name what carried the item: weak contributors are noise to a shopper (the first reason always stays).
    const strongest = out[0]?.weight ?? 0;
    const shown = out.filter((r, i) => i === 0 || r.weight >= Math.max(MIN_REASON_LOGIT, strongest / 4));
    // Brand is worth saying even when it was not what ranked the item.
    if (subject?.brand && s.info.brand && subject.brand.toLowerCase() === s.info.brand.toLowerCase() && !shown.some((r) => r.code === 'same_brand')) {
      shown.push({ code: 'same_brand', text: `same brand (${s.info.brand})`.slice(0, 256), weight: 0 });
    }
    if (shown.length === 0) shown.push({ code: 'relevant', text: `relevance ${fmt(s.relevance)}`, weight: 0 });
    return shown.slice(0, 16).map(({ weight: _w, ...r }) => r);
  }
}

/** A filler's reason says it is one (`fallback_*`), and why this item fills the gap. */
function fallbackReason(f: FallbackCandidate): Reason {
  switch (f.reason) {
    case 'category':
      return { code: 'fallback_category', text: `popular in ${f.label ?? 'this category'}`.slice(0, 256), ...(f.value !== undefined ? { value: f.value } : {}) };
    case 'trending':
      return { code: 'fallback_trending', text: `trending: ${fmt(f.value ?? 0, 1)} recent interactions`, ...(f.value !== undefined ? { value: Number(fmt(f.value, 2)) } : {}) };
    case 'popular':
      return { code: 'fallback_popular', text: `popular: ${f.value ?? 0} shoppers`, ...(f.value !== undefined ? { value: f.value } : {}) };
  }
}
