/**
 * bench/graph: batch FastRP (TS, 2 threads and 1) against the Python/scipy reference and
 * pycleora on the same graph in the same run; incremental per-event cost and its ratio to a
 * full recompute; incremental-vs-full agreement after the stream; memory per node and edge.
 * Run through bench/graph/run.sh (it provides the Python interpreter in GRAPH_BENCH_PY).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Interaction } from '@affinity/contracts';
import { BehaviourGraph, IncrementalFastRP, compileFastRPOptions, fastRP, type FastRPResult } from '@affinity/graph';
import { distribution, rowCosines } from '../../packages/graph/test/support/compare';
import { loadDiginetica } from '../../packages/graph/test/support/diginetica';
import { environment, median, percentile, writeResults } from '../support/report';
import { syntheticStream, type SyntheticOptions } from './synthetic';

const SCALE = Number(process.env.BENCH_GRAPH_SCALE ?? 1);
const PY = process.env.GRAPH_BENCH_PY;
const DIM = 128;
const FASTRP = compileFastRPOptions({ dim: DIM });
const INCREMENTAL_EVENTS = 2000;
const START = performance.now();
const START_LOAD = loadavg()[0];

function log(msg: string): void {
  process.stderr.write(`[bench/graph ${((performance.now() - START) / 1000).toFixed(1)}s] ${msg}\n`);
}

function buildGraph(events: Iterable<Interaction>): { graph: BehaviourGraph; ingestMs: number; events: number } {
  const graph = new BehaviourGraph();
  let batch: Interaction[] = [];
  let n = 0;
  const t = performance.now();
  for (const e of events) {
    batch.push(e);
    n++;
    if (batch.length === 10_000) {
      graph.apply(batch);
      batch = [];
    }
  }
  graph.apply(batch);
  graph.compact();
  return { graph, ingestMs: performance.now() - t, events: n };
}

const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;

async function fullRun(graph: BehaviourGraph, threads: number): Promise<{ ms: number; cpuMs: number; res: FastRPResult }> {
  graph.compact();
  const csr = graph.adjacency;
  const c0 = process.cpuUsage();
  const t = performance.now();
  const res = await fastRP(
    { nodeCount: csr.nodeCount, rowPtr: csr.rowPtr, cols: csr.cols, vals: csr.vals, keys: (j) => graph.nodeKey(j) },
    { ...FASTRP, threads },
  );
  return { ms: performance.now() - t, cpuMs: cpuMs(process.cpuUsage(c0)), res };
}

interface PythonResult {
  nodes: number;
  entries: number;
  projection_s: number;
  fastrp_s: number;
  fastrp_cpu_s: number;
  fastrp_runs_s: number[];
  max_abs_diff_vs_ts?: number;
  cleora?: { build_s?: number; embed_s?: number; embed_cpu_s?: number; error?: string; package?: string; note?: string; entities?: number };
}

function runPython(graph: BehaviourGraph, ts: Float32Array, repeats: number, cleora: boolean): PythonResult | { error: string } {
  if (PY === undefined) return { error: 'GRAPH_BENCH_PY not set (run bench/graph/run.sh)' };
  const dir = mkdtempSync(join(tmpdir(), 'affinity-graph-bench-'));
  try {
    const csr = graph.adjacency;
    const n = csr.nodeCount;
    const nnz = csr.rowPtr[n]!;
    const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    writeFileSync(join(dir, 'rowptr.u32'), bytes(csr.rowPtr.subarray(0, n + 1)));
    writeFileSync(join(dir, 'cols.i32'), bytes(csr.cols.subarray(0, nnz)));
    writeFileSync(join(dir, 'vals.f32'), bytes(csr.vals.subarray(0, nnz)));
    writeFileSync(join(dir, 'keys.txt'), Array.from({ length: n }, (_, j) => graph.nodeKey(j)).join('\n'));
    writeFileSync(join(dir, 'ts.f32'), bytes(ts.subarray(0, n * DIM)));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        dim: DIM,
        iterationWeights: [...FASTRP.iterationWeights],
        normalizationStrength: FASTRP.normalizationStrength,
        sparsity: FASTRP.sparsity,
        seed: FASTRP.seed,
        repeats,
        cleora,
      }),
    );
    const r = spawnSync('nice', ['-n', '10', PY, join(import.meta.dirname, 'reference_bench.py'), dir], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (r.status !== 0) return { error: `python exited ${r.status}: ${r.stderr.slice(-2000)}` };
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as PythonResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function batchSection(label: string, graph: BehaviourGraph, repeats: number, cleora: boolean) {
  log(`${label}: ${graph.nodeCount} nodes, ${graph.stats().edges} edges; TS full runs`);
  const two: number[] = [];
  const twoCpu: number[] = [];
  let last: FastRPResult | undefined;
  await fullRun(graph, 2); // warm-up: JIT and worker start-up paths
  for (let r = 0; r < repeats; r++) {
    const { ms, cpuMs: cpu, res } = await fullRun(graph, 2);
    two.push(ms);
    twoCpu.push(cpu);
    last = res;
  }
  const one: number[] = [];
  const oneCpu: number[] = [];
  for (let r = 0; r < Math.max(1, Math.floor(repeats / 2)); r++) {
    const { ms, cpuMs: cpu } = await fullRun(graph, 1);
    one.push(ms);
    oneCpu.push(cpu);
  }
  log(`${label}: python reference${cleora ? ' + pycleora' : ''}`);
  const py = runPython(graph, last!.embeddings, repeats, cleora);
  const tsMs = median(two);
  const pyOk = 'fastrp_s' in py;
  return {
    graph: { nodes: graph.nodeCount, edges: graph.stats().edges, csrEntries: graph.adjacency.rowPtr[graph.nodeCount]! },
    ts: { threads2Ms: tsMs, threads2RunsMs: two, threads2CpuMs: median(twoCpu), threads1Ms: median(one), threads1CpuMs: median(oneCpu) },
    python: py,
    speedupVsPython: pyOk ? (py.fastrp_s * 1000) / tsMs : null,
    cpuRatioPythonToTs2: pyOk ? (py.fastrp_cpu_s * 1000) / median(twoCpu) : null,
    cpuRatioPythonToTs1: pyOk ? (py.fastrp_cpu_s * 1000) / median(oneCpu) : null,
    speedupVsPythonOneThread: pyOk ? (py.fastrp_s * 1000) / median(one) : null,
    cleoraMs: pyOk && py.cleora?.embed_s !== undefined ? py.cleora.embed_s * 1000 : null,
  };
}

async function incrementalSection(graph: BehaviourGraph, synth: SyntheticOptions, start: number) {
  log('incremental: full recompute then per-event updates');
  const emb = await IncrementalFastRP.create(graph, { dim: DIM });
  const fullTimes: number[] = [];
  const fullCpu: number[] = [];
  for (let r = 0; r < 2; r++) {
    const c0 = process.cpuUsage();
    fullTimes.push((await emb.fullRecompute()).durationMs);
    fullCpu.push(cpuMs(process.cpuUsage(c0)));
  }
  const total: number[] = [];
  const totalCpu: number[] = [];
  const updateOnly: number[] = [];
  const touched: number[] = [];
  let reported = 0;
  for (const e of syntheticStream(synth, INCREMENTAL_EVENTS, start)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const delta = graph.apply([e]);
    const t1 = performance.now();
    const r = emb.update(delta);
    const t2 = performance.now();
    totalCpu.push(cpuMs(process.cpuUsage(c0)));
    total.push(t2 - t0);
    updateOnly.push(t2 - t1);
    touched.push(r.touchedRows);
    reported += r.changed.length;
  }
  const fullMs = median(fullTimes);
  log('incremental: agreement with a fresh full recompute');
  const { res } = await fullRun(graph, 2);
  const agreement = distribution(rowCosines(emb.embeddings(), res.embeddings, graph.nodeCount, DIM));
  const mem = process.memoryUsage();
  const stats = graph.stats();
  return {
    events: INCREMENTAL_EVENTS,
    fullRecomputeMs: fullMs,
    perEventMs: {
      p50: percentile(total, 50),
      p99: percentile(total, 99),
      max: Math.max(...total),
      mean: total.reduce((a, b) => a + b, 0) / total.length,
    },
    updateOnlyMs: { p50: percentile(updateOnly, 50), p99: percentile(updateOnly, 99) },
    fullRecomputeCpuMs: median(fullCpu),
    perEventCpuMs: { p50: percentile(totalCpu, 50), p99: percentile(totalCpu, 99) },
    cpuRatioFullToP50: median(fullCpu) / percentile(totalCpu, 50),
    cpuRatioFullToP99: median(fullCpu) / percentile(totalCpu, 99),
    ratioFullToP50: fullMs / percentile(total, 50),
    ratioFullToP99: fullMs / percentile(total, 99),
    rowsTouched: { p50: percentile(touched, 50), p99: percentile(touched, 99) },
    vectorsReportedPerEvent: reported / INCREMENTAL_EVENTS,
    drift: emb.drift,
    needsFullRecompute: emb.needsFullRecompute,
    agreementWithFull: agreement,
    memory: {
      graphBytes: stats.memoryBytes,
      graphBytesPerNode: stats.memoryBytes / stats.nodes,
      graphBytesPerEdge: stats.memoryBytes / stats.edges,
      adjacencyBytesPerEdge: graph.adjacency.memoryBytes() / stats.edges,
      embeddingBytes: emb.memoryBytes(),
      embeddingBytesPerNode: emb.memoryBytes() / emb.nodeCount,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
    },
  };
}

const fmt = (x: number | null | undefined, d = 1): string => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));

async function main(): Promise<void> {
  const synth: SyntheticOptions = {
    users: Math.round(300_000 * SCALE),
    items: Math.round(60_000 * SCALE),
    seed: 7,
    itemSkew: 0.9,
    userSkew: 0.6,
    spanMs: 30 * 86_400_000,
  };
  const eventCount = Math.round(1_400_000 * SCALE);
  log(`synthetic: generating ${eventCount} events`);
  const syn = buildGraph(syntheticStream(synth, eventCount));
  const synthetic = await batchSection('synthetic', syn.graph, 3, true);
  const incremental = await incrementalSection(syn.graph, synth, eventCount);

  const real = buildGraph(loadDiginetica());
  const diginetica = await batchSection('diginetica', real.graph, 5, true);

  const py = (s: typeof synthetic): string =>
    'fastrp_s' in s.python ? `${fmt(s.python.fastrp_s * 1000)} (${fmt(s.python.fastrp_cpu_s * 1000)})` : `error: ${s.python.error}`;
  const cleora = (s: typeof synthetic): string => {
    const c = 'fastrp_s' in s.python ? s.python.cleora : undefined;
    return c?.embed_s !== undefined ? `${fmt(c.embed_s * 1000)} (+${fmt((c.build_s ?? 0) * 1000)} build)` : `n/a (${c?.error ?? 'not run'})`;
  };
  const diff = (s: typeof synthetic): string => ('fastrp_s' in s.python ? (s.python.max_abs_diff_vs_ts?.toExponential(2) ?? 'n/a') : 'n/a');
  const json = {
    environment: environment(),
    scale: SCALE,
    fastrp: { dim: DIM, iterationWeights: [...FASTRP.iterationWeights], beta: FASTRP.normalizationStrength, s: FASTRP.sparsity },
    synthetic: { generator: synth, events: syn.events, ingestMs: syn.ingestMs, ingestEventsPerSec: syn.events / (syn.ingestMs / 1000), ...synthetic },
    incremental,
    diginetica: { events: real.events, ...diginetica },
  };
  const inc = incremental;
  const md = `# bench/graph — FastRP batch and incremental

Command: \`bench/graph/run.sh\` (scale ${SCALE}). ${json.environment.cpus as number} CPUs (${String(json.environment.cpuModel)}), Node ${String(json.environment.node)}.
FastRP: d = ${DIM}, α = (${[...FASTRP.iterationWeights].join(', ')}), β = ${FASTRP.normalizationStrength}, s = ${FASTRP.sparsity}. Times are medians (ms, wall clock unless marked CPU) measured in this run.
The machine (2 cores) is shared with other jobs: load average at the start ${START_LOAD!.toFixed(1)}, at the end ${'${END_LOAD}'}. Wall-clock numbers are inflated by that contention; CPU-time ratios are less affected.

## Full FastRP, same graph, same run

| graph | nodes | edges (user–item pairs) | TS 2 threads (CPU) | TS 1 thread (CPU) | Python/scipy reference (CPU) | TS wall speed-up (2 thr / 1 thr) | Python CPU ÷ TS CPU (2 thr / 1 thr) | pycleora ${DIM}-d, ${FASTRP.iterationWeights.length} iters | max abs diff TS vs Python |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| synthetic power-law (seed ${synth.seed}, ${syn.events} events) | ${synthetic.graph.nodes} | ${synthetic.graph.edges} | ${fmt(synthetic.ts.threads2Ms)} (${fmt(synthetic.ts.threads2CpuMs)}) | ${fmt(synthetic.ts.threads1Ms)} (${fmt(synthetic.ts.threads1CpuMs)}) | ${py(synthetic)} | ${fmt(synthetic.speedupVsPython, 2)}× / ${fmt(synthetic.speedupVsPythonOneThread, 2)}× | ${fmt(synthetic.cpuRatioPythonToTs2, 2)}× / ${fmt(synthetic.cpuRatioPythonToTs1, 2)}× | ${cleora(synthetic)} | ${diff(synthetic)} |
| DIGINETICA (all ${real.events} events) | ${diginetica.graph.nodes} | ${diginetica.graph.edges} | ${fmt(diginetica.ts.threads2Ms)} (${fmt(diginetica.ts.threads2CpuMs)}) | ${fmt(diginetica.ts.threads1Ms)} (${fmt(diginetica.ts.threads1CpuMs)}) | ${py(diginetica)} | ${fmt(diginetica.speedupVsPython, 2)}× / ${fmt(diginetica.speedupVsPythonOneThread, 2)}× | ${fmt(diginetica.cpuRatioPythonToTs2, 2)}× / ${fmt(diginetica.cpuRatioPythonToTs1, 2)}× | ${cleora(diginetica)} | ${diff(diginetica)} |

A TS run with 2 threads uses CPU on both cores, so on an idle machine its wall time ≈ CPU ÷ 2; "Python CPU ÷ TS CPU" compares the work done, independent of how busy the shared machine was.
The Python reference excludes building R (${'fastrp_s' in synthetic.python ? fmt(synthetic.python.projection_s * 1000) : 'n/a'} ms on the synthetic graph); the TS times include it. scipy's sparse × dense product is single-threaded. Cleora is a different algorithm (unweighted Markov propagation), shown only as an outside reference point; the PyPI package \`cleora\` has no installable distribution here, \`pycleora==2.0.0\` (same library) is used.

Ingestion: ${syn.events} synthetic events into the graph in ${fmt(syn.ingestMs)} ms (${fmt(json.synthetic.ingestEventsPerSec, 0)} events/s, batches of 10,000, incl. co-occurrence and dedupe).

## Incremental updates on the synthetic graph (${inc.events} new events, one at a time)

| | value |
|---|---:|
| full recompute (IncrementalFastRP.fullRecompute, 2 threads) | ${fmt(inc.fullRecomputeMs)} ms |
| per event, graph.apply + update: p50 / p99 / max | ${fmt(inc.perEventMs.p50, 3)} / ${fmt(inc.perEventMs.p99, 3)} / ${fmt(inc.perEventMs.max, 3)} ms |
| update only: p50 / p99 | ${fmt(inc.updateOnlyMs.p50, 3)} / ${fmt(inc.updateOnlyMs.p99, 3)} ms |
| full ÷ per-event p50, wall clock (goal ≥ 1000×) | ${fmt(inc.ratioFullToP50, 0)}× |
| full ÷ per-event p99, wall clock | ${fmt(inc.ratioFullToP99, 0)}× |
| CPU time: full recompute (both threads) / per event p50 / p99 | ${fmt(inc.fullRecomputeCpuMs)} / ${fmt(inc.perEventCpuMs.p50, 3)} / ${fmt(inc.perEventCpuMs.p99, 3)} ms |
| full ÷ per-event p50 / p99, CPU time | ${fmt(inc.cpuRatioFullToP50, 0)}× / ${fmt(inc.cpuRatioFullToP99, 0)}× |
| iterate rows recomputed per event p50 / p99 | ${inc.rowsTouched.p50} / ${inc.rowsTouched.p99} |
| vectors reported (moved ≥ ε) per event | ${fmt(inc.vectorsReportedPerEvent, 2)} |
| drift estimate after the stream / needsFullRecompute | ${inc.drift.toExponential(2)} / ${inc.needsFullRecompute} |
| cosine incremental vs fresh full: mean / min / p1 / p5 / p50 | ${fmt(inc.agreementWithFull.mean, 5)} / ${fmt(inc.agreementWithFull.min, 4)} / ${fmt(inc.agreementWithFull.p1, 4)} / ${fmt(inc.agreementWithFull.p5, 5)} / ${fmt(inc.agreementWithFull.p50, 6)} |

## Memory (synthetic graph)

| | bytes |
|---|---:|
| graph (adjacency CSR + delta, co-purchase and co-session CSRs, per-node arrays) per node | ${fmt(inc.memory.graphBytesPerNode)} |
| graph per edge (user–item pair) | ${fmt(inc.memory.graphBytesPerEdge)} |
| adjacency alone per edge (both directions stored) | ${fmt(inc.memory.adjacencyBytesPerEdge)} |
| embedding state per node (${FASTRP.iterationWeights.length} iterates + E, float32, d = ${DIM}, incl. headroom) | ${fmt(inc.memory.embeddingBytesPerNode)} |
| process RSS at the end | ${fmt(inc.memory.rssBytes / 2 ** 20)} MiB |

Node-id strings and the id → index map live on the JS heap (not counted above; heap used at the end: ${fmt(inc.memory.heapUsedBytes / 2 ** 20)} MiB).
`;
  writeResults('graph', { ...json, loadAverage: { start: START_LOAD, end: loadavg()[0] } }, md.replace('${END_LOAD}', loadavg()[0]!.toFixed(1)));
  log('wrote bench/results/graph.json and graph.md');
}

await main();
