/**
 * Benchmark of @affinity/vector-index against the raw libraries, measured in the same run:
 * recall@10 / QPS sweeps over ef (hnswlib-node, usearch, this shard float and int8), filtered
 * search at 50/10/1/0.1% selectivity against search-then-filter and hnswlib's filter
 * callback, insert/replace/delete throughput, memory per vector, snapshot/restore cost.
 *
 *   npx tsx bench/vector-index/run.ts [--n 20000] [--queries 200] [--scale-n 50000] [--quick]
 *
 * Writes bench/results/vector-index.json and .md. Timing runs single-threaded; rounds are
 * interleaved across engines so load from other processes hits all of them alike.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { VectorShard, type ItemAttributes } from '@affinity/vector-index';
import { bruteForceTopK } from '../../packages/vector-index/test/support/synthetic';
import { HnswlibEngine, ShardEngine, UsearchEngine, type Engine, type HnswParams } from './engines';
import { realDataset, syntheticDataset, type Dataset } from './datasets';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const quick = process.argv.includes('--quick');
const N = arg('n', quick ? 5000 : 10_000);
const Q = arg('queries', quick ? 100 : 200);
const SCALE_N = arg('scale-n', quick ? 0 : 25_000);
const K = 10;
const M = 16;
const EF_CONSTRUCTION = 200;
const EFS = quick ? [32, 64] : [16, 32, 64, 128, 256];
const ROUNDS = 3;
const SELECTIVITIES = [0.5, 0.1, 0.01, 0.001];
const log = (...a: unknown[]): void => console.error(...a);

function recall(found: readonly number[], truth: readonly number[]): number {
  if (truth.length === 0) return 1;
  const s = new Set(found);
  return truth.filter((t) => s.has(t)).length / truth.length;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

function rss(): number {
  gc();
  return process.memoryUsage().rss;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const r1 = (x: number): number => Math.round(x * 10) / 10;

interface BuildResult {
  engine: string;
  seconds: number;
  insertsPerSec: number;
  rssDeltaBytes: number;
  rssBytesPerVector: number;
  estimateBytesPerVector: number | null;
}

/**
 * Builds all engines in interleaved chunks, so load from other processes during the build
 * falls on every engine alike. Memory: RSS growth (after a GC) during each engine's own chunks.
 */
function buildAll(engines: Engine[], vectors: readonly Float32Array[], chunks = 10): BuildResult[] {
  const secs = new Map<Engine, number>();
  const grown = new Map<Engine, number>();
  const size = Math.ceil(vectors.length / chunks);
  for (let from = 0; from < vectors.length; from += size) {
    const to = Math.min(vectors.length, from + size);
    const order = (from / size) % 2 === 0 ? engines : [...engines].reverse();
    for (const e of order) {
      const before = rss();
      const t0 = performance.now();
      e.add(vectors, from, to);
      secs.set(e, (secs.get(e) ?? 0) + (performance.now() - t0) / 1000);
      grown.set(e, (grown.get(e) ?? 0) + rss() - before);
    }
    log(`  built ${to}/${vectors.length}: ${engines.map((e) => `${e.name} ${Math.round(to / secs.get(e)!)}/s`).join(' | ')}`);
  }
  return engines.map((e) => {
    const seconds = secs.get(e)!;
    const delta = grown.get(e)!;
    const est = e.memoryBytes();
    log(`  built ${e.name}: ${(vectors.length / seconds).toFixed(0)}/s, rss +${(delta / 1e6).toFixed(1)} MB`);
    return {
      engine: e.name,
      seconds: r3(seconds),
      insertsPerSec: Math.round(vectors.length / seconds),
      rssDeltaBytes: delta,
      rssBytesPerVector: Math.round(delta / vectors.length),
      estimateBytesPerVector: est === null ? null : Math.round(est / vectors.length),
    };
  });
}

interface SweepRow {
  ef: number;
  engine: string;
  recall: number;
  qps: number;
}

