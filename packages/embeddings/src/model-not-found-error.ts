import { ConfigError } from '@affinity/contracts';
import { affinityCacheDir } from './model-registry';

/** Repository-relative path of the one entry point that downloads and verifies models. */
export const FETCH_MODEL_SCRIPT = 'packages/embeddings/scripts/fetch-model.sh';

/** The exact shell command that puts `modelId` into `cacheDir`. */
export function fetchModelCommand(modelId: string, cacheDir: string = affinityCacheDir()): string {
  const prefix = cacheDir === affinityCacheDir({}) ? '' : `AFFINITY_CACHE=${cacheDir} `;
  return `${prefix}${FETCH_MODEL_SCRIPT} ${modelId}`;
}

/**
 * The model's files are absent, incomplete or fail their pinned checksum. Never retriable:
 * only running the fetch script fixes it, and the message says exactly which command.
 */
export class ModelNotFoundError extends ConfigError {
  readonly modelId: string;
  readonly dir: string;
  readonly problems: readonly string[];
  readonly fetchCommand: string;

  constructor(modelId: string, dir: string, problems: readonly string[], cacheDir?: string) {
    const fetchCommand = fetchModelCommand(modelId, cacheDir);
    super(`Embedding model "${modelId}" is not usable in ${dir} (${problems.join('; ')}). Fetch it with: ${fetchCommand}`, {
      context: { modelId, dir, problems, fetchCommand },
    });
    this.modelId = modelId;
    this.dir = dir;
    this.problems = problems;
    this.fetchCommand = fetchCommand;
  }
}
