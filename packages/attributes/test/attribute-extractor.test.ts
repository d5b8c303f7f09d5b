import { ExtractedAttribute } from '@affinity/contracts';
import { describe, expect, it } from 'vitest';
import { AttributeExtractor, type LabelledProduct, Vocabulary, learnVocabulary, loadCategorySchemas, titleWords } from '@affinity/attributes';

const schemas = loadCategorySchemas();

/** A small synthetic coffee catalog: brand, roast, form and net content in a few title layouts. */
function coffeeCatalog(): LabelledProduct[] {
  const brands = ['Lavazza', 'Peet’s Coffee', 'Death Wish Coffee', 'Kicking Horse', 'Stumptown', 'Illy', 'Starbucks', 'Folgers'];
  const roasts = ['Dark Roast', 'Medium Roast', 'Light Roast'];
  const forms = ['Whole Bean', 'Ground Coffee', 'K-Cup Pods'];
  const sizes = ['12 Ounce', '2 Pound', '32 oz', '500g'];
  const out: LabelledProduct[] = [];
  let i = 0;
  for (const brand of brands) {
    for (const roast of roasts) {
      const form = forms[i % forms.length] as string;
      const size = sizes[i % sizes.length] as string;
      const layout = i % 3;
      const title =
        layout === 0 ? `${brand} ${form}, ${roast}, ${size}` : layout === 1 ? `${brand} ${roast} ${form} ${size} Bag` : `${brand} Organic ${form} - ${roast} - ${size}`;
      const attributes: Record<string, string> = { Brand: brand, 'Roast type': roast, 'Item form': form, 'Net content': size };
      if (layout === 2) attributes.Specialty = 'Organic';
      out.push({ title, category: 'Coffee', attributes });
      i++;
    }
  }
  return out;
}

function expectValid(title: string, description: string, attrs: ExtractedAttribute[]): void {
  for (const a of attrs) {
    expect(ExtractedAttribute.safeParse(a).success, JSON.stringify(a)).toBe(true);
    if (a.field === 'title') expect(title.slice(a.span[0], a.span[1])).toBe(a.raw);
    if (a.field === 'description') expect(description.slice(a.span[0], a.span[1])).toBe(a.raw);
  }
}

describe('model numbers and GTINs (schemas with a model_number or gtin attribute)', () => {
  const ex = new AttributeExtractor({ schemas });

  it('extracts an alphanumeric model number and a valid GTIN, not the measures next to them', () => {
    const title = 'SEAPESCA Minnow Fishing Lure 65mm 4g Hard Bait 3pcs Tackle YA304A EAN 4006381333931';
    const attrs = ex.extract({ title, category: ['Sports', 'Lure'] });
    expectValid(title, '', attrs);
    expect(attrs.find((a) => a.name === 'model_number')).toMatchObject({ value: 'YA304A', source: 'pattern' });
    expect(attrs.find((a) => a.name === 'gtin')).toMatchObject({ value: '4006381333931', source: 'pattern' });
    expect(attrs.filter((a) => a.name === 'model_number' || a.name === 'gtin')).toHaveLength(2);
  });

  it('takes a catalog-supplied MPN or EAN as the model number or GTIN', () => {
    const attrs = ex.extract({ title: 'Fishing Lure YA304A', category: 'Lure', catalogAttributes: { MPN: 'YA-304A', EAN: '4006381333931' } });
    expect(attrs.filter((a) => a.source === 'catalog').map((a) => [a.name, a.value])).toEqual([
      ['model_number', 'YA-304A'],
      ['gtin', '4006381333931'],
    ]);
    expect(attrs.filter((a) => a.name === 'model_number')).toHaveLength(1);
  });

  it('finds no model number where there is only a year, a size and a pack count', () => {
    const attrs = ex.extract({ title: 'Fishing Lure 2018 New 12.5cm/17.3g Pack of 6 Wobbler', category: 'Lure' });
    expect(attrs.some((a) => a.name === 'model_number' || a.name === 'gtin')).toBe(false);
  });
});

