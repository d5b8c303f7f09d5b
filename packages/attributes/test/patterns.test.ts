import { describe, expect, it } from 'vitest';
import { MEASURE_KINDS, type PatternKind, findCodes, findPatterns, formatNumber, isModelNumber, isValidGtin, parseNumber } from '@affinity/attributes';

/** [kind, normalized value, raw] of every match, and checks that each span slices out its raw text. */
function found(text: string, kinds?: PatternKind[]): [string, string, string][] {
  const ms = findPatterns(text, kinds);
  for (const m of ms) expect(text.slice(m.start, m.end)).toBe(m.raw);
  return ms.map((m) => [m.kind, m.value, m.raw]);
}

describe('capacity', () => {
  it('converts metric volumes to ml and keeps US units with one spelling', () => {
    expect(found('Olive Oil 500ml')).toEqual([['capacity', '500 ml', '500ml']]);
    expect(found('Water 1,5 L bottle')).toEqual([['capacity', '1500 ml', '1,5 L']]);
    expect(found('Soup 33 cl')).toEqual([['capacity', '330 ml', '33 cl']]);
    expect(found('Shampoo, 12 Fl Oz')).toEqual([['capacity', '12 fl oz', '12 Fl Oz']]);
    expect(found('Conditioner 8.5 Fluid Ounces')).toEqual([['capacity', '8.5 fl oz', '8.5 Fluid Ounces']]);
    expect(found('Detergent 1 Gallon')).toEqual([['capacity', '1 gal', '1 Gallon']]);
    expect(found('Conditioner, 6.8-Ounce', ['capacity'])).toEqual([]);
  });

  it('reports the span of the measure inside the title', () => {
    const text = 'Seventh Generation Liquid, 150 fl. oz. (Pack of 2)';
    const [m] = findPatterns(text, ['capacity']);
    expect(m).toMatchObject({ kind: 'capacity', value: '150 fl oz', start: 27, quantity: 150, unit: 'fl oz' });
    expect(text.slice(m?.start, m?.end)).toBe('150 fl. oz.');
  });
});

describe('weight', () => {
  it('converts kg to g and keeps oz and lb', () => {
    expect(found('Coffee Beans 1kg')).toEqual([['weight', '1000 g', '1kg']]);
    expect(found('Rice 2.5 Kilograms')).toEqual([['weight', '2500 g', '2.5 Kilograms']]);
    expect(found('Grits, 36.8 oz.')).toEqual([['weight', '36.8 oz', '36.8 oz']]);
    expect(found('Coffee 2.2 Pound Bag')).toEqual([['weight', '2.2 lb', '2.2 Pound']]);
    expect(found('Beans 5 lbs')).toEqual([['weight', '5 lb', '5 lbs']]);
  });

  it('finds both halves of a dual-unit statement', () => {
    expect(found('Douwe Egberts Coffee x 17.6oz/500g')).toEqual([
      ['weight', '17.6 oz', '17.6oz'],
      ['weight', '500 g', '500g'],
    ]);
  });

  it('does not read fluid ounces as weight', () => {
    expect(found('Lotion 3 fl oz', ['weight'])).toEqual([]);
    expect(found('Lotion 3 fl oz')).toEqual([['capacity', '3 fl oz', '3 fl oz']]);
  });
});

describe('dimensions', () => {
  it('parses AxB and AxBxC with a unit per number or at the end', () => {
    expect(found('Box 30 x 20 x 10 cm')).toEqual([['dimensions', '30 x 20 x 10 cm', '30 x 20 x 10 cm']]);
    expect(found('Rug 160x230cm')).toEqual([['dimensions', '160 x 230 cm', '160x230cm']]);
    expect(found('Frame 8in x 10in')).toEqual([['dimensions', '8 x 10 in', '8in x 10in']]);
    expect(found('Sheet 210 × 297 mm')).toEqual([['dimensions', '21 x 29.7 cm', '210 × 297 mm']]);
    expect(found('Poster 2 x 3 ft')).toEqual([['dimensions', '24 x 36 in', '2 x 3 ft']]);
  });

  it('needs a unit: a bare multiplication is a pack statement, not a size', () => {
    expect(findPatterns('Tea 6 x 20 bags', ['dimensions'])).toEqual([]);
  });
});

describe('pack count and item count', () => {
  it('reads "pack of 6", "6-pack", "6 pack", "set of 3" and "case of 12"', () => {
    expect(found('Cola (Pack of 6)')).toEqual([['pack_count', '6', 'Pack of 6']]);
    expect(found('Cola 6-pack')).toEqual([['pack_count', '6', '6-pack']]);
    expect(found('Masks 3 Pack White')).toEqual([['pack_count', '3', '3 Pack']]);
    expect(found('Sunscreen 3.4 ounces (Set of 2)', ['pack_count'])).toEqual([['pack_count', '2', 'Set of 2']]);
    expect(found('Water case of 12')).toEqual([['pack_count', '12', 'case of 12']]);
    expect(found('Toothbrush 4pk')).toEqual([['pack_count', '4', '4pk']]);
  });

  it('reads item counts with their noun', () => {
    expect(found('Vitamin D3 5,000 IU, 240 softgels (Pack of 2)')).toEqual([
      ['count', '240', '240 softgels'],
      ['pack_count', '2', 'Pack of 2'],
    ]);
    expect(found('K-Cups, 72ct')).toEqual([['count', '72', '72ct']]);
    expect(found('Toothbrushes, 6 Count')).toEqual([['count', '6', '6 Count']]);
  });
});

