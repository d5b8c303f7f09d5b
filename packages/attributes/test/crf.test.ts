import { mulberry32 } from '@affinity/contracts';
import { describe, expect, it } from 'vitest';
import { type CrfSequence, LinearChainCrf, hashFeature } from '../src/internal/crf';

/**
 * Sequences whose sparse features say nothing (one bias feature per token): only the dense
 * features tell a value token (B of attribute 0) from the rest.
 */
function sequences(n: number, seed: number): CrfSequence[] {
  const rand = mulberry32(seed);
  const bias = new Uint32Array([hashFeature('b')]);
  const allowed = new Int32Array([0, 1, 2]);
  return Array.from({ length: n }, () => {
    const T = 3 + Math.floor(rand() * 6);
    const gold = new Int32Array(T);
    const dense = new Float32Array(T * 4);
    for (let t = 0; t < T; t++) {
      const isValue = rand() < 0.3;
      gold[t] = isValue ? 1 : 0;
      dense[t * 4 + (isValue ? 0 : 1)] = 1;
      dense[t * 4 + 2] = rand() - 0.5; // noise
    }
    return { features: Array.from({ length: T }, () => bias), allowed, gold, dense };
  });
}

describe('LinearChainCrf dense features', () => {
  it('learns what only the dense features tell, and averages their weights', () => {
    const crf = new LinearChainCrf(3, 10, undefined, undefined, 4);
    crf.train(sequences(300, 1), { epochs: 4, learningRate: 0.1, seed: 1 });
    let right = 0;
    let total = 0;
    for (const s of sequences(100, 2)) {
      const found = new Set(crf.spans(s, 0.5).map((x) => x.start));
      s.gold!.forEach((g, t) => {
        total++;
        if ((g === 1) === found.has(t)) right++;
      });
    }
    expect(right / total).toBeGreaterThan(0.97);
    // The value direction gets a positive B weight, the other direction a negative one.
    expect(crf.denseWeights[1 * 4 + 0]).toBeGreaterThan(0);
    expect(crf.denseWeights[1 * 4 + 1]).toBeLessThan(0);
  });

  it('refuses a sequence without the dense features it was built for, and weights of the wrong size', () => {
    const crf = new LinearChainCrf(3, 10, undefined, undefined, 4);
    const [s] = sequences(1, 3);
    expect(() => crf.spans({ ...s!, dense: undefined }, 0.1)).toThrow(/4 dense features/);
    expect(() => new LinearChainCrf(3, 10, undefined, undefined, 4, new Float32Array(5))).toThrow(/3 x 4/);
  });
});
