import type { CategorySchema } from '../category-schema';
import type { CategoryVocab } from './category-vocab';

/** Tags a title of this category may carry: O plus B/I of its schema's and its learned attributes. */
export function allowedTags(attrIndex: ReadonlyMap<string, number>, schema: CategorySchema, vocab: CategoryVocab | undefined): Int32Array {
  const ks = new Set<number>();
  for (const a of schema.attributes) {
    const k = attrIndex.get(a.name);
    if (k !== undefined) ks.add(k);
  }
  if (vocab !== undefined) {
    for (const a of vocab.attrs) {
      const k = attrIndex.get(a);
      if (k !== undefined) ks.add(k);
    }
  }
  const tags = [0];
  for (const k of [...ks].sort((a, b) => a - b)) tags.push(1 + 2 * k, 2 + 2 * k);
  return Int32Array.from(tags);
}