describe('without a learned vocabulary', () => {
  const ex = new AttributeExtractor({ schemas });

  it('reads measures, pack counts and seed values from the generic schema', () => {
    const title = "Trail Runner Men's Hiking Boot, Black Leather, 10 M US, 2-pack";
    const got = ex.extract({ title });
    expectValid(title, '', got);
    expect(Object.fromEntries(got.map((a) => [a.name, [a.value, a.source]]))).toEqual({
      gender: ['men', 'vocabulary'],
      color: ['Black', 'vocabulary'],
      material: ['Leather', 'vocabulary'],
      size: ['10 M US', 'pattern'],
      pack_count: ['2', 'pattern'],
    });
  });

  it('falls back to the description for what the title lacks, with less confidence', () => {
    const title = 'Stainless Steel Water Bottle';
    const description = 'Keeps drinks cold for 24 hours.\nCapacity: 750 ml. Dimensions 7 x 7 x 26 cm.';
    const got = ex.extract({ title, description });
    expectValid(title, description, got);
    const capacity = got.find((a) => a.name === 'capacity');
    expect(capacity).toMatchObject({ value: '750 ml', field: 'description', source: 'pattern' });
    expect(capacity?.confidence).toBeCloseTo(0.8 * 0.85, 5);
    expect(got.find((a) => a.name === 'dimensions')).toMatchObject({ value: '7 x 7 x 26 cm', field: 'description' });
    expect(got.find((a) => a.name === 'material')).toMatchObject({ value: 'Stainless Steel', field: 'title' });
  });

  it('refuses options that cannot work, naming them', () => {
    expect(() => new AttributeExtractor({ schemas, minConfidence: 1.5 })).toThrow(/minConfidence must be between 0 and 1/);
    expect(() => new AttributeExtractor({ schemas, maxDescriptionChars: -1 })).toThrow(/maxDescriptionChars/);
  });

  it('lets catalog-supplied attributes win, reported as catalog', () => {
    const title = 'Acme Kettle Red 1.7 l';
    const got = ex.extract({ title, catalogAttributes: { Colour: 'Crimson', Capacity: '1.5 l' } });
    expectValid(title, '', got);
    expect(got.filter((a) => a.name === 'color')).toEqual([
      { name: 'color', value: 'Crimson', raw: 'Crimson', field: 'catalog', span: [0, 7], confidence: 1, source: 'catalog' },
    ]);
    expect(got.filter((a) => a.name === 'capacity')).toHaveLength(1);
    expect(got.find((a) => a.name === 'capacity')?.source).toBe('catalog');
  });
});