/**
 * Per query, every engine answers in turn (the order rotating), for ROUNDS passes: load from
 * other processes then falls on all engines alike. QPS = queries answered / time spent in the
 * engine's calls; recall from the first pass.
 */
function sweep(engines: Engine[], queries: Float32Array[], truth: number[][], efs: number[]): SweepRow[] {
  const rows: SweepRow[] = [];
  for (const ef of efs) {
    for (const e of engines) e.setEf(ef);
    const spent = new Map<Engine, number>(engines.map((e) => [e, 0]));
    const rec = new Map<Engine, number>(engines.map((e) => [e, 0]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < queries.length; i++) {
        for (let j = 0; j < engines.length; j++) {
          const e = engines[(i + j + round) % engines.length]!;
          const t0 = performance.now();
          const found = e.search(queries[i]!, K);
          spent.set(e, spent.get(e)! + performance.now() - t0);
          if (round === 0) rec.set(e, rec.get(e)! + recall(found, truth[i]!));
        }
      }
    }
    for (const e of engines) rows.push({ ef, engine: e.name, recall: r3(rec.get(e)! / queries.length), qps: Math.round((ROUNDS * queries.length * 1000) / spent.get(e)!) });
    log(`  ef ${ef}: ${rows.slice(-engines.length).map((r) => `${r.engine} r=${r.recall} ${r.qps}qps`).join(' | ')}`);
  }
  return rows;
}

interface FilterRow {
  selectivity: number;
  matches: number;
  method: string;
  recall: number;
  qps: number;
  p50Ms: number;
  p95Ms: number;
}

function filtered(ds: Dataset, shard: VectorShard, hnsw: HnswlibEngine | null, queries: Float32Array[]): FilterRow[] {
  const rows: FilterRow[] = [];
  for (const sel of SELECTIVITIES) {
    const tag = `s${sel}`;
    const matching = ds.vectors.map((_, i) => i).filter((i) => ds.u[i]! < sel);
    const matchSet = new Set(matching);
    const truth = queries.map((q) => bruteForceTopK(ds.vectors, q, K, matching));
    const kPrime = Math.min(ds.vectors.length, Math.ceil((2 * K) / sel));
    const methods: [string, (q: Float32Array) => number[]][] = [
      ['shard auto', (q) => shard.search(q, K, { filter: { attributes: { [tag]: 'y' } } }).map((h) => Number(h.id))],
      ['shard filtered graph', (q) => shard.search(q, K, { filter: { attributes: { [tag]: 'y' } }, strategy: 'graph' }).map((h) => Number(h.id))],
      ['shard exact scan', (q) => shard.search(q, K, { filter: { attributes: { [tag]: 'y' } }, strategy: 'exact' }).map((h) => Number(h.id))],
      [
        `shard search-then-filter (k'=${kPrime})`,
        (q) =>
          shard
            .search(q, kPrime, { strategy: 'graph', ef: Math.max(64, kPrime) })
            .map((h) => Number(h.id))
            .filter((i) => matchSet.has(i))
            .slice(0, K),
      ],
    ];
    if (hnsw) {
      methods.push([
        `hnswlib search-then-filter (k'=${kPrime})`,
        (q) => {
          hnsw.setEf(Math.max(64, kPrime));
          return hnsw
            .search(q, kPrime)
            .filter((i) => matchSet.has(i))
            .slice(0, K);
        },
      ]);
      methods.push([
        'hnswlib filter callback (ef 64)',
        (q) => {
          hnsw.setEf(64);
          return hnsw.search(q, K, (label) => matchSet.has(label));
        },
      ]);
    }
    const lat = new Map<string, number[]>(methods.map(([name]) => [name, []]));
    const rec = new Map<string, number>(methods.map(([name]) => [name, 0]));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < queries.length; i++) {
        for (let j = 0; j < methods.length; j++) {
          const [name, fn] = methods[(i + j + round) % methods.length]!;
          const t0 = performance.now();
          const found = fn(queries[i]!);
          lat.get(name)!.push(performance.now() - t0);
          if (round === 0) rec.set(name, rec.get(name)! + recall(found, truth[i]!) / queries.length);
        }
      }
    }
    for (const [name] of methods) {
      const times = lat.get(name)!;
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      rows.push({ selectivity: sel, matches: matching.length, method: name, recall: r3(rec.get(name)!), qps: Math.round(1000 / mean), p50Ms: r3(percentile(times, 0.5)), p95Ms: r3(percentile(times, 0.95)) });
    }
    log(`  selectivity ${sel}: ${methods.map(([n]) => `${n} r=${rec.get(n)!.toFixed(3)}`).join(' | ')}`);
  }
  return rows;
}

