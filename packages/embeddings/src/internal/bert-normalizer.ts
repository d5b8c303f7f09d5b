import { NONSPACING_MARK_RANGES, PUNCTUATION_RANGES, REMOVED_RANGES, WHITESPACE_RANGES } from './unicode-tables';

/**
 * BertNormalizer and BertPreTokenizer of HF `tokenizers`, code point for code point:
 * clean text (drop NUL, U+FFFD, control/format/private-use; whitespace → ' '), pad CJK
 * ideographs with spaces, strip accents (NFD, drop nonspacing marks), lowercase each code point
 * on its own (no final-sigma context, as Rust's `char::to_lowercase`), then split on whitespace
 * and isolate punctuation. Character classes come from the reference library's own tables
 * (unicode-tables.ts), not from the JS engine's newer Unicode version.
 */
export interface BertNormalizerConfig {
  cleanText: boolean;
  handleChineseChars: boolean;
  stripAccents: boolean;
  lowercase: boolean;
}

const REMOVED = 1;
const WHITESPACE = 2;
const PUNCTUATION = 4;
const MARK = 8;

const TABLES: readonly [number, readonly number[]][] = [
  [REMOVED, REMOVED_RANGES],
  [WHITESPACE, WHITESPACE_RANGES],
  [PUNCTUATION, PUNCTUATION_RANGES],
  [MARK, NONSPACING_MARK_RANGES],
];

/** Flags of the Basic Multilingual Plane in one lookup; astral planes binary-search the ranges. */
const BMP = new Uint8Array(0x10000);
const ASTRAL: [number, Uint32Array][] = [];
for (const [flag, ranges] of TABLES) {
  const astral: number[] = [];
  for (let i = 0; i < ranges.length; i += 2) {
    const first = ranges[i] ?? 0;
    const last = ranges[i + 1] ?? 0;
    for (let cp = first; cp <= Math.min(last, 0xffff); cp++) BMP[cp] = (BMP[cp] ?? 0) | flag;
    if (last > 0xffff) astral.push(Math.max(first, 0x10000), last);
  }
  ASTRAL.push([flag, Uint32Array.from(astral)]);
}

function flagsOf(cp: number): number {
  if (cp < 0x10000) return BMP[cp] ?? 0;
  let flags = 0;
  for (const [flag, ranges] of ASTRAL) {
    let lo = 0;
    let hi = ranges.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cp < (ranges[2 * mid] ?? 0)) hi = mid - 1;
      else if (cp > (ranges[2 * mid + 1] ?? 0)) lo = mid + 1;
      else {
        flags |= flag;
        break;
      }
    }
  }
  return flags;
}

function isChinese(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

const PLAIN_ASCII = /^[\x20-\x7e]*$/;

export function normalize(text: string, config: BertNormalizerConfig): string {
  // Product titles are mostly printable ASCII, where every step but lowercasing is the identity.
  if (PLAIN_ASCII.test(text)) return config.lowercase ? text.toLowerCase() : text;
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (config.cleanText) {
      if (cp === 0 || cp === 0xfffd) continue;
      const flags = flagsOf(cp);
      if ((flags & REMOVED) !== 0) continue;
      if ((flags & WHITESPACE) !== 0) {
        out += ' ';
        continue;
      }
    }
    out += config.handleChineseChars && isChinese(cp) ? ` ${ch} ` : ch;
  }
  if (config.stripAccents) {
    let stripped = '';
    for (const ch of out.normalize('NFD')) if ((flagsOf(ch.codePointAt(0) ?? 0) & MARK) === 0) stripped += ch;
    out = stripped;
  }
  if (config.lowercase) {
    let lower = '';
    for (const ch of out) lower += ch.toLowerCase();
    out = lower;
  }
  return out;
}

/** BertPreTokenizer: whitespace separates words and is dropped; each punctuation mark is a word. */
export function preTokenize(text: string): string[] {
  const words: string[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i) ?? 0;
    const width = cp > 0xffff ? 2 : 1;
    const flags = flagsOf(cp);
    if ((flags & (WHITESPACE | PUNCTUATION)) !== 0) {
      if (i > start) words.push(text.slice(start, i));
      if ((flags & PUNCTUATION) !== 0) words.push(text.slice(i, i + width));
      start = i + width;
    }
    i += width;
  }
  if (i > start) words.push(text.slice(start, i));
  return words;
}
