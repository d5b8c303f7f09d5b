import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { seededRandom, syntheticSet } from '../../packages/vector-index/test/support/synthetic';

export interface Dataset {
  label: string;
  dim: number;
  vectors: Float32Array[];
  queries: Float32Array[];
  /** Uniform [0,1) per vector, independent of it: tags of known selectivity. */
  u: Float64Array;
}

/**
 * Harder than the unit tests' set: hnswlib reaches recall@10 0.91 at ef 16 and 0.99 at ef 64
 * on it (M 16, efConstruction 200), so an ef sweep separates the engines.
 */
export const SYNTHETIC_SHAPE = { clusters: 100, latentDim: 128, spread: 1.5, noise: 0.1 } as const;

export function syntheticDataset(n: number, queries: number, seed = 1): Dataset {
  const set = syntheticSet({ n, dim: 384, seed, ...SYNTHETIC_SHAPE });
  return {
    label: `synthetic clustered 384-d (seeded mixture of ${SYNTHETIC_SHAPE.clusters} Gaussians in a ${SYNTHETIC_SHAPE.latentDim}-d latent space + noise, NOT real embeddings)`,
    dim: 384,
    vectors: set.vectors,
    queries: set.query(queries, seed + 1),
    u: set.u,
  };
}

/** RFC 4180-ish: quoted fields with doubled quotes, commas inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

function column(rows: string[][], name: string): string[] {
  const idx = rows[0]!.indexOf(name);
  return rows.slice(1).map((r) => r[idx] ?? '');
}

/** Product titles from the three catalogs in data/, deduplicated case-insensitively. */
export async function productTitles(): Promise<string[]> {
  const titles: string[] = [];
  const uci = parseCsv(await readFile('data/uci-online-retail/online_retail_random_sample_2709.csv', 'latin1'));
  titles.push(...column(uci, 'Description'));
  for (const line of (await readFile('data/oa-mine/train.jsonl', 'utf8')).split('\n')) {
    if (line.trim()) titles.push((JSON.parse(line) as { input: string }).input);
  }
  for (const f of ['tableA.csv', 'tableB.csv']) titles.push(...column(parseCsv(await readFile(join('data/amazon-google', f), 'utf8')), 'title'));
  const seen = new Set<string>();
  const out: string[] = [];
  for (const t of titles) {
    const norm = t.replace(/\s+/g, ' ').trim();
    const key = norm.toLowerCase();
    if (norm.length < 3 || seen.has(key)) continue;
    seen.add(key);
    out.push(norm);
  }
  return out;
}

interface EmbedderLike {
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/**
 * Real MiniLM embeddings of the catalog titles in data/ (via @affinity/embeddings), cached
 * as float32 under $AFFINITY_CACHE/bench/vector-index. Held-out titles are the queries.
 * Returns null with a reason when the model is not fetched or the package fails to load.
 */
export async function realDataset(queries: number): Promise<Dataset | { missing: string }> {
  const titles = await productTitles();
  const rand = seededRandom(4);
  for (let i = titles.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [titles[i], titles[j]] = [titles[j]!, titles[i]!];
  }
  let modelId: string;
  let create: () => Promise<EmbedderLike>;
  try {
    const mod = await import('@affinity/embeddings');
    modelId = mod.DEFAULT_MODEL_ID;
    create = () => mod.Embedder.create({}) as Promise<EmbedderLike>;
  } catch (err) {
    return { missing: `@affinity/embeddings did not load: ${err instanceof Error ? err.message : String(err)}` };
  }
  const cacheRoot = process.env.AFFINITY_CACHE ?? join(homedir(), '.cache', 'affinity');
  const key = createHash('sha256').update(modelId).update('\u0000').update(titles.join('\n')).digest('hex').slice(0, 16);
  const file = join(cacheRoot, 'bench', 'vector-index', `${modelId}-${titles.length}-${key}.f32`);
  let flat: Float32Array | null = null;
  try {
    const buf = await readFile(file);
    flat = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
  } catch {
    flat = null;
  }
  let dim: number;
  if (flat === null) {
    let embedder: EmbedderLike;
    try {
      embedder = await create();
    } catch (err) {
      return { missing: `no embedder (fetch the model with packages/embeddings/scripts/fetch-model.sh): ${err instanceof Error ? err.message : String(err)}` };
    }
    try {
      const t0 = performance.now();
      const vecs: Float32Array[] = [];
      for (let i = 0; i < titles.length; i += 256) vecs.push(...(await embedder.embed(titles.slice(i, i + 256))));
      console.error(`  embedded ${titles.length} titles in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      dim = vecs[0]!.length;
      flat = new Float32Array(vecs.length * dim);
      vecs.forEach((v, i) => flat!.set(v, i * dim));
    } finally {
      await embedder.close();
    }
    await mkdir(join(cacheRoot, 'bench', 'vector-index'), { recursive: true });
    await writeFile(`${file}.tmp`, Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength));
    await rename(`${file}.tmp`, file);
  }
  dim = flat.length / titles.length;
  const all = titles.map((_, i) => flat.subarray(i * dim, (i + 1) * dim));
  const q = Math.min(queries, Math.floor(all.length / 10));
  const u = new Float64Array(all.length - q);
  for (let i = 0; i < u.length; i++) u[i] = rand();
  return {
    label: `real: ${modelId} embeddings of ${all.length - q} product titles from data/ (uci-online-retail, oa-mine, amazon-google), ${q} held-out titles as queries`,
    dim,
    vectors: all.slice(q),
    queries: all.slice(0, q),
    u,
  };
}
