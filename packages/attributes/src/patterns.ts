/**
 * Unit-aware patterns for measures that product titles state in a handful of standard ways:
 * capacity, weight, dimensions, item count, pack count and apparel/shoe size; and product codes:
 * alphanumeric model/part numbers and GTINs (see {@link findCodes}).
 *
 * Values are normalized to one unit per system: metric quantities are converted to the base unit
 * (ml, g, cm) because "0.5 l" and "500 ml" must filter alike; imperial units keep their quantity and
 * get one spelling ("fl oz", "gal", "oz", "lb", "in"), because converting 12 fl oz to 354.9 ml would
 * make a value no shopper typed.
 */
export const MEASURE_KINDS = ['capacity', 'weight', 'dimensions', 'count', 'pack_count', 'size'] as const;
export const CODE_KINDS = ['model_number', 'gtin'] as const;
export const PATTERN_KINDS = [...MEASURE_KINDS, ...CODE_KINDS] as const;
export type PatternKind = (typeof PATTERN_KINDS)[number];

export interface PatternMatch {
  kind: PatternKind;
  /** Normalized value, e.g. "500 ml", "12 fl oz", "30 x 20 x 10 cm", "6"; a code as written. */
  value: string;
  /** The matched text as it appears in the input. */
  raw: string;
  /** [start, end) offsets into the input. */
  start: number;
  end: number;
  /** The numeric quantity in `unit` (the first dimension for dimensions), for range filters; 0 for codes. */
  quantity: number;
  unit: string;
}

interface UnitDef {
  /** Alternation (case-insensitive) that must not be followed by a letter. */
  re: string;
  unit: string;
  factor: number;
}

const NUM = String.raw`(\d+(?:[.,]\d+)*|\d*\.\d+)`;
const LEFT = String.raw`(?<![\p{L}\p{N}])(?<!\d[.,])`;
const RIGHT = String.raw`(?![\p{L}\p{N}])`;

const CAPACITY_UNITS: UnitDef[] = [
  { re: String.raw`fl\.?\s?oz\.?|fl\.?\s?ounces?|fluid\s?ounces?|fluid\s?oz\.?|floz`, unit: 'fl oz', factor: 1 },
  { re: String.raw`ml|mls|millilit(?:er|re)s?`, unit: 'ml', factor: 1 },
  { re: String.raw`cl|centilit(?:er|re)s?`, unit: 'ml', factor: 10 },
  { re: String.raw`l|ltrs?|lit(?:er|re)s?`, unit: 'ml', factor: 1000 },
  { re: String.raw`gal|gals|gallons?`, unit: 'gal', factor: 1 },
  { re: String.raw`qt|qts|quarts?`, unit: 'qt', factor: 1 },
  { re: String.raw`pt|pints?`, unit: 'pt', factor: 1 },
];

const WEIGHT_UNITS: UnitDef[] = [
  { re: String.raw`kg|kgs|kilos?|kilograms?|kilogrammes?`, unit: 'g', factor: 1000 },
  { re: String.raw`g|gr|grams?|grammes?`, unit: 'g', factor: 1 },
  { re: String.raw`lb|lbs|pounds?`, unit: 'lb', factor: 1 },
  { re: String.raw`oz|ounces?`, unit: 'oz', factor: 1 },
];

const LENGTH_UNITS: UnitDef[] = [
  { re: String.raw`mm|millimet(?:er|re)s?`, unit: 'cm', factor: 0.1 },
  { re: String.raw`cm|centimet(?:er|re)s?`, unit: 'cm', factor: 1 },
  { re: String.raw`m|met(?:er|re)s?`, unit: 'cm', factor: 100 },
  { re: String.raw`in|inch|inches|"|”|''`, unit: 'in', factor: 1 },
  { re: String.raw`ft|feet|foot|'`, unit: 'in', factor: 12 },
];

const COUNT_NOUNS = String.raw`count|ct|cts|pcs|pc|pieces?|units?|capsules?|caps|vcaps|tablets?|tabs|softgels?|gummies|lozenges|sachets|pods|k-cups|wipes|sheets|rolls`;

function alternation(units: UnitDef[]): string {
  return units.map((u) => `(?:${u.re})`).join('|');
}

function unitOf(units: UnitDef[], text: string): UnitDef | undefined {
  const t = text.trim();
  return units.find((u) => new RegExp(`^(?:${u.re})$`, 'iu').test(t));
}