interface UpdateResult {
  engine: string;
  replacesPerSec: number;
  deletesPerSec: number;
  slotsUsedAfter: number | null;
}

function updates(ds: Dataset, shard: VectorShard, hnsw: HnswlibEngine | null, ops: number): UpdateResult[] {
  const n = ds.vectors.length;
  const out: UpdateResult[] = [];
  let t0 = performance.now();
  for (let j = 0; j < ops; j++) shard.upsert(String(j % n), ds.vectors[(j * 7919 + 13) % n]!);
  const replaces = ops / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  for (let j = 0; j < ops; j++) shard.delete(String((j * 4099) % n));
  const deletes = ops / ((performance.now() - t0) / 1000);
  out.push({ engine: 'shard', replacesPerSec: Math.round(replaces), deletesPerSec: Math.round(deletes), slotsUsedAfter: shard.stats().slotsUsed });
  if (hnsw) {
    hnsw.prepare(ds.vectors);
    t0 = performance.now();
    // hnswlib has no replace-in-place by label for a new vector: mark the old label deleted and add under a new label, reusing the deleted slot.
    for (let j = 0; j < ops; j++) {
      hnsw.index.markDelete(j % n);
      hnsw.addLabel(ds.vectors[(j * 7919 + 13) % n]!, n + j);
    }
    const hReplaces = ops / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    for (let j = 0; j < ops; j++) {
      try {
        hnsw.index.markDelete(n + j);
      } catch {
        // already deleted
      }
    }
    const hDeletes = ops / ((performance.now() - t0) / 1000);
    out.push({ engine: 'hnswlib-node', replacesPerSec: Math.round(hReplaces), deletesPerSec: Math.round(hDeletes), slotsUsedAfter: null });
  }
  return out;
}

type Suite = Record<string, unknown>;

/** A tag per selectivity (`s0.1` = 'y' for ~10% of items, independent of the vector) and a brand. */
function tagsOf(ds: Dataset): (i: number) => ItemAttributes {
  return (i) => {
    const attributes: Record<string, string> = {};
    for (const sel of SELECTIVITIES) attributes[`s${sel}`] = ds.u[i]! < sel ? 'y' : 'n';
    return { attributes, brand: `b${i % 50}` };
  };
}

