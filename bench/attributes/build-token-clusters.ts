/**
 * Spherical k-means (cosine) over word vectors written by embed-tokens.ts, at several granularities,
 * and a word → cluster table for the tagger's cluster features (Guo et al., "Revisiting Embedding
 * Features for Simple Semi-supervised Learning", EMNLP 2014: cluster ids of embeddings as CRF features).
 *
 *   npx tsx bench/attributes/build-token-clusters.ts <centroid prefix> <out.json> [<assign prefix> ...]
 *
 * Centroids are fitted on the first prefix's vectors; every word of every prefix is assigned.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mulberry32 } from '@affinity/contracts';

const [fit, out, ...assign] = process.argv.slice(2);
if (fit === undefined || out === undefined) throw new Error('usage: build-token-clusters.ts <fit prefix> <out.json> [assign prefix ...]');
const LEVELS = (process.env.LEVELS ?? '32,256,1024').split(',').map(Number);
const ITERATIONS = 12;
const DIM = 384;

function load(prefix: string): { words: string[]; m: Float32Array } {
  const words = readFileSync(`${prefix}.words.txt`, 'utf8').split('\n');
  const b = readFileSync(`${prefix}.f32`);
  const m = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  if (m.length !== words.length * DIM) throw new Error(`${prefix}: ${m.length} floats for ${words.length} words`);
  return { words, m };
}

function nearest(m: Float32Array, i: number, c: Float32Array, k: number): number {
  let best = 0;
  let bestS = -Infinity;
  const o = i * DIM;
  for (let j = 0; j < k; j++) {
    let s = 0;
    const oc = j * DIM;
    for (let d = 0; d < DIM; d++) s += (m[o + d] as number) * (c[oc + d] as number);
    if (s > bestS) {
      bestS = s;
      best = j;
    }
  }
  return best;
}

function kmeans(m: Float32Array, n: number, k: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const c = new Float32Array(k * DIM);
  // k-means++ seeding on cosine distance.
  const dist = new Float64Array(n).fill(Infinity);
  let pick = Math.floor(rand() * n);
  for (let j = 0; j < k; j++) {
    c.set(m.subarray(pick * DIM, (pick + 1) * DIM), j * DIM);
    let total = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let d = 0; d < DIM; d++) s += (m[i * DIM + d] as number) * (c[j * DIM + d] as number);
      const dd = Math.max(0, 1 - s) ** 2;
      if (dd < (dist[i] as number)) dist[i] = dd;
      total += dist[i] as number;
    }
    let r = rand() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= dist[i] as number;
      if (r <= 0) {
        pick = i;
        break;
      }
    }
  }
  const assign = new Int32Array(n);
  for (let it = 0; it < ITERATIONS; it++) {
    for (let i = 0; i < n; i++) assign[i] = nearest(m, i, c, k);
    c.fill(0);
    for (let i = 0; i < n; i++) for (let d = 0; d < DIM; d++) {
      const at = (assign[i] as number) * DIM + d;
      c[at] = (c[at] as number) + (m[i * DIM + d] as number);
    }
    for (let j = 0; j < k; j++) {
      let norm = 0;
      for (let d = 0; d < DIM; d++) norm += (c[j * DIM + d] as number) ** 2;
      norm = Math.sqrt(norm);
      if (norm === 0) {
        const i = Math.floor(rand() * n);
        c.set(m.subarray(i * DIM, (i + 1) * DIM), j * DIM);
      } else for (let d = 0; d < DIM; d++) c[j * DIM + d] = (c[j * DIM + d] as number) / norm;
    }
  }
  return c;
}

const base = load(fit);
const centroids = LEVELS.map((k, l) => {
  const t0 = performance.now();
  const c = kmeans(base.m, base.words.length, k, 1 + l);
  console.log(`k=${k}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return c;
});
const table = new Map<string, number[]>();
for (const p of [fit, ...assign]) {
  const { words, m } = p === fit ? base : load(p);
  words.forEach((w, i) => table.set(w, LEVELS.map((k, l) => nearest(m, i, centroids[l] as Float32Array, k))));
}
writeFileSync(out, JSON.stringify({ levels: LEVELS, words: [...table.keys()], ids: LEVELS.map((_, l) => [...table.values()].map((v) => v[l])) }));
console.log(`${table.size} words -> ${out}`);
