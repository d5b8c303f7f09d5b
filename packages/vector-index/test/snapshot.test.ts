import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@affinity/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotError, VectorShard, type SearchFilter, type SnapshotMeta } from '../src/index';
import { attributesFor } from './support/fixtures';
import { syntheticSet } from './support/synthetic';

const DIM = 96;
const set = syntheticSet({ n: 2500, dim: DIM, seed: 41 });
const queries = set.query(40, 3);
const filters: (SearchFilter | undefined)[] = [undefined, { attributes: { s50: 'y' } }, { attributes: { s10: 'y' } }, { categoryPath: ['Toys'] }, { brand: 'Acme', price: { max: 600 } }];

function meta(offset: string): SnapshotMeta {
  return { offset, partition: 3, modelId: 'test-model', dim: DIM, note: 'kept' };
}

function answers(shard: VectorShard): string {
  const out: unknown[] = [];
  for (const filter of filters) {
    for (const strategy of ['auto', 'graph'] as const) {
      for (const q of queries) out.push(shard.search(q, 10, { strategy, ...(filter ? { filter } : {}) }));
    }
  }
  return JSON.stringify(out);
}

function churned(options: Partial<ConstructorParameters<typeof VectorShard>[0]> = {}): VectorShard {
  const shard = new VectorShard({ dim: DIM, consolidateMinTombstones: 50, efConstruction: 64, ...options });
  set.vectors.forEach((v, i) => shard.upsert(`p${i}`, v, attributesFor(set, i)));
  // Tombstones, freed slots and reused slots all end up in the snapshot.
  for (let i = 0; i < 600; i += 3) shard.delete(`p${i}`);
  for (let i = 1; i < 300; i += 5) shard.upsert(`p${i}`, set.vectors[(i * 13) % set.vectors.length]!, attributesFor(set, i));
  for (let i = 0; i < 60; i += 3) shard.upsert(`p${i}`, set.vectors[i]!, attributesFor(set, i));
  for (let i = 900; i < 930; i++) shard.delete(`p${i}`);
  return shard;
}

describe('VectorShard snapshots', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vector-shard-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['float', {}],
    ['int8', { quantization: 'int8' as const, calibrationSize: 300 }],
  ])('restore(snapshot) answers identically (%s, with tombstones and reused slots)', async (_name, options) => {
    const shard = churned(options);
    expect(shard.stats().tombstones).toBeGreaterThan(0);
    expect(shard.stats().slotsReclaimed).toBeGreaterThan(0);
    const path = join(dir, `shard-${_name}.snap`);
    const info = await shard.snapshot(path, meta('123456789012345'));
    expect(info).toMatchObject({ path, size: shard.size, meta: meta('123456789012345') });
    expect(info.sha256).toMatch(/^[0-9a-f]{64}$/);

    const restored = await VectorShard.restore(path);
    expect(restored.size).toBe(shard.size);
    expect(restored.stats()).toMatchObject({
      slotsUsed: shard.stats().slotsUsed,
      tombstones: shard.stats().tombstones,
      freeSlots: shard.stats().freeSlots,
      quantized: shard.stats().quantized,
      lastSnapshot: { meta: meta('123456789012345'), sha256: info.sha256 },
    });
    expect(answers(restored)).toBe(answers(shard));

    // The same operations after restore keep both in lock step (same rng state, free list, graph).
    for (const s of [shard, restored]) {
      for (let i = 2000; i < 2100; i++) s.delete(`p${i}`);
      for (let i = 0; i < 40; i++) s.upsert(`n${i}`, set.vectors[(i * 7) % 2500]!, { brand: 'Fresh' });
    }
    expect(answers(restored)).toBe(answers(shard));
    expect(restored.search(set.vectors[7]!, 3, { filter: { brand: 'fresh' } }).length).toBe(3);
  }, 300_000);

  it('reads the header alone and leaves no temp files', async () => {
    const shard = churned();
    const path = join(dir, 'header.snap');
    await shard.snapshot(path, meta('42'));
    await shard.snapshot(path, meta('43'));
    const header = await VectorShard.readSnapshotHeader(path);
    expect(header).toMatchObject({ meta: meta('43'), size: shard.size });
    expect(header.options.dim).toBe(DIM);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('captures the state at the call: mutations while the file is written are not in it', async () => {
    const shard = churned();
    const expected = answers(shard);
    const path = join(dir, 'concurrent.snap');
    const pending = shard.snapshot(path, meta('7'));
    for (let i = 1000; i < 1400; i++) shard.delete(`p${i}`);
    for (let i = 0; i < 300; i++) shard.upsert(`late${i}`, set.vectors[i]!, { brand: 'Late' });
    await pending;
    const restored = await VectorShard.restore(path);
    expect(restored.has('late0')).toBe(false);
    expect(restored.has('p1000')).toBe(true);
    expect(answers(restored)).toBe(expected);
  }, 300_000);

  it('refuses corrupt, truncated and foreign files with SnapshotError', async () => {
    const shard = churned();
    const path = join(dir, 'corrupt.snap');
    await shard.snapshot(path, meta('1'));
    const bytes = await readFile(path);
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)]! ^= 0x01;
    await writeFile(join(dir, 'flipped.snap'), flipped);
    await expect(VectorShard.restore(join(dir, 'flipped.snap'))).rejects.toThrow(/checksum/);
    await writeFile(join(dir, 'short.snap'), bytes.subarray(0, bytes.length - 100));
    await expect(VectorShard.restore(join(dir, 'short.snap'))).rejects.toBeInstanceOf(SnapshotError);
    await writeFile(join(dir, 'foreign.snap'), Buffer.from('not a snapshot at all, just some text that is long enough'));
    await expect(VectorShard.restore(join(dir, 'foreign.snap'))).rejects.toThrow(/magic/);
  });

  it('validates the meta it records', async () => {
    const shard = new VectorShard({ dim: DIM });
    await expect(shard.snapshot(join(dir, 'bad.snap'), { ...meta('1'), dim: 3 })).rejects.toBeInstanceOf(ValidationError);
    await expect(shard.snapshot(join(dir, 'bad.snap'), { ...meta('x1') })).rejects.toThrow(/offset/);
    const empty = await (async () => {
      await shard.snapshot(join(dir, 'empty.snap'), meta('0'));
      return VectorShard.restore(join(dir, 'empty.snap'));
    })();
    expect(empty.size).toBe(0);
    empty.upsert('a', set.vectors[0]!);
    expect(empty.search(set.vectors[0]!, 1)[0]?.id).toBe('a');
  });
});
