import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@affinity/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeExtractor, loadCategorySchemas, mergeCategorySchemas, parseCategorySchema, toAttributeName } from '@affinity/attributes';

const dirs: string[] = [];
function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'affinity-schemas-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('bundled schemas', () => {
  it('load and cover the fallback plus the ten OA-Mine categories', () => {
    const schemas = loadCategorySchemas();
    expect(schemas.map((s) => s.category).sort()).toEqual(
      ['*', 'Breakfast Cereal', 'Coffee', 'Conditioner', 'Laundry Detergent', 'Safety Mask', 'Shoes', 'Sunscreen', 'Tea', 'Toothbrush', 'Vitamin'].sort(),
    );
    const fallback = schemas.find((s) => s.category === '*');
    expect(fallback?.attributes.map((a) => a.name)).toEqual(
      expect.arrayContaining(['brand', 'color', 'material', 'size', 'gender', 'model_name', 'capacity', 'weight', 'dimensions', 'pack_count']),
    );
    for (const s of schemas) for (const a of s.attributes) expect(a.name).toMatch(/^[a-z][a-z0-9_]{0,63}$/);
  });

  it('fill defaults for omitted fields', () => {
    const s = parseCategorySchema({ category: 'Mugs', attributes: [{ name: 'capacity', patterns: ['capacity'] }] });
    expect(s.aliases).toEqual([]);
    expect(s.attributes[0]).toMatchObject({ name: 'capacity', patterns: ['capacity'], values: [], leading: false, multiple: false, zeroShot: false });
  });
});

describe('invalid schemas', () => {
  it('name the source and the field to fix', () => {
    const bad = () => parseCategorySchema({ category: 'Mugs', attributes: [{ name: 'Net Content' }] }, 'mugs.json');
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/mugs\.json.*attributes\.0\.name.*lower_snake_case/);
  });

  it('reject unknown pattern kinds and duplicate attributes', () => {
    expect(() => parseCategorySchema({ category: 'Mugs', attributes: [{ name: 'capacity', patterns: ['volume'] }] })).toThrow(/attributes\.0\.patterns\.0/);
    expect(() => parseCategorySchema({ category: 'Mugs', attributes: [{ name: 'brand' }, { name: 'brand' }] })).toThrow(/duplicate attribute "brand"/);
  });

  it('report a file that is not JSON with its path', () => {
    const dir = tempDir({ 'mugs.json': '{ "category": "Mugs", ' });
    expect(() => loadCategorySchemas(dir)).toThrow(new RegExp(`${join(dir, 'mugs.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON`));
  });

  it('report a missing folder as a configuration error', () => {
    expect(() => loadCategorySchemas(join(tmpdir(), 'affinity-no-such-folder'))).toThrow(ConfigError);
  });
});

describe('overrides', () => {
  const mugs = JSON.stringify({
    category: 'Mugs',
    aliases: ['Coffee Mugs'],
    attributes: [
      { name: 'capacity', patterns: ['capacity'] },
      { name: 'material', values: ['Ceramic', 'Enamel'] },
    ],
  });
  const shoes = JSON.stringify({ category: 'shoes', attributes: [{ name: 'size', patterns: ['size'] }] });

  it('a folder of files loads in name order and replaces bundled categories of the same name', () => {
    const custom = loadCategorySchemas(tempDir({ 'b-shoes.json': shoes, 'a-mugs.json': mugs }));
    expect(custom.map((s) => s.category)).toEqual(['Mugs', 'shoes']);
    const merged = mergeCategorySchemas(loadCategorySchemas(), custom);
    expect(merged.filter((s) => s.category.toLowerCase() === 'shoes')).toHaveLength(1);
    expect(merged.find((s) => s.category === 'shoes')?.attributes.map((a) => a.name)).toEqual(['size']);
    expect(merged.some((s) => s.category === 'Mugs')).toBe(true);
  });

  it('drive extraction: a new category needs only a data file', () => {
    const schemas = mergeCategorySchemas(loadCategorySchemas(), loadCategorySchemas(tempDir({ 'mugs.json': mugs })));
    const ex = new AttributeExtractor({ schemas });
    const got = ex.extract({ title: 'Enamel Camping Mug 350ml', category: ['Home', 'Kitchen', 'Coffee Mugs'] });
    expect(got.map((a) => [a.name, a.value, a.raw, a.source])).toEqual([
      ['material', 'Enamel', 'Enamel', 'vocabulary'],
      ['capacity', '350 ml', '350ml', 'pattern'],
    ]);
    expect(ex.schemaFor(['Home', 'Kitchen', 'Coffee Mugs']).category).toBe('Mugs');
    expect(ex.schemaFor('Garden Hoses').category).toBe('*');
  });
});

describe('attribute names', () => {
  it('turn catalog keys into lower_snake_case', () => {
    expect(toAttributeName('Net content')).toBe('net_content');
    expect(toAttributeName('  Colour / Farbe ')).toBe('colour_farbe');
    expect(toAttributeName('Größe')).toBe('grosse');
    expect(toAttributeName('3D type')).toBe('a_3d_type');
    expect(toAttributeName('***')).toBeUndefined();
  });
});
