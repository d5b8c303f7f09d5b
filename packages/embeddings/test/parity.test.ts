import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosineSimilarity, Embedder } from '../src/index';
import { fixtureJson, parity, referenceVectors, testModel } from './support';
import { readFileSync } from 'node:fs';

let embedder: Embedder;

beforeAll(async () => {
  // Fails with ModelNotFoundError ("Fetch it with: packages/embeddings/scripts/fetch-model.sh …") when absent.
  await testModel();
  embedder = await Embedder.create({ model: parity.model, intraOpNumThreads: 1, maxBatchSize: 16 });
});

afterAll(async () => {
  await embedder?.close();
});

describe(`embeddings of ${parity.model} against Python onnxruntime + tokenizers on the same file`, () => {
  it('matches the reference vectors: mean cosine ≥ 0.999, min ≥ 0.995', async () => {
    const reference = referenceVectors(parity.model);
    const dim = parity.dim;
    expect(reference.length).toBe(parity.texts.length * dim);
    const vectors = await embedder.embed(parity.texts);
    const cosines = vectors.map((v, i) => cosineSimilarity(v, reference.subarray(i * dim, (i + 1) * dim)));
    const mean = cosines.reduce((a, b) => a + b, 0) / cosines.length;
    const min = Math.min(...cosines);
    expect(mean).toBeGreaterThanOrEqual(0.999);
    expect(min).toBeGreaterThanOrEqual(0.995);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(dim);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    }
  });

  it('submit() micro-batches to the same vectors as embed()', async () => {
    const texts = parity.texts.slice(0, 80);
    const batched = await embedder.embed(texts);
    const submitted = await Promise.all(texts.map((t) => embedder.submit(t)));
    submitted.forEach((v, i) => expect(cosineSimilarity(v, batched[i] ?? new Float32Array(0))).toBeGreaterThan(0.99999));
    const stats = embedder.stats();
    expect(stats.batches).toBeLessThan(stats.texts);
    expect(stats.tokens).toBeLessThanOrEqual(stats.paddedTokens);
  });

  it('embedMatrix() lays the same vectors out row-major', async () => {
    const texts = parity.texts.slice(0, 10);
    const rows = await embedder.embed(texts);
    const matrix = await embedder.embedMatrix(texts);
    expect(matrix).toHaveLength(texts.length * embedder.dim);
    rows.forEach((row, i) => expect(Array.from(matrix.subarray(i * embedder.dim, (i + 1) * embedder.dim))).toEqual(Array.from(row)));
  });

  it('embedWordsInContext() matches the reference word vectors (mean of each word\'s pieces): mean cosine ≥ 0.999, min ≥ 0.995', async () => {
    const fixture = fixtureJson<{ model: string; words: string[][] }>('word-vectors.json');
    expect(fixture.model).toBe(parity.model);
    const bytes = readFileSync(new URL(`./fixtures/word-vectors-${fixture.model}.f32`, import.meta.url));
    const reference = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const dim = embedder.dim;
    const words = fixture.words.reduce((n, w) => n + w.length, 0);
    expect(reference).toHaveLength(words * dim);
    // All texts in one call: padding to the longest must not change any word's vector.
    const got = await embedder.embedWordsInContext(fixture.words);
    const cosines: number[] = [];
    let row = 0;
    got.forEach((m, i) => {
      expect(m).toHaveLength((fixture.words[i] as string[]).length * dim);
      for (let w = 0; w < m.length / dim; w++, row++) cosines.push(cosineSimilarity(m.subarray(w * dim, (w + 1) * dim), reference.subarray(row * dim, (row + 1) * dim)));
    });
    expect(cosines).toHaveLength(words);
    expect(cosines.reduce((a, b) => a + b, 0) / cosines.length).toBeGreaterThanOrEqual(0.999);
    expect(Math.min(...cosines)).toBeGreaterThanOrEqual(0.995);
    // Context matters: the same word in two titles gets two vectors.
    const [a, b] = await embedder.embedWordsInContext([['apple', 'pie'], ['apple', 'iphone']]);
    expect(cosineSimilarity((a as Float32Array).subarray(0, dim), (b as Float32Array).subarray(0, dim))).toBeLessThan(0.99);
  });

  it('gives the empty batch an empty result', async () => {
    expect(await embedder.embed([])).toEqual([]);
  });
});