describe('with a vocabulary learned from the catalog', () => {
  const vocabulary = learnVocabulary(coffeeCatalog(), { schemas });
  const ex = new AttributeExtractor({ schemas, vocabulary });

  it('extracts known brands and values from an unseen title layout', () => {
    const title = 'Kicking Horse Whole Bean, Dark Roast, 2 Pound';
    const got = ex.extract({ title, category: 'Coffee' });
    expectValid(title, '', got);
    const byName = Object.fromEntries(got.map((a) => [a.name, a]));
    expect(byName.brand?.raw).toBe('Kicking Horse');
    expect(byName.roast_type?.raw).toBe('Dark Roast');
    expect(byName.item_form?.raw).toBe('Whole Bean');
    expect(byName.net_content).toMatchObject({ raw: '2 Pound', value: '2 lb' });
    expect(byName.brand?.source).toBe('vocabulary');
  });

  it('never reports a value under the confidence threshold', () => {
    const title = 'Illy Ground Coffee, Medium Roast, 12 Ounce Tin';
    const all = new AttributeExtractor({ schemas, vocabulary, minConfidence: 0 }).extract({ title, category: 'Coffee' });
    const confidences = all.map((a) => a.confidence).sort((a, b) => a - b);
    expect(confidences.length).toBeGreaterThan(1);
    // A threshold between the least and the most confident value must drop some and keep some.
    const threshold = ((confidences[0] as number) + (confidences.at(-1) as number)) / 2;
    expect(confidences[0]).toBeLessThan(threshold);
    const kept = new AttributeExtractor({ schemas, vocabulary, minConfidence: threshold }).extract({ title, category: 'Coffee' });
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(all.length);
    for (const a of kept) expect(a.confidence).toBeGreaterThanOrEqual(threshold);
  });

  it('survives serialization: the same extractions from the JSON round trip', () => {
    const json = JSON.parse(JSON.stringify(vocabulary.toJSON())) as unknown;
    const again = new AttributeExtractor({ schemas, vocabulary: Vocabulary.fromJSON(json) });
    for (const p of coffeeCatalog().slice(0, 8)) {
      expect(again.extract({ title: p.title, category: 'Coffee' })).toEqual(ex.extract({ title: p.title, category: 'Coffee' }));
    }
    expect(() => Vocabulary.fromJSON({ version: 2 })).toThrow(/serialized attribute vocabulary/);
  });

  it('serializes a dense tagger exactly too, and rejects a tagger of the wrong size', () => {
    const small = learnVocabulary(coffeeCatalog(), { schemas, hashBits: 10 });
    const json = small.toJSON();
    expect(json.tagger?.dense).toBeDefined();
    const a = new AttributeExtractor({ schemas, vocabulary: small });
    const b = new AttributeExtractor({ schemas, vocabulary: Vocabulary.fromJSON(JSON.parse(JSON.stringify(json))) });
    const title = 'Stumptown Light Roast Whole Bean 12 Ounce Bag';
    expect(b.extract({ title, category: 'Coffee' })).toEqual(a.extract({ title, category: 'Coffee' }));
    expect(() => Vocabulary.fromJSON({ ...json, tagger: { ...json.tagger, bits: 11 } })).toThrow(/does not match/);
  });

  it('has a fingerprint that changes exactly when extraction could', () => {
    const same = new AttributeExtractor({ schemas, vocabulary: Vocabulary.fromJSON(JSON.parse(JSON.stringify(vocabulary.toJSON()))) });
    expect(same.fingerprint).toBe(ex.fingerprint);
    expect(new AttributeExtractor({ schemas, vocabulary, minConfidence: 0.6 }).fingerprint).not.toBe(ex.fingerprint);
    expect(new AttributeExtractor({ schemas, vocabulary: learnVocabulary(coffeeCatalog().slice(1), { schemas }) }).fingerprint).not.toBe(ex.fingerprint);
    expect(new AttributeExtractor({ schemas: schemas.slice(1), vocabulary }).fingerprint).not.toBe(ex.fingerprint);
  });

  it('learns into the extractor itself and lists what it knows', () => {
    const fresh = new AttributeExtractor({ schemas });
    fresh.learnVocabulary(coffeeCatalog());
    expect(fresh.vocabulary.categoryKeys).toEqual(['coffee']);
    expect(fresh.vocabulary.knownValues('coffee', 'roast_type').map((v) => v.value)).toEqual(['Dark Roast', 'Light Roast', 'Medium Roast']);
  });
});

