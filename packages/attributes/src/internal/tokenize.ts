/** A token of a normalized field with its [start, end) offsets. */
export interface Token {
  text: string;
  lower: string;
  start: number;
  end: number;
  kind: 'word' | 'number' | 'punct';
}

// Numbers keep their decimal/thousands separators ("17.6", "5,000"); words keep inner apostrophes
// ("Women's", "Kid’s"); everything else is a one-character token. Digit/letter boundaries split
// ("500mg" → "500" "mg"), so measure spans align with tokens; a span's surface form is always the
// substring between its first start and last end, so splitting finer never loses an exact match.
const TOKEN = /\p{N}+(?:[.,]\p{N}+)*|[\p{L}\p{M}]+(?:['’][\p{L}\p{M}]+)*|\S/gu;

const NUMBER_START = /^\p{N}/u;
const WORD_START = /^[\p{L}\p{M}]/u;

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const t = m[0];
    const start = m.index;
    const kind = NUMBER_START.test(t) ? 'number' : WORD_START.test(t) ? 'word' : 'punct';
    out.push({ text: t, lower: t.toLowerCase(), start, end: start + t.length, kind });
  }
  return out;
}