/** "5,000" → 5000; "1,5" → 1.5 (a comma followed by exactly three digits groups thousands). */
export function parseNumber(text: string): number {
  const t = text.replace(/,(?=\d{3}(?!\d))/g, '').replace(',', '.');
  return Number(t);
}

/** At most three decimals, no trailing zeros: 354.882 → "354.882", 1500.0 → "1500". */
export function formatNumber(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

const DIM_UNIT = alternation(LENGTH_UNITS);
const SEP = String.raw`\s*[x×X*]\s*`;
const DIMENSIONS = new RegExp(
  `${LEFT}${NUM}\\s*(${DIM_UNIT})?${SEP}${NUM}\\s*(${DIM_UNIT})?(?:${SEP}${NUM}\\s*(${DIM_UNIT})?)?`,
  'giu',
);
const CAPACITY = new RegExp(`${LEFT}${NUM}\\s?-?\\s?(${alternation(CAPACITY_UNITS)})(?![\\p{L}])`, 'giu');
const WEIGHT = new RegExp(`${LEFT}${NUM}\\s?-?\\s?(${alternation(WEIGHT_UNITS)})(?![\\p{L}])`, 'giu');
const COUNT = new RegExp(`${LEFT}${NUM}\\s?-?\\s?(?:${COUNT_NOUNS})${RIGHT}`, 'giu');
const PACK_OF = /(?<![\p{L}])(?:pack|set|case|box|bundle|lot)\s+of\s+(\d+)(?![\p{N}])/giu;
const N_PACK = new RegExp(`${LEFT}(\\d+)\\s?-?\\s?(?:packs?|pks?|pk\\.|pack\\s+set|count\\s+pack)${RIGHT}`, 'giu');
const SHOE_SIZE = new RegExp(
  `${LEFT}(\\d{1,2}(?:\\.5)?(?:\\s?-\\s?\\d{1,2}(?:\\.5)?)?)(?:\\s?(M|W|D|N|B|C|E{1,4}|2E|4E|XW|WW|Wide|Narrow|Medium))?\\s?(US|UK|EU)${RIGHT}`,
  'gu',
);
const APPAREL_SIZE = /(?<![\p{L}\p{N}])(?:size\s*:?\s*)?(XXS|XS|XL|XXL|XXXL|[2-6]XL|One Size)(?![\p{L}\p{N}])|(?<![\p{L}])size\s*:?\s*(Small|Medium|Large|X-Large|S|M|L)(?![\p{L}])/giu;

function push(out: PatternMatch[], m: RegExpMatchArray, kind: PatternKind, value: string, quantity: number, unit: string): void {
  const start = m.index ?? 0;
  out.push({ kind, value, raw: m[0], start, end: start + m[0].length, quantity, unit });
}

function measure(out: PatternMatch[], text: string, re: RegExp, kind: PatternKind, units: UnitDef[]): void {
  for (const m of text.matchAll(re)) {
    const n = parseNumber(m[1] ?? '');
    const def = unitOf(units, m[2] ?? '');
    if (!Number.isFinite(n) || n <= 0 || def === undefined) continue;
    const q = n * def.factor;
    push(out, m, kind, `${formatNumber(q)} ${def.unit}`, q, def.unit);
  }
}

function dimensions(out: PatternMatch[], text: string): void {
  for (const m of text.matchAll(DIMENSIONS)) {
    const nums = [m[1], m[3], m[5]].filter((x): x is string => x !== undefined).map(parseNumber);
    const units = [m[2], m[4], m[6]].filter((x): x is string => x !== undefined);
    // A unit is required: "6 x 12" alone is a pack multiplier far more often than a size.
    const last = units.at(-1);
    if (last === undefined) continue;
    const def = unitOf(LENGTH_UNITS, last);
    if (def === undefined || nums.some((n) => !Number.isFinite(n) || n <= 0)) continue;
    // Each number takes its own unit when given, else the trailing one ("10 x 20 cm").
    const vals: number[] = [];
    let ok = true;
    [m[2], m[4], m[6]].slice(0, nums.length).forEach((u, i) => {
      const d = u === undefined ? def : unitOf(LENGTH_UNITS, u);
      if (d === undefined || d.unit !== def.unit) ok = false;
      else vals.push((nums[i] ?? 0) * d.factor);
    });
    if (!ok) continue;
    push(out, m, 'dimensions', `${vals.map(formatNumber).join(' x ')} ${def.unit}`, vals[0] ?? 0, def.unit);
  }
}

function simpleCount(out: PatternMatch[], text: string, re: RegExp, kind: PatternKind): void {
  for (const m of text.matchAll(re)) {
    const n = parseNumber(m[1] ?? '');
    if (!Number.isInteger(n) || n <= 0) continue;
    push(out, m, kind, formatNumber(n), n, 'count');
  }
}

function sizes(out: PatternMatch[], text: string): void {
  for (const m of text.matchAll(SHOE_SIZE)) {
    const value = [m[1]?.replace(/\s+/g, ''), m[2], m[3]].filter((x) => x !== undefined).join(' ');
    push(out, m, 'size', value, parseNumber(m[1]?.split('-')[0] ?? '0'), m[3] ?? '');
  }
  for (const m of text.matchAll(APPAREL_SIZE)) {
    const v = (m[1] ?? m[2] ?? '').toUpperCase();
    const value = v === 'SMALL' ? 'S' : v === 'MEDIUM' ? 'M' : v === 'LARGE' ? 'L' : v === 'X-LARGE' ? 'XL' : v === 'ONE SIZE' ? 'One Size' : v;
    push(out, m, 'size', value, 0, 'size');
  }
}

/**
 * Every measure and code in `text`, in order, without overlaps: where two measures overlap the
 * earlier one wins, then the longer one, then the more specific kind (dimensions before capacity
 * before weight), so "12 fl oz" is a capacity and never also a weight. Codes come last: a token any
 * measure claims (even of a kind not asked for) is never a code.
 */
export function findPatterns(text: string, kinds: readonly PatternKind[] = PATTERN_KINDS): PatternMatch[] {
  const all: PatternMatch[] = [];
  const want = new Set(kinds);
  if (want.has('dimensions')) dimensions(all, text);
  if (want.has('capacity')) measure(all, text, CAPACITY, 'capacity', CAPACITY_UNITS);
  if (want.has('weight')) measure(all, text, WEIGHT, 'weight', WEIGHT_UNITS);
  if (want.has('pack_count')) {
    simpleCount(all, text, PACK_OF, 'pack_count');
    simpleCount(all, text, N_PACK, 'pack_count');
  }
  if (want.has('count')) simpleCount(all, text, COUNT, 'count');
  if (want.has('size')) sizes(all, text);
  const rank: Record<PatternKind, number> = { dimensions: 0, capacity: 1, pack_count: 2, weight: 3, count: 4, size: 5, gtin: 6, model_number: 7 };
  all.sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start) || rank[a.kind] - rank[b.kind]);
  const out: PatternMatch[] = [];
  let end = -1;
  for (const m of all) {
    if (m.start < end) continue;
    out.push(m);
    end = m.end;
  }
  if (!want.has('model_number') && !want.has('gtin')) return out;
  const codes = findCodes(text).filter((c) => want.has(c.kind));
  if (codes.length === 0) return out;
  const measures = MEASURE_KINDS.every((k) => want.has(k)) ? out : findPatterns(text, MEASURE_KINDS);
  const free = codes.filter((c) => !measures.some((m) => c.start < m.end && m.start < c.end));
  return [...out, ...free].sort((a, b) => a.start - b.start);
}