async function suite(ds: Dataset, withUpdates: boolean): Promise<Suite> {
  const results: Suite = {};
  const hnswMissing = HnswlibEngine.available();
  const usearchMissing = UsearchEngine.available();
  log(`dataset: ${ds.label} (${ds.vectors.length} x ${ds.dim}, ${ds.queries.length} queries)`);
  results.dataset = { label: ds.label, n: ds.vectors.length, dim: ds.dim, queries: ds.queries.length };
  const truth = ds.queries.map((q) => bruteForceTopK(ds.vectors, q, K));

  const p: HnswParams = { dim: ds.dim, capacity: ds.vectors.length + 20_000, M, efConstruction: EF_CONSTRUCTION, seed: 100 };
  const ours = new ShardEngine('shard (f32)', p);
  const oursInt8 = new ShardEngine('shard (int8 + rerank)', p, { quantization: 'int8' });
  const engines: Engine[] = [ours, oursInt8];
  let hnsw: HnswlibEngine | null = null;
  if (!hnswMissing) {
    hnsw = new HnswlibEngine(p);
    hnsw.prepare(ds.vectors);
    hnsw.prepare(ds.queries);
    engines.push(hnsw);
  }
  const usearch: UsearchEngine[] = usearchMissing ? [] : [new UsearchEngine(p, 64, 'f32'), new UsearchEngine(p, 64, 'i8')];
  results.build = buildAll([...engines, ...usearch], ds.vectors);

  // Distance kernel: the shard's exact scan (wasm SIMD) vs the same scan as a plain JS loop.
  results.kernel = (() => {
    const q = ds.queries[0]!;
    let t0 = performance.now();
    let reps = 0;
    while (performance.now() - t0 < 1500) {
      ours.shard.search(q, K, { strategy: 'exact' });
      reps++;
    }
    const wasmNs = ((performance.now() - t0) * 1e6) / (reps * ds.vectors.length);
    t0 = performance.now();
    let sreps = 0;
    let sink = 0;
    while (performance.now() - t0 < 1500) {
      for (const v of ds.vectors) {
        let s = 0;
        for (let d = 0; d < v.length; d++) s += v[d]! * q[d]!;
        sink += s;
      }
      sreps++;
    }
    if (Number.isNaN(sink)) log('unreachable');
    const jsNs = ((performance.now() - t0) * 1e6) / (sreps * ds.vectors.length);
    log(`  exact scan: wasm ${r1(wasmNs)} ns/vector (top-k included), JS scalar dot ${r1(jsNs)} ns/vector`);
    return { shardExactScanNsPerVector: r1(wasmNs), jsScalarDotNsPerVector: r1(jsNs), speedup: r1(jsNs / wasmNs) };
  })();

  log('unfiltered sweep');
  const sweepRows = sweep(engines, ds.queries, truth, EFS);
  for (const u of usearch) sweepRows.push(...sweep([u], ds.queries, truth, [64]));
  results.sweep = sweepRows;

  log('filtered');
  const taggedEngine = new ShardEngine('shard (with attributes)', p, {}, 'auto', tagsOf(ds));
  const t0 = performance.now();
  taggedEngine.add(ds.vectors, 0, ds.vectors.length);
  const tagged = taggedEngine.shard;
  results.buildWithAttributes = { insertsPerSec: Math.round(ds.vectors.length / ((performance.now() - t0) / 1000)) };
  results.filtered = filtered(ds, tagged, hnsw, ds.queries);

  log('snapshot');
  const dir = await mkdtemp(join(tmpdir(), 'vi-bench-'));
  try {
    const path = join(dir, 'shard.snap');
    let s0 = performance.now();
    const info = await tagged.snapshot(path, { offset: '0', partition: 0, modelId: 'bench', dim: ds.dim });
    const writeMs = performance.now() - s0;
    s0 = performance.now();
    const restored = await VectorShard.restore(path);
    const restoreMs = performance.now() - s0;
    const same = ds.queries.slice(0, 50).every((q) => JSON.stringify(restored.search(q, K)) === JSON.stringify(tagged.search(q, K)));
    const snap: Record<string, unknown> = {
      shard: { writeMs: Math.round(writeMs), restoreMs: Math.round(restoreMs), bytes: info.bytes, bytesPerVector: Math.round(info.bytes / ds.vectors.length), identicalAnswers: same, includes: 'vectors, graph, ids, attribute terms, meta; sha256; temp+fsync+rename' },
    };
    if (hnsw) {
      const hp = join(dir, 'hnsw.bin');
      s0 = performance.now();
      hnsw.index.writeIndexSync(hp);
      const hw = performance.now() - s0;
      s0 = performance.now();
      const h2 = new HnswlibEngine(p);
      h2.index.readIndexSync(hp, true);
      const hr = performance.now() - s0;
      snap.hnswlib = { writeMs: Math.round(hw), restoreMs: Math.round(hr), bytes: (await stat(hp)).size, includes: 'vectors + graph only (no ids, attributes, checksum or atomic rename)' };
    }
    results.snapshot = snap;
    log(`  ${JSON.stringify(snap)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  if (withUpdates) {
    log('updates');
    results.updates = updates(ds, ours.shard, hnsw, Math.min(5000, ds.vectors.length));
  }
  return results;
}

async function main(): Promise<void> {
  const started = Date.now();
  const results: Record<string, unknown> = {
    startedAt: new Date(started).toISOString(),
    node: process.version,
    params: { N, Q, K, M, efConstruction: EF_CONSTRUCTION, efs: EFS, rounds: ROUNDS, scaleN: SCALE_N },
    baselines: { hnswlib: HnswlibEngine.available() ?? 'loaded', usearch: UsearchEngine.available() ?? 'loaded' },
  };
  const suites: Suite[] = [];
  const real = process.argv.includes('--no-real') ? { missing: 'skipped (--no-real)' } : await realDataset(Q);
  if ('missing' in real) {
    log(`real embeddings unavailable: ${real.missing}`);
    results.realEmbeddings = real.missing;
  } else suites.push(await suite(real, false));
  suites.push(await suite(syntheticDataset(N, Q), true));
  results.suites = suites;

  if (SCALE_N > 0) {
    log(`scale: synthetic ${SCALE_N}`);
    const big = syntheticDataset(SCALE_N, Math.min(Q, 100), 77);
    const bt = big.queries.map((q) => bruteForceTopK(big.vectors, q, K));
    const bp: HnswParams = { dim: 384, capacity: SCALE_N, M, efConstruction: EF_CONSTRUCTION, seed: 100 };
    const bigShard = new ShardEngine('shard (f32)', bp, {}, 'graph', tagsOf(big));
    const bigEngines: Engine[] = [bigShard, new ShardEngine('shard (int8 + rerank)', bp, { quantization: 'int8' })];
    let bigHnsw: HnswlibEngine | null = null;
    if (HnswlibEngine.available() === null) {
      bigHnsw = new HnswlibEngine(bp);
      bigHnsw.prepare(big.vectors);
      bigHnsw.prepare(big.queries);
      bigEngines.push(bigHnsw);
    }
    const bigBuilds = buildAll(bigEngines, big.vectors);
    const bigSweep = sweep(bigEngines, big.queries, bt, [32, 64, 128]);
    log('scale filtered');
    results.scale = { label: `${big.label}, ${SCALE_N} vectors`, build: bigBuilds, sweep: bigSweep, filtered: filtered(big, bigShard.shard, bigHnsw, big.queries) };
  }
  results.seconds = Math.round((Date.now() - started) / 1000);
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/vector-index.json', `${JSON.stringify(results, null, 2)}\n`);
  await writeFile('bench/results/vector-index.md', markdown(results));
  log(`wrote bench/results/vector-index.{json,md} in ${results.seconds as number}s`);
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)\n';
  const cols = Object.keys(rows[0]!);
  return [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${cols.map((c) => String(r[c] ?? '')).join(' | ')} |`)].join('\n') + '\n';
}

