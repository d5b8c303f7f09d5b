import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DynamicCsr } from '../src/internal/dynamic-csr';

// The CSR + delta layout against a plain Map model: any interleaving of additions and
// merges must read back the same weights, degrees and (sorted) rows.
describe('DynamicCsr', () => {
  it('matches a map model under random additions and compactions', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), u: fc.nat(40), v: fc.nat(40), w: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constant('compact' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const csr = new DynamicCsr(4, 4);
        const model = new Map<string, number>();
        const deg = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'compact') {
            csr.compact();
            continue;
          }
          csr.ensureNodes(Math.max(o.u, o.v) + 1);
          csr.addUndirected(o.u, o.v, o.w);
          for (const [a, b] of o.u === o.v ? [[o.u, o.v]] : [[o.u, o.v], [o.v, o.u]]) {
            model.set(`${a},${b}`, (model.get(`${a},${b}`) ?? 0) + o.w);
            deg.set(a!, (deg.get(a!) ?? 0) + o.w);
          }
        }
        for (const [key, w] of model) {
          const [a, b] = key.split(',').map(Number) as [number, number];
          expect(csr.weight(a, b)).toBe(w);
        }
        expect(csr.entryCount).toBe(model.size);
        csr.compact();
        for (let u = 0; u < csr.nodeCount; u++) {
          expect(csr.degree[u]).toBe(deg.get(u) ?? 0);
          const row = Array.from(csr.cols.subarray(csr.rowPtr[u]!, csr.rowPtr[u + 1]!));
          expect(row).toEqual([...row].sort((x, y) => x - y));
          expect(row.length).toBe(csr.rowLength(u));
        }
      }),
      { numRuns: 200 },
    );
  });
});
