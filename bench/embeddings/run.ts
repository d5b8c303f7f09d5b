// Products per second of @affinity/embeddings (tokenizing included) against the reference
// pipeline (Python onnxruntime + HF tokenizers + numpy pooling) on the same model files, with the
// same threads and batch size, interleaved round by round in one run so both see the same machine.
// Entry: bench/embeddings/run.sh (sets up Python). Knobs: BENCH_TEXTS, BENCH_ROUNDS, BENCH_BATCH,
// BENCH_THREADS, BENCH_MODELS (comma-separated ids).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { mulberry32 } from '@affinity/contracts';
import { cosineSimilarity, Embedder, getModelSpec, type BatchInfo } from '@affinity/embeddings';
import { environment, percentile, writeResults } from '../support/report';

const ROOT = resolve(import.meta.dirname, '../..');
const N = Number(process.env.BENCH_TEXTS ?? 192);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 32);
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const MODELS = (process.env.BENCH_MODELS ?? 'all-minilm-l6-v2-int8,all-minilm-l6-v2-fp32').split(',');
const PY = process.env.PY ?? 'python3';

/** Deterministic corpus: real product titles (OA-Mine) and descriptions (UCI, latin-1), seeded shuffle. */
function corpus(): string[] {
  const oa = readFileSync(join(ROOT, 'data/oa-mine/train.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { input: string }).input);
  const uci = readFileSync(join(ROOT, 'data/uci-online-retail/online_retail_random_sample_2709.csv'), 'latin1')
    .split('\n')
    .slice(1)
    .map((line) => line.match(/^"[^"]*","[^"]*","[^"]*","((?:[^"]|"")*)"/)?.[1]?.replaceAll('""', '"'))
    .filter((d): d is string => d !== undefined && d !== '');
  const all = [...new Set([...oa, ...uci])];
  const rand = mulberry32(0x5eed1234);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, N);
}

class PythonWorker {
  private readonly proc = spawn(PY, [join(import.meta.dirname, 'py_worker.py')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    // Same threads as the TS side: tokenizers would otherwise batch-encode on every core.
    env: { ...process.env, TOKENIZERS_PARALLELISM: THREADS > 1 ? 'true' : 'false', RAYON_NUM_THREADS: String(THREADS), OMP_NUM_THREADS: String(THREADS) },
  });
  private readonly lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();

  async call<T>(msg: Record<string, unknown>): Promise<T> {
    this.proc.stdin.write(`${JSON.stringify(msg)}\n`);
    const next = await this.lines.next();
    if (next.done === true) throw new Error('python worker exited');
    return JSON.parse(next.value) as T;
  }

  async close(): Promise<void> {
    this.proc.stdin.end(`${JSON.stringify({ cmd: 'exit' })}\n`);
    await new Promise((r) => this.proc.once('exit', r));
  }
}

interface Pass {
  seconds: number;
  latenciesMs: number[];
}

const texts = corpus();
const tmp = mkdtempSync(join(tmpdir(), 'bench-embeddings-'));
const textsPath = join(tmp, 'texts.json');
writeFileSync(textsPath, JSON.stringify(texts));

const results: Record<string, unknown>[] = [];
const vectorsByModel = new Map<string, Float32Array[]>();
let pyVersions: Record<string, string> = {};
try {
  for (const model of MODELS) {
    getModelSpec(model);
    const batchMs: number[] = [];
    const padding = { tokens: 0, padded: 0 };
    const embedder = await Embedder.create({
      model,
      intraOpNumThreads: THREADS,
      interOpNumThreads: 1,
      maxBatchSize: BATCH,
      onBatch: (b: BatchInfo) => {
        batchMs.push(b.ms);
        padding.tokens += b.tokens;
        padding.padded += b.paddedTokens;
      },
    });
    const py = new PythonWorker();
    pyVersions = await py.call({ cmd: 'load', model, intra: THREADS, inter: 1, texts: textsPath });
    await embedder.embed(texts.slice(0, 32));

    const ts = { chunks: [] as Pass[], corpus: [] as Pass[], submit: [] as Pass[] };
    const python = { chunks: [] as Pass[], corpus: [] as Pass[] };
    let parity: { mean: number; min: number } | undefined;
    const paddingEfficiency = { chunks: 0, corpus: 0, submit: 0 };
    const corpusRatios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Batches in corpus order, TS and Python alternating batch by batch (who goes first
      // alternates too), so a change in machine load hits both sides alike.
      const pyOut = round === 0 ? join(tmp, `${model}.f32`) : null;
      const tsChunk: number[] = [];
      const pyChunk: number[] = [];
      const ours: Float32Array[] = [];
      padding.tokens = padding.padded = 0;
      for (let i = 0, k = 0; i < texts.length; i += BATCH, k++) {
        const runTs = async () => {
          const c0 = performance.now();
          const v = await embedder.embed(texts.slice(i, i + BATCH));
          tsChunk.push(performance.now() - c0);
          if (round === 0) ours.push(...v);
        };
        const runPy = async () => {
          pyChunk.push((await py.call<{ ms: number }>({ cmd: 'chunk', start: i, end: i + BATCH, out: pyOut })).ms);
        };
        if ((k + round) % 2 === 0) {
          await runTs();
          await runPy();
        } else {
          await runPy();
          await runTs();
        }
      }
      paddingEfficiency.chunks = padding.tokens / padding.padded;
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      ts.chunks.push({ seconds: sum(tsChunk) / 1000, latenciesMs: tsChunk });
      python.chunks.push({ seconds: sum(pyChunk) / 1000, latenciesMs: pyChunk });
      if (pyOut !== null) {
        vectorsByModel.set(model, ours);
        const bytes = readFileSync(pyOut);
        const ref = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
        const dim = embedder.dim;
        const cos = ours.map((v, i) => cosineSimilarity(v, ref.subarray(i * dim, (i + 1) * dim)));
        parity = { mean: cos.reduce((a, b) => a + b, 0) / cos.length, min: Math.min(...cos) };
      }

      // Whole corpus at once: each side tokenizes everything, sorts by length, batches neighbours.
      const runTsCorpus = async () => {
        padding.tokens = padding.padded = 0;
        batchMs.length = 0;
        const t0 = performance.now();
        await embedder.embed(texts);
        ts.corpus.push({ seconds: (performance.now() - t0) / 1000, latenciesMs: [...batchMs] });
        paddingEfficiency.corpus = padding.tokens / padding.padded;
      };
      const runPyCorpus = async () => {
        python.corpus.push(await py.call<Pass>({ cmd: 'corpus', batch: BATCH, out: null }));
      };
      if (round % 2 === 0) {
        await runTsCorpus();
        await runPyCorpus();
      } else {
        await runPyCorpus();
        await runTsCorpus();
      }
      corpusRatios.push((python.corpus.at(-1)?.seconds ?? NaN) / (ts.corpus.at(-1)?.seconds ?? NaN));

      // Micro-batching front: every text submitted on its own, all at once.
      padding.tokens = padding.padded = 0;
      const s0 = performance.now();
      const lat: number[] = [];
      await Promise.all(
        texts.map(async (t) => {
          const q0 = performance.now();
          await embedder.submit(t);
          lat.push(performance.now() - q0);
        }),
      );
      ts.submit.push({ seconds: (performance.now() - s0) / 1000, latenciesMs: lat });
      paddingEfficiency.submit = padding.tokens / padding.padded;
    }
    await embedder.close();
    await py.close();
    // Summed over the rounds: stalls from other load on the machine land in both sides' totals alike.
    const total = (passes: Pass[]) => passes.reduce((a, p) => a + p.seconds, 0);
    const rate = (passes: Pass[]) => (texts.length * passes.length) / total(passes);
    const lat = (passes: Pass[]) => {
      const all = passes.flatMap((p) => p.latenciesMs);
      return { p50: percentile(all, 50), p99: percentile(all, 99) };
    };
    results.push({
      model,
      precision: getModelSpec(model).precision,
      parity,
      paddingEfficiency,
      chunks: { tsPerSecond: rate(ts.chunks), pyPerSecond: rate(python.chunks), ratio: total(python.chunks) / total(ts.chunks), tsBatchMs: lat(ts.chunks), pyBatchMs: lat(python.chunks) },
      corpus: { tsPerSecond: rate(ts.corpus), pyPerSecond: rate(python.corpus), ratio: total(python.corpus) / total(ts.corpus), roundRatios: corpusRatios, tsBatchMs: lat(ts.corpus), pyBatchMs: lat(python.corpus) },
      submit: { tsPerSecond: rate(ts.submit), perTextMs: lat(ts.submit) },
      rawSeconds: { ts, python: python },
    });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const int8 = vectorsByModel.get('all-minilm-l6-v2-int8');
const fp32 = vectorsByModel.get('all-minilm-l6-v2-fp32');
let int8VsFp32: { mean: number; min: number } | undefined;
if (int8 !== undefined && fp32 !== undefined) {
  const cos = int8.map((v, i) => cosineSimilarity(v, fp32[i] ?? new Float32Array(v.length)));
  int8VsFp32 = { mean: cos.reduce((a, b) => a + b, 0) / cos.length, min: Math.min(...cos) };
}

const config = { texts: N, rounds: ROUNDS, batchSize: BATCH, intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all', python: pyVersions };
const env = environment();
const loadAverage = loadavg();
const json = { environment: { ...env, loadAverage }, config, results, int8VsFp32 };
const f = (x: number, d = 1) => x.toFixed(d);
type R = {
  model: string;
  parity?: { mean: number; min: number };
  paddingEfficiency: { chunks: number; corpus: number; submit: number };
  chunks: { tsPerSecond: number; pyPerSecond: number; ratio: number; tsBatchMs: { p50: number; p99: number }; pyBatchMs: { p50: number; p99: number } };
  corpus: { tsPerSecond: number; pyPerSecond: number; ratio: number; tsBatchMs: { p50: number; p99: number }; pyBatchMs: { p50: number; p99: number } };
  submit: { tsPerSecond: number; perTextMs: { p50: number; p99: number } };
};
const rows = (results as unknown as R[]).flatMap((r) => [
  `| ${r.model} | batches of ${BATCH} in corpus order | ${f(r.chunks.tsPerSecond)} | ${f(r.chunks.pyPerSecond)} | **${f(r.chunks.ratio, 3)}** | ${f(r.chunks.tsBatchMs.p50)} / ${f(r.chunks.tsBatchMs.p99)} | ${f(r.chunks.pyBatchMs.p50)} / ${f(r.chunks.pyBatchMs.p99)} |`,
  `| ${r.model} | whole corpus, length-sorted batches | ${f(r.corpus.tsPerSecond)} | ${f(r.corpus.pyPerSecond)} | **${f(r.corpus.ratio, 3)}** | ${f(r.corpus.tsBatchMs.p50)} / ${f(r.corpus.tsBatchMs.p99)} | ${f(r.corpus.pyBatchMs.p50)} / ${f(r.corpus.pyBatchMs.p99)} |`,
  `| ${r.model} | submit() one text at a time (micro-batched) | ${f(r.submit.tsPerSecond)} | – | – | per text ${f(r.submit.perTextMs.p50)} / ${f(r.submit.perTextMs.p99)} | – |`,
]);
const md = `# Embeddings: @affinity/embeddings vs Python onnxruntime + tokenizers

Same model files, ${THREADS} intra-op thread(s), 1 inter-op thread, batch size ${BATCH}, graph optimization "all",
${N} real product titles (OA-Mine + UCI Online Retail, seeded), ${ROUNDS} rounds; rates are texts over summed time.
"corpus order": TS and Python alternate batch by batch. "length-sorted": whole-corpus passes, alternating who goes first.
Products/s include tokenizing on both sides. Python: onnxruntime ${pyVersions.onnxruntime}, tokenizers ${pyVersions.tokenizers}
(TOKENIZERS_PARALLELISM=${THREADS > 1 ? 'true' : 'false'}); Node ${process.version}, onnxruntime-node 1.30.0.
Machine: ${String(env.cpus)} cores, load average at the end ${loadAverage.map((x) => x.toFixed(1)).join(' ')} (shared).

| model | mode | TS products/s | Python products/s | TS / Python | TS batch ms p50 / p99 | Python batch ms p50 / p99 |
|---|---|---:|---:|---:|---:|---:|
${rows.join('\n')}

Parity in this run (TS vs Python vectors, cosine): ${(results as unknown as R[]).map((r) => `${r.model} mean ${r.parity?.mean.toFixed(7)}, min ${r.parity?.min.toFixed(7)}`).join('; ')}.
Padding efficiency of the TS runs (real / padded tokens): ${(results as unknown as R[])
  .map((r) => `${r.model}: corpus order ${f(r.paddingEfficiency.chunks, 3)}, length-sorted ${f(r.paddingEfficiency.corpus, 3)}, submit() ${f(r.paddingEfficiency.submit, 3)}`)
  .join('; ')}.
${int8VsFp32 === undefined ? '' : `int8 weights vs fp32, same texts (cosine): mean ${int8VsFp32.mean.toFixed(5)}, min ${int8VsFp32.min.toFixed(5)}.`}

Command: \`bench/embeddings/run.sh\` (env: BENCH_TEXTS=${N} BENCH_ROUNDS=${ROUNDS} BENCH_BATCH=${BATCH} BENCH_THREADS=${THREADS}).
`;
writeResults('embeddings', json, md);
process.stdout.write(md);