describe('zero-shot hook', () => {
  // Deterministic stand-in for a sentence embedder: hashed character trigrams.
  const embed = async (texts: string[]): Promise<Float32Array[]> =>
    texts.map((t) => {
      const v = new Float32Array(256);
      const s = ` ${t.toLowerCase()} `;
      for (let i = 0; i + 3 <= s.length; i++) {
        let h = 0;
        for (const c of s.slice(i, i + 3)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
        v[h % 256] = (v[h % 256] as number) + 1;
      }
      return v;
    });

  it('chooses a known value for a closed attribute the patterns missed', async () => {
    const ex = new AttributeExtractor({ schemas, embed, zeroShotMinSimilarity: 0.7 });
    const title = 'Trail Runner for Womans, Size 8';
    expect(ex.extract({ title }).some((a) => a.name === 'gender')).toBe(false);
    const got = await ex.extractWithZeroShot({ title });
    const gender = got.find((a) => a.name === 'gender');
    expect(gender).toMatchObject({ value: 'women', source: 'zero-shot', field: 'title' });
    expect(title.slice(gender?.span[0], gender?.span[1])).toBe(gender?.raw);
    expectValid(title, '', got);
  });

  it('is the plain extraction without an embedder', async () => {
    const ex = new AttributeExtractor({ schemas });
    const input = { title: 'Trail Runner for Womans, Size 8' };
    expect(await ex.extractWithZeroShot(input)).toEqual(ex.extract(input));
  });
});

describe('a tagger that reads contextual word vectors', () => {
  /** A deterministic stand-in for the embedding model (the real one is tested in @affinity/embeddings): a hashed word plus its left neighbour. */
  const source = (modelId = 'hashed-words') => {
    const dim = 16;
    let calls = 0;
    return {
      modelId,
      dim,
      get calls() {
        return calls;
      },
      embedWordsInContext: async (texts: readonly (readonly string[])[]) => {
        calls++;
        return texts.map((words) => {
          const m = new Float32Array(words.length * dim);
          const slot = (w: string) => [...w.toLowerCase()].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 9973, 7) % dim;
          words.forEach((w, i) => {
            m[i * dim + slot(w)] = 1;
            if (i > 0) {
              const k = i * dim + slot(words[i - 1] as string);
              m[k] = (m[k] as number) + 0.5;
            }
          });
          return m;
        });
      },
    };
  };
  const withVectors = async (products: LabelledProduct[], s = source()) => {
    const vectors = await s.embedWordsInContext(products.map((p) => titleWords(p.title)));
    return products.map((p, i) => ({ ...p, titleWordVectors: vectors[i] }));
  };

  it('records the model, needs its vectors to extract, and gets them itself in extractAll', async () => {
    const s = source();
    const vocabulary = learnVocabulary(await withVectors(coffeeCatalog(), s), { schemas, wordVectors: { model: s.modelId, dim: s.dim } });
    expect(vocabulary.wordVectorModel).toBe('hashed-words');
    expect(vocabulary.wordVectorDim).toBe(16);
    const title = 'Kicking Horse Whole Bean, Dark Roast, 2 Pound';
    const plain = new AttributeExtractor({ schemas, vocabulary });
    expect(() => plain.extract({ title, category: 'Coffee' })).toThrow(/word vectors of hashed-words/);
    await expect(plain.extractAll([{ title, category: 'Coffee' }])).rejects.toThrow(/wordVectors source of that model \(got none\)/);
    await expect(new AttributeExtractor({ schemas, vocabulary, wordVectors: source('another-model') }).extractAll([{ title }])).rejects.toThrow(/got another-model/);

    const ex = new AttributeExtractor({ schemas, vocabulary, wordVectors: s });
    const before = s.calls;
    const [got, second] = await ex.extractAll([{ title, category: 'Coffee' }, { title: 'Illy Ground Coffee, Medium Roast, 12 Ounce Tin', category: 'Coffee' }]);
    expect(s.calls).toBe(before + 1);
    expect(Object.fromEntries((got ?? []).map((a) => [a.name, a.raw]))).toMatchObject({ brand: 'Kicking Horse', roast_type: 'Dark Roast', item_form: 'Whole Bean', net_content: '2 Pound' });
    expect(second?.length).toBeGreaterThan(0);
    const [titleWordVectors] = await s.embedWordsInContext([titleWords(title)]);
    expect(ex.extract({ title, category: 'Coffee', titleWordVectors })).toEqual(got);
    expect(() => ex.extract({ title, category: 'Coffee', titleWordVectors: new Float32Array(5) })).toThrow(/expected \d+ word vectors of 16/);
  });

  it('the word-vector weights change what the tagger says and survive serialization', async () => {
    const s = source();
    const catalog = await withVectors(coffeeCatalog(), s);
    const vocabulary = learnVocabulary(catalog, { schemas, wordVectors: { model: s.modelId, dim: s.dim } });
    const json = vocabulary.toJSON();
    expect(json.tagger?.wordVectors).toMatchObject({ model: 'hashed-words', dim: 16 });
    const again = Vocabulary.fromJSON(JSON.parse(JSON.stringify(json)));
    expect(again.wordVectorModel).toBe('hashed-words');
    const a = new AttributeExtractor({ schemas, vocabulary, wordVectors: s, minConfidence: 0 });
    const b = new AttributeExtractor({ schemas, vocabulary: again, wordVectors: s, minConfidence: 0 });
    const inputs = catalog.slice(0, 6).map((p) => ({ title: `${p.title} Limited`, category: 'Coffee' }));
    expect(await b.extractAll(inputs)).toEqual(await a.extractAll(inputs));
    // Zero vectors give other confidences than the real ones: the dense weights are read.
    const zeros = inputs.map((i) => ({ ...i, titleWordVectors: new Float32Array(titleWords(i.title).length * s.dim) }));
    expect(zeros.map((i) => a.extract(i).map((x) => x.confidence))).not.toEqual((await a.extractAll(inputs)).map((r) => r.map((x) => x.confidence)));
    const broken = { ...json, tagger: { ...json.tagger!, wordVectors: { ...json.tagger!.wordVectors!, dim: 15 } } };
    expect(() => Vocabulary.fromJSON(broken)).toThrow(/does not match/);
  });

  it('refuses to learn from a labelled product without vectors', () => {
    expect(() => learnVocabulary(coffeeCatalog(), { schemas, wordVectors: { model: 'hashed-words', dim: 16 } })).toThrow(/no titleWordVectors for "Lavazza/);
  });
});
