import { REC_KINDS, type RecKind } from '@affinity/contracts';
import { z } from 'zod';

/**
 * What the list builder measures about a candidate. Every feature is a number on a scale that
 * means the same in every catalog (log counts, shares, z-scores), so weights fitted on one
 * log transfer to another; missing evidence is 0.
 */
export const FEATURES = [
  /** log(1 + baskets holding the subject and the candidate), summed over anchors with their weights. */
  'copurchase',
  /** Co-purchase association: both / √(n_subject · n_candidate) (the cosine of their basket columns). */
  'copurchaseAssoc',
  /** Co-purchase confidence: both / (n_subject + 1) ≈ P(candidate in basket | subject in basket). */
  'copurchaseConf',
  /** The basket linear model's weight (EASE^R over baskets, refitted in the background): co-purchase net of what other items explain. */
  'copurchaseLinear',
  /** log(1 + shoppers who engaged with both within a short stretch of their history). */
  'cooccurrence',
  /** History co-occurrence association (cosine of user columns). */
  'cooccurrenceAssoc',
  /** History co-occurrence confidence ≈ P(engages with candidate | engaged with subject). */
  'cooccurrenceConf',
  /** The history linear model's weight (EASE^R over shoppers' recent histories). */
  'cooccurrenceLinear',
  /** Text-embedding similarity to the subject (or the shopper's profile), as σ above chance. */
  'content',
  /** Behaviour-embedding (FastRP) similarity, as σ above chance. */
  'behaviour',
  /** log(1 + distinct shoppers who engaged with the candidate). */
  'popularity',
  /** log(1 + event-time decayed interactions): what is active now. */
  'trending',
  /** Same leaf category as the subject; for a shopper, the share of their recent items in its leaf category. */
  'category',
  /** Same top-level category as the subject (or share of the shopper's recent items in it). */
  'department',
  /**
   * How much the candidate's leaf category is bought with the subject's (a shopper's anchors'):
   * the cosine of the two leaves' basket columns. Pasta goes with sauce even for a new pasta.
   */
  'categoryAssoc',
  /**
   * The shopper's own past interactions with the candidate, log(1 + count), times the catalog's
   * measured repeat rate: rebuying counts where shoppers rebuy (groceries), not where they do not (films).
   */
  'repeat',
  /** Attributes shared with the subject (brand, size, collection). */
  'attributes',
] as const;
export type Feature = (typeof FEATURES)[number];
export type FeatureVector = Partial<Record<Feature, number>>;

const Weights = z.partialRecord(z.enum(FEATURES), z.number().finite());

/** A logistic blend: relevance = σ(bias + Σ weight·feature). */
export const BlendModel = z.object({
  bias: z.number().finite(),
  weights: Weights,
  /** Relevance below which an item is not shown on merit (the list then falls back to popular items of the category). */
  threshold: z.number().min(0).max(1),
});
export type BlendModel = z.output<typeof BlendModel>;

/**
 * How one list kind blends its features, and how it does when its subject has no behaviour
 * yet (a new product, a new shopper): then only content, category and popularity speak, and
 * they deserve other weights than next to co-purchase counts.
 */
export const KindModel = BlendModel.extend({ cold: BlendModel.optional() });
export type KindModel = z.output<typeof KindModel>;

/**
 * A ranker configuration: per list kind a logistic blend of the features, the relevance
 * cut-off, and the list rules. Fitted offline from a replay of a catalog's own log
 * (`./dev eval <log> --fit`) or the defaults below; its `version` goes into every list.
 */
export const RankerConfig = z.object({
  /** Set by {@link compileRankerConfig} from the content when absent. */
  version: z.string().max(64).optional(),
  /** Where the weights came from (which log, which split, when). */
  source: z.string().max(512).default('hand-set'),
  kinds: z.object(Object.fromEntries(REC_KINDS.map((k) => [k, KindModel])) as Record<RecKind, typeof KindModel>),
  /** Items per list. */
  k: z.number().int().min(1).max(200).default(20),
  /** MMR trade-off: 1 = pure relevance, 0 = pure diversity. */
  mmrLambda: z.number().min(0).max(1).default(1),
  /** Content cosine at or above which two listings are the same product (never both shown). */
  duplicateCosine: z.number().min(0).max(1).default(0.97),
});
export type RankerConfig = z.output<typeof RankerConfig>;
export type RankerConfigInput = z.input<typeof RankerConfig>;
export type CompiledRankerConfig = RankerConfig & { version: string };

/** A short fingerprint of a configuration's content. */
export function configFingerprint(c: Omit<RankerConfig, 'version'>): string {
  const s = JSON.stringify({ ...c, source: undefined });
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return `r2-${(h >>> 0).toString(16)}`;
}

/** Validates a configuration (throws a ZodError naming the bad field) and fixes its version. */
export function compileRankerConfig(input: RankerConfigInput): CompiledRankerConfig {
  const c = RankerConfig.parse(input);
  const { version: _v, ...content } = c;
  return { ...c, version: c.version ?? configFingerprint(content) };
}
