import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelNotFoundError } from './model-not-found-error';
import { affinityCacheDir, getModelSpec, modelDir, type ModelSpec } from './model-registry';
import { sha256File } from './internal/sha256-file';

/** Options for locating a fetched model on disk. */
export interface ResolveModelOptions {
  /**
   * Cache root that holds `models/<id>/`.
   * @defaultValue `$AFFINITY_CACHE`, else `$HOME/.cache/affinity`
   */
  cacheDir?: string;
  /**
   * Hash every file and compare with the registry's pinned sha256 (about 0.1 s for the int8
   * model). Turning it off only checks presence and size.
   * @defaultValue true
   */
  verifyChecksum?: boolean;
}

export interface ResolvedModel {
  spec: ModelSpec;
  dir: string;
  onnxPath: string;
  tokenizerPath: string;
}

/** Lists what is wrong with a model directory: empty when every file is present and pinned. */
export async function checkModelDir(spec: ModelSpec, dir: string, verifyChecksum = true): Promise<string[]> {
  const problems: string[] = [];
  for (const file of spec.files) {
    const path = join(dir, file.name);
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) {
      problems.push(`missing ${file.name}`);
      continue;
    }
    if (info.size !== file.size) {
      problems.push(`${file.name} has ${info.size} bytes, expected ${file.size}`);
      continue;
    }
    if (verifyChecksum) {
      const sha = await sha256File(path);
      if (sha !== file.sha256) problems.push(`${file.name} sha256 ${sha} != pinned ${file.sha256}`);
    }
  }
  return problems;
}

/**
 * Finds a fetched model's files. Never downloads and never falls back to another model:
 * a missing or altered file throws {@link ModelNotFoundError} naming the fetch command.
 */
export async function resolveModel(modelId: string, options: ResolveModelOptions = {}): Promise<ResolvedModel> {
  const spec = getModelSpec(modelId);
  const cacheDir = options.cacheDir ?? affinityCacheDir();
  const dir = modelDir(spec.id, cacheDir);
  const problems = await checkModelDir(spec, dir, options.verifyChecksum ?? true);
  if (problems.length > 0) throw new ModelNotFoundError(spec.id, dir, problems, cacheDir);
  return { spec, dir, onnxPath: join(dir, spec.onnx.file), tokenizerPath: join(dir, spec.tokenizer.file) };
}
