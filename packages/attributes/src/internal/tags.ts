import type { CategorySchema } from '../category-schema';
import type { CategoryVocab } from './category-vocab';

export const MIN_LABELS = 2;

/**
 * Tags a title of this category may carry: O plus B/I of the attributes its labelled titles used at
 * least `MIN_LABELS` times (of every schema attribute when the category has no labels yet). An
 * attribute labelled once cannot be learned, and every tag costs quadratic time in the tagger.
 */
export function allowedTags(attrIndex: ReadonlyMap<string, number>, schema: CategorySchema, vocab: CategoryVocab | undefined): Int32Array {
  const ks = new Set<number>();
  const counts = vocab?.labelCounts;
  const learned = counts !== undefined && counts.size > 0;
  for (const a of learned ? [...counts].filter(([, n]) => n >= MIN_LABELS).map(([a]) => a) : schema.attributes.map((a) => a.name)) {
    const k = attrIndex.get(a);
    if (k !== undefined) ks.add(k);
  }
  const tags = [0];
  for (const k of [...ks].sort((a, b) => a - b)) tags.push(1 + 2 * k, 2 + 2 * k);
  return Int32Array.from(tags);
}