describe('size', () => {
  it('reads shoe sizes with width and region, and unambiguous apparel sizes', () => {
    expect(found("Crocs Women's Jayna Ballet Flat,Nautical Navy,4 M US")).toEqual([['size', '4 M US', '4 M US']]);
    expect(found('Dr. Martens 1461, 6 UK', ['size'])).toEqual([['size', '6 UK', '6 UK']]);
    expect(found('T-Shirt XL')).toEqual([['size', 'XL', 'XL']]);
    expect(found('Mask Size: Large')).toEqual([['size', 'L', 'Size: Large']]);
  });

  it('does not take a lone M or L for a size', () => {
    expect(findPatterns("Men's M Shoe L Edition", ['size'])).toEqual([]);
  });
});

describe('precision guards', () => {
  it('ignores numbers glued to words and non-units that start like units', () => {
    expect(findPatterns('Vitamin D3 5000 IU')).toEqual([]);
    expect(findPatterns('Model X100g2', MEASURE_KINDS)).toEqual([]);
    expect(findPatterns('Ozone 5 ozone generator')).toEqual([]);
    expect(findPatterns('B12 Gummies', ['count'])).toEqual([]);
  });

  it('never returns overlapping matches', () => {
    const ms = findPatterns('Coffee 12 oz (340g) 6-pack 30 x 20 cm 24 Count');
    for (let i = 1; i < ms.length; i++) expect(ms[i]!.start).toBeGreaterThanOrEqual(ms[i - 1]!.end);
    expect(ms.map((m) => m.kind)).toEqual(['weight', 'weight', 'pack_count', 'dimensions', 'count']);
  });
});

describe('model numbers', () => {
  const codes = (text: string) => findPatterns(text, ['model_number']).map((m) => m.raw);

  it('finds alphanumeric model and part numbers, hyphen- or slash-joined', () => {
    expect(codes('SEAPESCA Soft Fishing Lure Bait 80mm 4.5g Worm Shad 3D Eyes Tackle YA332')).toEqual(['YA332']);
    expect(codes('Wobbler minnow YE-88')).toEqual(['YE-88']);
    expect(codes('Portable Tackle LH-2-X-4-X Pesca')).toEqual(['LH-2-X-4-X']);
    expect(codes('Camping Shirts Quick Dry Breathable Checked#RIM7101BS')).toEqual(['RIM7101BS']);
    expect(codes("New Balance Men's MW811 Walking Shoe")).toEqual(['MW811']);
    expect(codes("Crocs Men's 11989M Clog,Black/Black,4 M US")).toEqual(['11989M']);
    expect(codes('Dr. Martens 1461, 6 UK')).toEqual(['1461']);
    expect(codes('Model X100g2')).toEqual(['X100g2']);
    expect(codes('Air Jordan 12 Retro - 130690-003')).toEqual(['130690-003']);
  });

  it('leaves sizes, units, pack counts, years, ordinals, quantities and plain words alone', () => {
    expect(codes('Minnow Lure 12.5cm/17.3g 3pcs/lot 80mm 100/120/140/160mm 20Pcs/Pack')).toEqual([]);
    expect(codes('Vitamin D3 5000 IU, 1000 mg, 2000mAh, Pack of 6, 24 Count, 6-Pack')).toEqual([]);
    expect(codes('2018 New Arrival 2018-19 Season, 1st Edition, 3rd Gen')).toEqual([]);
    expect(codes('20Color 5colors 2Sec 20-Eye Boot Size10 Jersey23')).toEqual([]);
    expect(codes('Spinning Rod 2.1-3.6M ML,M,MH Power, Jersey #33, Squad 1/3, 12 M US')).toEqual([]);
    expect(codes('T-Shirt Wi-Fi K-Cup Fishing Rod')).toEqual([]);
    expect(codes('Olive Oil 500ml 3D 4K')).toEqual([]);
  });

  it('is a predicate on single tokens too', () => {
    expect(['YA304A', 'fg11', 'WQ8146', '6501', 'A8140'].every(isModelNumber)).toBe(true);
    expect(['B1', '33', '2019', '2nd', 'Minnow', '5colors', '1/3', '80mm'].some(isModelNumber)).toBe(false);
  });
});

describe('GTIN', () => {
  it('checks the GS1 check digit of GTIN-8, -12, -13 and -14', () => {
    expect(isValidGtin('036000291452')).toBe(true); // UPC-A
    expect(isValidGtin('4006381333931')).toBe(true); // EAN-13
    expect(isValidGtin('96385074')).toBe(true); // EAN-8
    expect(isValidGtin('10036000291459')).toBe(true); // GTIN-14 (packaging indicator 1 + the UPC above)
    expect(isValidGtin('036000291453')).toBe(false);
    expect(isValidGtin('4006381333932')).toBe(false);
    expect(isValidGtin('12345')).toBe(false);
    expect(isValidGtin('03600029145A')).toBe(false);
  });

  it('finds GTINs as their own kind, never as model numbers', () => {
    const ms = findCodes('Coffee 12 oz UPC 036000291452 EAN 4006381333931 lot 4006381333932');
    expect(ms.map((m) => [m.kind, m.raw])).toEqual([
      ['gtin', '036000291452'],
      ['gtin', '4006381333931'],
      ['model_number', '4006381333932'],
    ]);
  });
});

describe('numbers', () => {
  it('treats a comma before exactly three digits as a thousands separator, else as a decimal point', () => {
    expect(parseNumber('5,000')).toBe(5000);
    expect(parseNumber('1,5')).toBe(1.5);
    expect(parseNumber('1,234,567')).toBe(1234567);
    expect(parseNumber('17.6')).toBe(17.6);
  });

  it('formats with at most three decimals and no trailing zeros', () => {
    expect(formatNumber(1500)).toBe('1500');
    expect(formatNumber(354.88235)).toBe('354.882');
    expect(formatNumber(2.5)).toBe('2.5');
  });
});
