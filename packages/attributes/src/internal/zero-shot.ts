import { type Token, tokenize } from './tokenize';

/** Embeds texts (e.g. @affinity/embeddings); vectors are L2-normalized or will be. */
export type EmbedTexts = (texts: string[]) => Promise<Float32Array[]>;

export interface ZeroShotPick {
  value: string;
  raw: string;
  start: number;
  end: number;
  similarity: number;
}

function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += (v[i] as number) ** 2;
  const s = n > 0 ? 1 / Math.sqrt(n) : 0;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) * s;
  return out;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Longest candidate n-gram, in word tokens. */
const MAX_NGRAM = 3;

/**
 * Chooses, among an attribute's known values, the one closest to some n-gram of the title.
 * Value embeddings are cached (value sets are small and stable); title n-grams are embedded per call.
 */
export class ZeroShotChooser {
  private readonly cache = new Map<string, Float32Array>();

  constructor(
    private readonly embed: EmbedTexts,
    private readonly minSimilarity: number,
  ) {}

  private async vectors(texts: string[]): Promise<Float32Array[]> {
    const missing = [...new Set(texts.filter((t) => !this.cache.has(t)))];
    if (missing.length > 0) {
      const vs = await this.embed(missing);
      if (vs.length !== missing.length) throw new TypeError(`embedder returned ${vs.length} vectors for ${missing.length} texts`);
      missing.forEach((t, i) => this.cache.set(t, normalize(vs[i] as Float32Array)));
    }
    return texts.map((t) => this.cache.get(t) as Float32Array);
  }

  /** `values`: each known surface form with the value it stands for. */
  async choose(title: string, values: readonly { text: string; value: string }[]): Promise<ZeroShotPick | undefined> {
    if (values.length === 0) return undefined;
    const words = tokenize(title).filter((t) => t.kind !== 'punct');
    const grams: { text: string; start: number; end: number }[] = [];
    for (let i = 0; i < words.length; i++) {
      for (let n = 1; n <= MAX_NGRAM && i + n <= words.length; n++) {
        const s = (words[i] as Token).start;
        const e = (words[i + n - 1] as Token).end;
        grams.push({ text: title.slice(s, e), start: s, end: e });
      }
    }
    if (grams.length === 0) return undefined;
    const valueVecs = await this.vectors(values.map((v) => v.text));
    const gramVecs = await this.embed(grams.map((g) => g.text));
    let best: ZeroShotPick | undefined;
    grams.forEach((g, gi) => {
      const gv = normalize(gramVecs[gi] as Float32Array);
      values.forEach((v, vi) => {
        const sim = dot(gv, valueVecs[vi] as Float32Array);
        if (sim >= this.minSimilarity && (best === undefined || sim > best.similarity)) best = { value: v.value, raw: g.text, start: g.start, end: g.end, similarity: sim };
      });
    });
    return best;
  }
}