/** GS1 check digit: GTIN-8, -12 (UPC-A), -13 (EAN) and -14, digits only. */
export function isValidGtin(digits: string): boolean {
  if (!/^(?:\d{8}|\d{12,14})$/.test(digits)) return false;
  let sum = 0;
  // Weights 3, 1, 3, ... from the rightmost digit before the check digit.
  for (let i = digits.length - 2, w = 3; i >= 0; i--, w = 4 - w) sum += Number(digits[i]) * w;
  return (10 - (sum % 10)) % 10 === Number(digits[digits.length - 1]);
}

/** A run of letters and digits, segments joined by single hyphens or slashes ("YE-88", "LH-2-X-4-X"). */
const CODE_TOKEN = /(?<![\p{L}\p{N}]|[\p{N}][.,]|[-/])[A-Za-z0-9]+(?:[-/][A-Za-z0-9]+)*(?![\p{L}\p{N}]|[.,][\p{N}]|[-/][\p{L}\p{N}])/gu;
const MIN_CODE = 3;
const MAX_CODE = 24;
/** "1st", "22nd", "3rd", "4th". */
const ORDINAL = /^\d+(?:st|nd|rd|th)$/i;
/** A year or a season: 1900–2099, "2018-19", "2018/2019". */
const YEAR = /^(?:19|20)\d\d(?:[-/](?:\d\d|(?:19|20)\d\d))?$/;
/** A small number and a word: "5colors", "2Sec", "20-Eye", "3-Layer" — a quantity, not a code. */
const QUANTITY_WORD = /^\d{1,2}-?[A-Za-z]{3,}$/;
/** A word of four or more letters and a small number: "Size10", "Jersey23", "Style-2". */
const WORD_NUMBER = /^[a-z]{4,}-?\d{1,2}$/i;
/** A number with a unit of any measure: "80mm", "100/120/140/160mm", "5000mAh". */
const WITH_UNIT = new RegExp(
  `(?:^|[-/])\\d+(?:${[CAPACITY_UNITS, WEIGHT_UNITS, LENGTH_UNITS].map(alternation).join('|')}|${COUNT_NOUNS}|packs?|pk|x|mah|v|w|kw|hz|khz|mhz|ghz|gb|tb|mb|mp|k|iu|mcg|mg|spf)$`,
  'iu',
);

