import { type AttributeSpec, type CategorySchema, toAttributeName } from '../category-schema';

/** A category resolved against the schemas: the key its vocabulary is stored under and its schema. */
export interface ResolvedCategory {
  key: string;
  schema: CategorySchema;
}

/** Lookup of schemas by category name/alias and of attribute names by label/alias. */
export class SchemaIndex {
  readonly schemas: readonly CategorySchema[];
  readonly fallback: CategorySchema;
  private readonly byName = new Map<string, CategorySchema>();

  constructor(schemas: readonly CategorySchema[]) {
    this.schemas = schemas;
    for (const s of schemas) {
      for (const n of [s.category, ...s.aliases]) this.byName.set(n.toLowerCase(), s);
    }
    this.fallback = this.byName.get('*') ?? { category: '*', aliases: [], attributes: [] as AttributeSpec[] };
  }

  /** A category path is tried from its most specific segment up; unknown categories keep their own key. */
  resolve(category: string | readonly string[] | undefined): ResolvedCategory {
    const path = category === undefined ? [] : typeof category === 'string' ? [category] : [...category];
    for (let i = path.length - 1; i >= 0; i--) {
      const s = this.byName.get((path[i] ?? '').trim().toLowerCase());
      if (s !== undefined && s.category !== '*') return { key: s.category.toLowerCase(), schema: s };
    }
    const last = path.at(-1)?.trim().toLowerCase();
    return { key: last !== undefined && last !== '' ? last : '*', schema: this.fallback };
  }

  /** Maps a catalog key ("Net content", "Colour") to the schema's attribute name, else to lower_snake_case. */
  attributeName(schema: CategorySchema, key: string): string | undefined {
    const k = key.trim().toLowerCase();
    for (const a of schema.attributes) {
      if (a.name === k || a.label?.toLowerCase() === k || a.aliases.some((x) => x.toLowerCase() === k)) return a.name;
    }
    return toAttributeName(key);
  }
}
