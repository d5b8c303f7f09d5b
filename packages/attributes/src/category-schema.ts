import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@affinity/contracts';
import { z } from 'zod';
import { PATTERN_KINDS } from './patterns';

const NAME = /^[a-z][a-z0-9_]{0,63}$/;

const SeedValue = z.union([
  z.string().min(1),
  z.object({
    /** What the attribute is set to. */
    value: z.string().min(1),
    /** Surface forms that mean `value` (case-insensitive), e.g. ["men's", "mens", "for men"]. */
    match: z.array(z.string().min(1)).min(1),
  }),
]);

export const AttributeSpec = z.object({
  /** lower_snake_case, as in `ExtractedAttribute.name`. */
  name: z.string().regex(NAME, 'lower_snake_case, at most 64 characters (e.g. "net_content")'),
  /** Human label; also how catalogs and labelled data spell the key (e.g. "Net content"). */
  label: z.string().min(1).optional(),
  /** Other keys that catalogs use for this attribute (e.g. "Colour"). */
  aliases: z.array(z.string().min(1)).default([]),
  /** Unit-aware patterns whose matches are values of this attribute. */
  patterns: z.array(z.enum(PATTERN_KINDS)).default([]),
  /** Seed vocabulary: known values, matched as whole words, case-insensitive. */
  values: z.array(SeedValue).default([]),
  /** Brand-like: the value usually opens the title, so frequent leading n-grams are candidates. */
  leading: z.boolean().default(false),
  /** Keep every value found instead of the most confident one. */
  multiple: z.boolean().default(false),
  /** Closed set of values that an injected embedding model may choose among when nothing matched. */
  zeroShot: z.boolean().default(false),
  /** Below this confidence a value is dropped; overrides the extractor-wide threshold. */
  minConfidence: z.number().min(0).max(1).optional(),
});
export type AttributeSpec = z.output<typeof AttributeSpec>;
export type AttributeSpecInput = z.input<typeof AttributeSpec>;

export const CategorySchema = z
  .object({
    /** Category name as the catalog spells it; "*" is the fallback for unknown categories. */
    category: z.string().min(1),
    /** Other names or category-path segments that select this schema (case-insensitive). */
    aliases: z.array(z.string().min(1)).default([]),
    attributes: z.array(AttributeSpec).min(1, 'a schema needs at least one attribute'),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.attributes.forEach((a, i) => {
      if (seen.has(a.name)) ctx.addIssue({ code: 'custom', path: ['attributes', i, 'name'], message: `duplicate attribute "${a.name}"` });
      seen.add(a.name);
    });
  });
export type CategorySchema = z.output<typeof CategorySchema>;
export type CategorySchemaInput = z.input<typeof CategorySchema>;

/** The folder of schema files that ships with the package. */
export const BUNDLED_SCHEMA_DIR = fileURLToPath(new URL('../schemas', import.meta.url));

/** Validates one schema; `source` names the file or object in the error, so the message says what to fix. */
export function parseCategorySchema(input: unknown, source = 'schema'): CategorySchema {
  const r = CategorySchema.safeParse(input);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid category schema in ${source}: ${issues}`, { context: { source } });
  }
  return r.data;
}

/** Loads every `*.json` file of `dir` (default: the bundled schemas), sorted by file name. */
export function loadCategorySchemas(dir: string = BUNDLED_SCHEMA_DIR): CategorySchema[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch (err) {
    throw new ConfigError(`cannot read category schema folder ${dir}: set it to a folder of *.json schema files`, { cause: err });
  }
  return files.map((f) => {
    const path = join(dir, f);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new ConfigError(`category schema ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    return parseCategorySchema(json, path);
  });
}

/**
 * Overrides replace base schemas of the same category (case-insensitive) whole, so an override
 * file states the full attribute list it wants; new categories are appended.
 */
export function mergeCategorySchemas(base: readonly CategorySchema[], overrides: readonly CategorySchema[]): CategorySchema[] {
  const out = new Map<string, CategorySchema>();
  for (const s of [...base, ...overrides]) out.set(s.category.toLowerCase(), s);
  return [...out.values()];
}

/** "Net content" → "net_content"; returns undefined when nothing usable is left. */
export function toAttributeName(key: string): string | undefined {
  const n = key
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  if (n === '') return undefined;
  return /^[a-z]/.test(n) ? n : `a_${n}`.slice(0, 64);
}
