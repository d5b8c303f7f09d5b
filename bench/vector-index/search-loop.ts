/**
 * Quick same-run QPS ratio of the shard's graph search against hnswlib-node on one synthetic
 * set, for iterating on the search loop. Built indexes are cached (shard snapshot + hnswlib
 * writeIndex) under ${AFFINITY_CACHE:-~/.cache/affinity}/bench/vector-index, so a run costs
 * only the queries once the cache exists; `--rebuild` builds afresh (needed after a change to
 * graph construction), `--build-only` stops after building.
 *
 *   npx tsx bench/vector-index/search-loop.ts [--n 25000] [--queries 200] [--rounds 3] [--efs 32,64,128]
 *
 * Prints a table and writes nothing else; the full benchmark (run.ts) is the record.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { VectorShard } from '@affinity/vector-index';
import { bruteForceTopK } from '../../packages/vector-index/test/support/synthetic';
import { syntheticDataset } from './datasets';
import { HnswlibEngine, type HnswParams } from './engines';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}
const N = Number(arg('n', '25000'));
const Q = Number(arg('queries', '200'));
const ROUNDS = Number(arg('rounds', '3'));
const EFS = arg('efs', '32,64,128').split(',').map(Number);
const K = 10;
const log = (...a: unknown[]): void => console.error(...a);

async function main(): Promise<void> {
  const ds = syntheticDataset(N, Q, 77);
  const truth = ds.queries.map((q) => bruteForceTopK(ds.vectors, q, K));
  const dir = join(process.env.AFFINITY_CACHE ?? join(homedir(), '.cache', 'affinity'), 'bench', 'vector-index');
  await mkdir(dir, { recursive: true });
  const shardPath = join(dir, `shard-${N}.snap`);
  const hnswPath = join(dir, `hnswlib-${N}.bin`);
  const p: HnswParams = { dim: 384, capacity: N, M: 16, efConstruction: 200, seed: 100 };
  const hnsw = new HnswlibEngine(p);
  let shard: VectorShard;
  if (process.argv.includes('--rebuild') || !existsSync(shardPath) || !existsSync(hnswPath)) {
    log(`building ${N} (cache: ${dir})`);
    shard = new VectorShard({ dim: 384, M: 16, efConstruction: 200, seed: 100, initialCapacity: N });
    hnsw.prepare(ds.vectors);
    const t = { shard: 0, hnsw: 0 };
    const chunk = Math.ceil(N / 10);
    for (let from = 0; from < N; from += chunk) {
      const to = Math.min(N, from + chunk);
      let t0 = performance.now();
      for (let i = from; i < to; i++) shard.upsert(String(i), ds.vectors[i]!);
      t.shard += performance.now() - t0;
      t0 = performance.now();
      hnsw.add(ds.vectors, from, to);
      t.hnsw += performance.now() - t0;
      log(`  ${to}: shard ${Math.round(to / (t.shard / 1000))}/s, hnswlib ${Math.round(to / (t.hnsw / 1000))}/s, ratio ${(t.hnsw / t.shard).toFixed(3)}`);
    }
    await shard.snapshot(shardPath, { offset: '0', partition: 0, modelId: 'bench', dim: 384 });
    hnsw.index.writeIndexSync(hnswPath);
    if (process.argv.includes('--build-only')) return;
  } else {
    shard = await VectorShard.restore(shardPath);
    hnsw.index.readIndexSync(hnswPath, true);
  }
  hnsw.prepare(ds.queries);
  const engines: [string, (q: Float32Array, ef: number) => number[]][] = [
    ['shard', (q, ef) => shard.search(q, K, { ef, strategy: 'graph' }).map((h) => Number(h.id))],
    ['hnswlib', (q) => hnsw.search(q, K)],
  ];
  // Warm-up: JIT and caches.
  for (const q of ds.queries.slice(0, 50)) for (const [, f] of engines) f(q, 64);
  log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (const ef of EFS) {
    hnsw.setEf(ef);
    const spent = engines.map(() => 0);
    const rec = engines.map(() => 0);
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < ds.queries.length; i++) {
        for (let j = 0; j < engines.length; j++) {
          const e = (i + j + round) % engines.length;
          const t0 = performance.now();
          const found = engines[e]![1](ds.queries[i]!, ef);
          spent[e]! += performance.now() - t0;
          if (round === 0) {
            const s = new Set(found);
            rec[e]! += truth[i]!.filter((x) => s.has(x)).length / K / ds.queries.length;
          }
        }
      }
    }
    const qps = spent.map((ms) => (ROUNDS * ds.queries.length * 1000) / ms);
    console.log(`n ${N} ef ${ef}: shard r=${rec[0]!.toFixed(3)} ${qps[0]!.toFixed(0)} qps | hnswlib r=${rec[1]!.toFixed(3)} ${qps[1]!.toFixed(0)} qps | ratio ${(qps[0]! / qps[1]!).toFixed(3)}`);
  }
  log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

await main();
