import { type EnrichedProduct, emptyDictionary } from '@affinity/contracts';
import type { ItemAttributes } from './types';

/**
 * The filterable attributes of an enriched product: category path, brand, price,
 * availability, the catalog's own attributes and every extracted name=value. A catalog
 * attribute and an extracted one with the same name both stay filterable.
 */
export function attributesFromProduct(p: Pick<EnrichedProduct, 'product' | 'attributes'>): ItemAttributes {
  // Names are the catalog's: without a prototype, `constructor` or `__proto__` are names like any other.
  const attributes = emptyDictionary<string[]>();
  const add = (name: string, value: string): void => {
    const list = (attributes[name] ??= []);
    if (!list.includes(value)) list.push(value);
  };
  for (const [name, value] of Object.entries(p.product.attributes ?? {})) add(name, value);
  for (const a of p.attributes) add(a.name, a.value);
  return {
    categoryPath: p.product.categoryPath,
    ...(p.product.brand !== undefined ? { brand: p.product.brand } : {}),
    price: p.product.price,
    availability: p.product.availability,
    attributes,
  };
}
