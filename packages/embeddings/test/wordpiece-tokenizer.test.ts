import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@affinity/contracts';
import { WordPieceTokenizer } from '../src/index';
import { fixtureJson, parity, testModel } from './support';

let tokenizer: WordPieceTokenizer;
let tokenizerJson: Record<string, unknown>;

beforeAll(async () => {
  const model = await testModel();
  tokenizerJson = JSON.parse(await readFile(model.tokenizerPath, 'utf8')) as Record<string, unknown>;
  tokenizer = WordPieceTokenizer.fromJson(tokenizerJson, { maxLength: parity.maxSequenceLength });
});

describe('WordPieceTokenizer against the reference `tokenizers` ids', () => {
  it('encodes every product title exactly as the reference does', () => {
    const titles = parity.texts.slice(0, parity.productTitles);
    expect(titles.length).toBeGreaterThanOrEqual(200);
    const mismatches = titles.filter((t, i) => Array.from(tokenizer.encode(t)).join(',') !== parity.ids[i]?.join(','));
    expect(mismatches).toEqual([]);
  });

  it.each(parity.cases)('edge case: $name', ({ index }) => {
    expect(Array.from(tokenizer.encode(parity.texts[index] ?? ''))).toEqual(parity.ids[index]);
  });

  it('the edge cases exercise what they claim (truncation, [UNK], ## pieces, specials)', () => {
    const ids = (name: string) => parity.ids[parity.cases.find((c) => c.name === name)?.index ?? -1] ?? [];
    expect(ids('very long text is truncated')).toHaveLength(parity.maxSequenceLength);
    expect(ids('empty')).toEqual([tokenizer.clsId, tokenizer.sepId]);
    expect(ids('word over 100 chars is [UNK]')).toContain(tokenizer.unkId);
    expect(tokenizer.tokenize(parity.texts[parity.cases.find((c) => c.name === 'rare words become ## pieces')?.index ?? -1] ?? '').some((p) => p.startsWith('##'))).toBe(true);
  });

  it('truncates at a smaller maxLength to the reference prefix plus [SEP]', () => {
    const short = WordPieceTokenizer.fromJson(tokenizerJson, { maxLength: 8 });
    parity.texts.forEach((text, i) => {
      const ref = parity.ids[i] ?? [];
      const expected = ref.length <= 8 ? ref : [...ref.slice(0, 7), tokenizer.sepId];
      expect(Array.from(short.encode(text))).toEqual(expected);
    });
  });

  it('encodeWords: the same ids as encode() for a text split at whitespace, and where each word is', () => {
    const titles = parity.texts.slice(0, parity.productTitles);
    for (const t of titles) {
      const words = t.split(/\s+/).filter((w) => w !== '');
      const { ids, starts } = tokenizer.encodeWords(words);
      expect(Array.from(ids)).toEqual(Array.from(tokenizer.encode(t)));
      expect(starts).toHaveLength(words.length + 1);
      words.forEach((w, i) => {
        const own = tokenizer.encode(w);
        expect(Array.from(ids.subarray(starts[i], starts[i + 1]))).toEqual(Array.from(own.subarray(1, own.length - 1)));
      });
    }
  });

  it('encodeWords truncates like encode() and leaves the words cut off with empty ranges', () => {
    const short = WordPieceTokenizer.fromJson(tokenizerJson, { maxLength: 8 });
    const words = ['Philips', 'Sonicare', 'DiamondClean', 'Smart', '9500', 'Rechargeable', 'Toothbrush'];
    const { ids, starts } = short.encodeWords(words);
    expect(Array.from(ids)).toEqual(Array.from(short.encode(words.join(' '))));
    expect(ids).toHaveLength(8);
    const lastWithPieces = words.findLastIndex((_, i) => (starts[i + 1] as number) > (starts[i] as number));
    expect(lastWithPieces).toBeGreaterThan(0);
    expect(lastWithPieces).toBeLessThan(words.length - 1);
    for (let i = lastWithPieces + 1; i < words.length; i++) expect(starts[i + 1]).toBe(starts[i]);
    expect(starts[words.length]).toBe(ids.length - 1);
  });

  it('agrees with the reference on "a<c>b" for every code point of planes 0-1 and a sample of the rest', () => {
    const probe = fixtureJson<{ sampleStepAbovePlane1: number; blockBits: number; sha256: Record<string, string> }>('unicode-probe.json');
    const blocks = new Map<number, ReturnType<typeof createHash>>();
    const visit = (cp: number) => {
      const key = cp >> probe.blockBits;
      let h = blocks.get(key);
      if (h === undefined) blocks.set(key, (h = createHash('sha256')));
      h.update(`${cp}:${tokenizer.encode(`a${String.fromCodePoint(cp)}b`).join(',')}\n`);
    };
    for (let cp = 0; cp < 0x20000; cp++) if (cp < 0xd800 || cp > 0xdfff) visit(cp);
    for (let cp = 0x20000; cp < 0x110000; cp += probe.sampleStepAbovePlane1) visit(cp);
    const ours = Object.fromEntries([...blocks].map(([k, h]) => [String(k), h.digest('hex')]));
    const differing = Object.keys(probe.sha256).filter((k) => ours[k] !== probe.sha256[k]).map((k) => `U+${(Number(k) << probe.blockBits).toString(16)}`);
    expect(differing).toEqual([]);
  });

  it('refuses a tokenizer.json it does not implement instead of approximating it', () => {
    expect(() => WordPieceTokenizer.fromJson({ ...tokenizerJson, normalizer: { type: 'NFKC' } })).toThrow(ConfigError);
    expect(() => WordPieceTokenizer.fromJson({ ...tokenizerJson, model: { type: 'BPE', vocab: {} } })).toThrow(/unsupported model/);
    expect(() => WordPieceTokenizer.fromJson(tokenizerJson, { maxLength: 1 })).toThrow(/maxLength/);
  });
});