/** A unit or count noun right after a number: "5000 IU", "1000 mg", "2000 mAh" make it a measure. */
const UNIT_AFTER = new RegExp(
  `^\\s?-?\\s?(?:${[CAPACITY_UNITS, WEIGHT_UNITS, LENGTH_UNITS].map(alternation).join('|')}|${COUNT_NOUNS}|packs?|pk|mah|v|w|kw|hz|khz|mhz|ghz|gb|tb|mb|mp|iu|mcg|mg|spf|rpm|psi|dpi)(?![\\p{L}\\p{N}])`,
  'iu',
);

/**
 * Product codes in `text`: GTINs (8, 12, 13 or 14 digits with a valid GS1 check digit) and
 * alphanumeric model/part numbers. A model number is one token of letters and digits, segments
 * joined by "-" or "/", of 3 to 24 characters, that has a digit and is not: a pure word, an
 * ordinal, a year or season, a quantity and a word ("5colors", "20-Eye"), a word and a small
 * number ("Size10"), a number with a unit ("80mm", "5000 IU"), a number of fewer than four
 * digits, a run of small numbers ("1/3", "2-4"), or part of a decimal. A valid GTIN is a GTIN, not
 * a model number. Measures are excluded by {@link findPatterns}, which drops codes that overlap one.
 */
export function findCodes(text: string): PatternMatch[] {
  const out: PatternMatch[] = [];
  for (const m of text.matchAll(CODE_TOKEN)) {
    const raw = m[0];
    const start = m.index;
    const end = start + raw.length;
    if (raw.length > MAX_CODE) continue;
    if (/^\d+$/.test(raw) && isValidGtin(raw)) {
      out.push({ kind: 'gtin', value: raw, raw, start, end, quantity: 0, unit: 'code' });
      continue;
    }
    if (!isModelNumber(raw)) continue;
    if (/^\d+$/.test(raw) && UNIT_AFTER.test(text.slice(end))) continue;
    out.push({ kind: 'model_number', value: raw, raw, start, end, quantity: 0, unit: 'code' });
  }
  return out;
}

/** {@link findCodes}' test for one token (without the measure check). */
export function isModelNumber(raw: string): boolean {
  const alnum = raw.replace(/[-/]/g, '');
  if (alnum.length < MIN_CODE || raw.length > MAX_CODE || !/\d/.test(raw)) return false;
  if (ORDINAL.test(raw) || YEAR.test(raw) || QUANTITY_WORD.test(raw) || WORD_NUMBER.test(raw)) return false;
  // "11989M" is a code, "1000M" of line a length: a one-letter unit needs a number of at most four digits.
  if (WITH_UNIT.test(raw) && !/(?:^|[-/])\d{5,}[A-Za-z]$/.test(raw)) return false;
  if (!/[A-Za-z]/.test(raw)) {
    // Digits only: a number of four or more digits ("8400", "130690-003"), not a list of numbers.
    if (!/^\d{4,}(?:-\d{3,})*$/.test(raw)) return false;
  }
  return true;
}
