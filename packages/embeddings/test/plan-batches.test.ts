import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planBatches } from '../src/internal/plan-batches';

describe('planBatches', () => {
  it('covers every text once, respects both caps, and batches texts of similar length', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 2, max: 300 }), { maxLength: 200 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 5000 }), (lengths, maxBatch, maxTokens) => {
        const encodings = lengths.map((n) => ({ length: n }));
        const batches = planBatches(encodings, maxBatch, maxTokens);
        const seen = batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
        expect(seen).toEqual(lengths.map((_, i) => i));
        let previousMax = 0;
        for (const b of batches) {
          const ls = Array.from(b, (i) => lengths[i] ?? 0);
          expect(b.length).toBeLessThanOrEqual(maxBatch);
          if (b.length > 1) expect(b.length * Math.max(...ls)).toBeLessThanOrEqual(maxTokens);
          // Sorted order: no batch starts shorter than the previous batch's longest.
          expect(Math.min(...ls)).toBeGreaterThanOrEqual(previousMax);
          previousMax = Math.max(...ls);
        }
      }),
    );
  });
});
