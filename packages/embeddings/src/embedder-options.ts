import { z } from 'zod';
import { ConfigError } from '@affinity/contracts';
import { DEFAULT_MODEL_ID } from './model-registry';

/** Options for {@link Embedder.create}. Parsed once by {@link compileEmbedderOptions}. */
export interface EmbedderOptions {
  /**
   * Registry id of the model (see `listModels()`); its files must have been fetched.
   * @defaultValue `"all-minilm-l6-v2-int8"` (the registry's `defaultModel`)
   */
  model?: string;
  /**
   * Cache root holding `models/<id>/`.
   * @defaultValue `$AFFINITY_CACHE`, else `$HOME/.cache/affinity`
   */
  cacheDir?: string;
  /**
   * Check every model file against its pinned sha256 when the embedder starts.
   * @defaultValue true
   */
  verifyChecksum?: boolean;
  /**
   * Most texts in one onnxruntime run.
   * @defaultValue 32
   */
  maxBatchSize?: number;
  /**
   * Most padded tokens (texts × longest length) in one run; bounds the attention memory of
   * long texts. A single text always fits.
   * @defaultValue 4096
   */
  maxBatchTokens?: number;
  /**
   * Longest time, in milliseconds, that `submit()` holds a text back to fill a batch while the
   * session is idle. While a batch runs, waiting texts go out as soon as it ends.
   * @defaultValue 2
   */
  maxWaitMs?: number;
  /**
   * Texts that `submit()` may hold (queued, not yet running) before it rejects with a
   * retriable error.
   * @defaultValue 10000
   */
  maxQueue?: number;
  /**
   * Token limit, [CLS] and [SEP] included; at most the model's own limit.
   * @defaultValue the model's `maxSequenceLength` (256 for all-MiniLM-L6-v2)
   */
  maxSequenceLength?: number;
  /**
   * onnxruntime threads inside one operator; 0 lets onnxruntime choose (one per physical core).
   * @defaultValue 0
   */
  intraOpNumThreads?: number;
  /**
   * onnxruntime threads across operators (used by the `parallel` execution mode); 0 lets onnxruntime choose.
   * @defaultValue 0
   */
  interOpNumThreads?: number;
  /**
   * onnxruntime graph optimization level.
   * @defaultValue `"all"`
   */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * onnxruntime execution mode.
   * @defaultValue `"sequential"`
   */
  executionMode?: 'sequential' | 'parallel';
  /**
   * Called after every onnxruntime run with its size and wall time (tensor building, the run
   * and pooling; tokenizing happens before), e.g. to feed a latency histogram.
   * @defaultValue none
   */
  onBatch?: (batch: BatchInfo) => void;
}

/** What one onnxruntime run did. */
export interface BatchInfo {
  texts: number;
  /** Real tokens, [CLS] and [SEP] included. */
  tokens: number;
  /** texts × the longest text's length. */
  paddedTokens: number;
  /** Wall time in milliseconds. */
  ms: number;
}

const Schema = z
  .object({
    model: z.string().min(1).default(DEFAULT_MODEL_ID),
    cacheDir: z.string().min(1).optional(),
    verifyChecksum: z.boolean().default(true),
    maxBatchSize: z.number().int().min(1).max(4096).default(32),
    maxBatchTokens: z.number().int().min(1).default(4096),
    maxWaitMs: z.number().min(0).max(60_000).default(2),
    maxQueue: z.number().int().min(1).default(10_000),
    maxSequenceLength: z.number().int().min(2).optional(),
    intraOpNumThreads: z.number().int().min(0).default(0),
    interOpNumThreads: z.number().int().min(0).default(0),
    graphOptimizationLevel: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
    executionMode: z.enum(['sequential', 'parallel']).default('sequential'),
    onBatch: z.custom<(batch: BatchInfo) => void>((v) => typeof v === 'function', 'a function').optional(),
  })
  .strict();

export type CompiledEmbedderOptions = z.infer<typeof Schema>;

/** Validates and defaults raw options; a bad value is a ConfigError that names the option. */
export function compileEmbedderOptions(options: EmbedderOptions = {}): CompiledEmbedderOptions {
  const parsed = Schema.safeParse(options);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid EmbedderOptions: ${detail}`, { context: { issues: parsed.error.issues } });
  }
  return parsed.data;
}
