/**
 * Recall on real sentence embeddings: the 291 product titles (UCI Online Retail, OA-Mine)
 * that the embeddings package's parity fixture holds as reference MiniLM vectors. The
 * benchmark measures the same on 6,909 titles; this keeps a real-data check in every test run.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VectorShard, type SearchFilter } from '../src';

const FIXTURES = new URL('../../embeddings/test/fixtures/', import.meta.url);
const meta = JSON.parse(readFileSync(new URL('parity-texts.json', FIXTURES), 'utf8')) as { productTitles: number; dim: number; texts: string[] };
const bytes = readFileSync(new URL('parity-all-minilm-l6-v2-int8.f32', FIXTURES));
const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
const n = meta.productTitles;
const dim = meta.dim;
const vec = (i: number) => all.subarray(i * dim, (i + 1) * dim);
// Filterable tags from the titles themselves: a real, uneven distribution.
const tag = (i: number): string => (/\d/.test(meta.texts[i]!) ? 'has-number' : 'plain');
const colour = (i: number): string | undefined => /\b(RED|PINK|BLUE|WHITE|BLACK|Red|Pink|Blue|White|Black)\b/.exec(meta.texts[i]!)?.[1]?.toLowerCase();

function exact(q: number, k: number, keep: (i: number) => boolean): string[] {
  const scores: [number, number][] = [];
  const qv = vec(q);
  for (let i = 0; i < n; i++) {
    if (i === q || !keep(i)) continue;
    let d = 0;
    const v = vec(i);
    for (let j = 0; j < dim; j++) d += qv[j]! * v[j]!;
    scores.push([i, d]);
  }
  return scores
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([i]) => `t${i}`);
}

describe('recall@10 on real MiniLM embeddings of product titles', () => {
  const shard = new VectorShard({ dim, M: 8, efConstruction: 64, ef: 32, seed: 3 });
  for (let i = 0; i < n; i++) shard.upsert(`t${i}`, vec(i), { attributes: { tag: tag(i), ...(colour(i) ? { colour: colour(i)! } : {}) } });

  function recall(filter: SearchFilter | undefined, keep: (i: number) => boolean): number {
    let hit = 0;
    let total = 0;
    for (let q = 0; q < n; q++) {
      const truth = exact(q, 10, keep);
      if (truth.length === 0) continue;
      const got = new Set(shard.search(vec(q), 11, { filter }).map((h) => h.id).filter((id) => id !== `t${q}`).slice(0, 10));
      hit += truth.filter((id) => got.has(id)).length;
      total += truth.length;
    }
    return hit / total;
  }

  it('plain search', () => {
    expect(recall(undefined, () => true)).toBeGreaterThanOrEqual(0.95);
  });

  it('filtered by a common and by a rare attribute value', () => {
    const common = recall({ attributes: { tag: 'plain' } }, (i) => tag(i) === 'plain');
    const rare = recall({ attributes: { colour: 'red' } }, (i) => colour(i) === 'red');
    expect(common).toBeGreaterThanOrEqual(0.95);
    expect(rare).toBe(1);
  });
});