function qpsAtRecall(rows: SweepRow[], engine: string, target: number): SweepRow | undefined {
  return rows.filter((r) => r.engine === engine && r.recall >= target).sort((a, b) => a.ef - b.ef)[0];
}

function ratioTable(sweepRows: SweepRow[]): Record<string, unknown>[] {
  return [...new Set(sweepRows.map((x) => x.ef))].map((ef) => {
    const ours = sweepRows.find((x) => x.ef === ef && x.engine === 'shard (f32)');
    const int8 = sweepRows.find((x) => x.ef === ef && x.engine === 'shard (int8 + rerank)');
    const h = sweepRows.find((x) => x.ef === ef && x.engine === 'hnswlib-node');
    return { ef, 'shard f32 / hnswlib QPS': ours && h ? r3(ours.qps / h.qps) : '', 'shard int8 / hnswlib QPS': int8 && h ? r3(int8.qps / h.qps) : '' };
  });
}

function atRecall(sweepRows: SweepRow[]): Record<string, unknown>[] {
  return ['shard (f32)', 'shard (int8 + rerank)', 'hnswlib-node'].map((e) => {
    const row = qpsAtRecall(sweepRows, e, 0.95);
    return { engine: e, 'smallest ef with recall ≥ 0.95': row?.ef ?? 'none', recall: row?.recall ?? '', qps: row?.qps ?? '' };
  });
}

/**
 * Bytes a vector costs in each engine's data layout at M=16, dim d (no slack): hnswlib's
 * level-0 element is vector + (2M+1) u32 links + 8-byte label; ours is the padded row +
 * (2M+1) u32 links + level and state bytes (+ d bytes of int8 codes when quantized). Upper
 * layers (~1/M of nodes) and id maps come on top in both.
 */
function layoutBytes(dim: number): Record<string, number> {
  const links = (2 * M + 1) * 4;
  const row = Math.ceil(dim / 16) * 16 * 4;
  return { hnswlib: dim * 4 + links + 8, shard: row + links + 2, 'shard int8': row + links + 2 + Math.ceil(dim / 16) * 16 };
}

function suiteMarkdown(s: Suite): string {
  const ds = s.dataset as { label: string; n: number; dim: number; queries: number };
  const sweepRows = s.sweep as SweepRow[];
  return `## ${ds.label}

${ds.n} vectors x ${ds.dim}, ${ds.queries} queries; ground truth by exact brute force.

### Build (inserts, interleaved chunks) and memory

${table(s.build as Record<string, unknown>[])}
RSS deltas are noisy (GC, allocator reuse across engines); \`estimateBytesPerVector\` is the shard's \`memoryBytes()\` / n and includes
capacity reserved up front (n + 20 000 slots here). Layout bytes per vector (exact, no slack): ${JSON.stringify(layoutBytes(ds.dim))}.
Shard with attributes (4 tags + brand per item): ${(s.buildWithAttributes as { insertsPerSec: number }).insertsPerSec} inserts/s.
Distance kernel: ${JSON.stringify(s.kernel)}.

### Unfiltered recall@10 and QPS

${table(sweepRows as unknown as Record<string, unknown>[])}
${table(ratioTable(sweepRows))}
${table(atRecall(sweepRows))}
### Filtered search (tags independent of the vectors)

${table(s.filtered as Record<string, unknown>[])}
${s.updates ? `### Updates (on the ${ds.n}-vector indexes above)\n\n${table(s.updates as Record<string, unknown>[])}` : ''}
### Snapshot

\`\`\`json
${JSON.stringify(s.snapshot, null, 2)}
\`\`\`
`;
}

function markdown(r: Record<string, unknown>): string {
  const scale = r.scale as { label: string; build: BuildResult[]; sweep: SweepRow[]; filtered: Record<string, unknown>[] } | undefined;
  return `# vector-index benchmark

Generated by \`npx tsx bench/vector-index/run.ts\` on ${r.startedAt as string} (Node ${r.node as string}), ${r.seconds as number} s.
Single-threaded; the machine has 2 cores shared with other work, so every query is answered by each engine in turn (rotating order, ${ROUNDS} passes) and QPS is queries / time inside that engine's calls;
builds run in interleaved chunks, and ratios measured in the same run are the numbers to read.
Every engine: M=${M}, efConstruction=${EF_CONSTRUCTION}, k=${K}. Baselines: ${JSON.stringify(r.baselines)}.
${r.realEmbeddings ? `\nReal embeddings: not used (${r.realEmbeddings as string}).\n` : ''}
${(r.suites as Suite[]).map(suiteMarkdown).join('\n')}
${
  scale
    ? `
## Scale: ${scale.label}

${table(scale.build as unknown as Record<string, unknown>[])}
${table(scale.sweep as unknown as Record<string, unknown>[])}
${table(ratioTable(scale.sweep))}
### Filtered at scale (attribute tags as above)

${table(scale.filtered)}`
    : ''
}`;
}

await main();
