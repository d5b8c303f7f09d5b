import * as ort from 'onnxruntime-node';
import { ConfigError, RetriableError } from '@affinity/contracts';
import { compileEmbedderOptions, type CompiledEmbedderOptions, type EmbedderOptions } from './embedder-options';
import { resolveModel } from './model-files';
import type { ModelSpec } from './model-registry';
import { WordPieceTokenizer } from './wordpiece-tokenizer';
import { MicroBatcher } from './internal/micro-batcher';
import { meanPool } from './internal/pooling';
import { planBatches } from './internal/plan-batches';

/** Running totals, for metrics and benchmarks. */
export interface EmbedderStats {
  /** onnxruntime runs. */
  batches: number;
  texts: number;
  /** Real tokens, specials included. */
  tokens: number;
  /** Tokens fed to the model including padding; `tokens / paddedTokens` is the padding efficiency. */
  paddedTokens: number;
}

export type EmbedderState = 'open' | 'closing' | 'closed';

/**
 * Text → unit-length sentence vectors with a real ONNX model, the registry's tokenizer, mean
 * pooling and L2 normalization, all in `Float32Array`s.
 *
 * - `embed(texts)` tokenizes everything, sorts by token count and cuts the order into batches
 *   (≤ maxBatchSize texts, ≤ maxBatchTokens padded tokens), so texts of similar length share a
 *   batch and padding stays small. The returned vectors are views into one matrix buffer.
 * - `submit(text)` is the micro-batching front for callers that have one text at a time.
 * - One onnxruntime run at a time: runs queue rather than compete for the same cores.
 */
export class Embedder {
  readonly spec: ModelSpec;
  readonly dim: number;
  readonly tokenizer: WordPieceTokenizer;
  private readonly options: CompiledEmbedderOptions;
  private readonly session: ort.InferenceSession;
  private readonly feedsTokenTypes: boolean;
  private readonly batcher: MicroBatcher<Int32Array, Float32Array>;
  private runChain: Promise<unknown> = Promise.resolve();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;
  private currentState: EmbedderState = 'open';
  private readonly totals: EmbedderStats = { batches: 0, texts: 0, tokens: 0, paddedTokens: 0 };

  private constructor(spec: ModelSpec, tokenizer: WordPieceTokenizer, session: ort.InferenceSession, options: CompiledEmbedderOptions) {
    this.spec = spec;
    this.dim = spec.dim;
    this.tokenizer = tokenizer;
    this.session = session;
    this.options = options;
    for (const name of spec.onnx.inputs) {
      if (!session.inputNames.includes(name)) throw new ConfigError(`${spec.id}: the ONNX graph has no input ${name} (has ${session.inputNames.join(', ')})`);
    }
    if (!session.outputNames.includes(spec.onnx.output)) throw new ConfigError(`${spec.id}: the ONNX graph has no output ${spec.onnx.output}`);
    this.feedsTokenTypes = session.inputNames.includes('token_type_ids');
    this.batcher = new MicroBatcher((items) => this.embedEncoded(items), options);
  }

  /** Loads a fetched model; throws ModelNotFoundError (with the fetch command) if it is missing. */
  static async create(options: EmbedderOptions = {}): Promise<Embedder> {
    const compiled = compileEmbedderOptions(options);
    const model = await resolveModel(compiled.model, { cacheDir: compiled.cacheDir, verifyChecksum: compiled.verifyChecksum });
    const maxLength = compiled.maxSequenceLength ?? model.spec.maxSequenceLength;
    if (maxLength > model.spec.maxSequenceLength) {
      throw new ConfigError(`maxSequenceLength ${maxLength} exceeds ${model.spec.id}'s limit of ${model.spec.maxSequenceLength}`);
    }
    const tokenizer = await WordPieceTokenizer.fromFile(model.tokenizerPath, { maxLength });
    const session = await ort.InferenceSession.create(model.onnxPath, {
      executionProviders: ['cpu'],
      intraOpNumThreads: compiled.intraOpNumThreads,
      interOpNumThreads: compiled.interOpNumThreads,
      graphOptimizationLevel: compiled.graphOptimizationLevel,
      executionMode: compiled.executionMode,
    });
    try {
      return new Embedder(model.spec, tokenizer, session, compiled);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  get modelId(): string {
    return this.spec.id;
  }

  get state(): EmbedderState {
    return this.currentState;
  }

  stats(): EmbedderStats {
    return { ...this.totals };
  }

  /** One vector per text, in input order; each is a `dim`-long view into one shared buffer. */
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    this.assertOpen();
    return this.embedEncoded(texts.map((t) => this.tokenizer.encode(t)));
  }

  /** Like {@link embed} but as one row-major `texts.length × dim` matrix. */
  async embedMatrix(texts: readonly string[]): Promise<Float32Array> {
    this.assertOpen();
    return this.embedToMatrix(texts.map((t) => this.tokenizer.encode(t)));
  }

  /**
   * Contextual word vectors: each text is given as its words, and each word gets the mean of the
   * model's last hidden state over its word pieces, in the context of the whole text. One row-major
   * `words.length × dim` matrix per text (not normalized); words cut off by `maxSequenceLength`
   * get zero rows. For token features such as attribute tagging.
   */
  async embedWordsInContext(texts: readonly (readonly string[])[]): Promise<Float32Array[]> {
    this.assertOpen();
    const encoded = texts.map((words) => this.tokenizer.encodeWords(words));
    const out = encoded.map((e) => new Float32Array((e.starts.length - 1) * this.dim));
    await this.runAll(
      encoded.map((e) => e.ids),
      (rows, hidden, padded) => rows.forEach((row, r) => wordMeans(hidden, r * padded, (encoded[row] as { starts: Int32Array }).starts, this.dim, out[row] as Float32Array)),
    );
    return out;
  }

  /** Micro-batched single text: joins other submissions into one run (see {@link EmbedderOptions.maxWaitMs}). */
  submit(text: string): Promise<Float32Array> {
    try {
      this.assertOpen();
      return this.batcher.submit(this.tokenizer.encode(text));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Stops accepting texts, finishes what was submitted, then releases the session. Idempotent:
   * every caller gets the same promise.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.currentState = 'closing';
      try {
        await this.batcher.drain();
        // embed() calls already started run their remaining batches before the session goes.
        await Promise.allSettled([...this.inFlight]);
        await this.runChain.catch(() => undefined);
      } finally {
        await this.session.release();
        this.currentState = 'closed';
      }
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.currentState !== 'open') throw new RetriableError(`Embedder for ${this.spec.id} is ${this.currentState}`, { context: { state: this.currentState } });
  }

  private async embedEncoded(encodings: readonly Int32Array[]): Promise<Float32Array[]> {
    const dim = this.dim;
    const out = await this.embedToMatrix(encodings);
    return Array.from({ length: encodings.length }, (_, i) => out.subarray(i * dim, (i + 1) * dim));
  }

  private async embedToMatrix(encodings: readonly Int32Array[]): Promise<Float32Array> {
    const out = new Float32Array(encodings.length * this.dim);
    await this.runAll(encodings, (rows, hidden, padded, lengths) => meanPool(hidden, lengths, padded, this.dim, this.spec.normalize === 'l2', out, rows));
    return out;
  }

  /**
   * Runs every encoding through the model in length-planned batches, one onnxruntime run at a
   * time, handing each batch's last hidden state to `consume`; {@link close} waits for it.
   */
  private runAll(encodings: readonly Int32Array[], consume: (rows: Int32Array, hidden: Float32Array, padded: number, lengths: Int32Array) => void): Promise<void> {
    const work = (async () => {
      for (const rows of planBatches(encodings, this.options.maxBatchSize, this.options.maxBatchTokens)) {
        await this.serialized(() => this.runBatch(encodings, rows, (hidden, padded, lengths) => consume(rows, hidden, padded, lengths)));
      }
    })();
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Queues `fn` behind every run already requested, so only one onnxruntime run is live. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.runChain.then(fn, fn);
    this.runChain = next.catch(() => undefined);
    return next;
  }

  /** Runs the rows `rows` of `encodings` as one padded batch and hands the last hidden state (`b × padded × dim`) to `consume`. */
  private async runBatch(
    encodings: readonly Int32Array[],
    rows: Int32Array,
    consume: (hidden: Float32Array, padded: number, lengths: Int32Array) => void,
  ): Promise<void> {
    const started = performance.now();
    const b = rows.length;
    const lengths = new Int32Array(b);
    let padded = 0;
    for (let r = 0; r < b; r++) {
      const n = encodings[rows[r] ?? 0]?.length ?? 0;
      lengths[r] = n;
      padded = Math.max(padded, n);
    }
    const ids = new BigInt64Array(b * padded).fill(BigInt(this.tokenizer.padId));
    const mask = new BigInt64Array(b * padded);
    let tokens = 0;
    for (let r = 0; r < b; r++) {
      const enc = encodings[rows[r] ?? 0] ?? new Int32Array(0);
      const base = r * padded;
      for (let t = 0; t < enc.length; t++) {
        ids[base + t] = BigInt(enc[t] ?? 0);
        mask[base + t] = 1n;
      }
      tokens += enc.length;
    }
    const dims = [b, padded];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, dims),
      attention_mask: new ort.Tensor('int64', mask, dims),
    };
    if (this.feedsTokenTypes) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(b * padded), dims);
    const result = await this.session.run(feeds, [this.spec.onnx.output]);
    const hidden = result[this.spec.onnx.output];
    try {
      if (hidden === undefined || !(hidden.data instanceof Float32Array) || hidden.data.length !== b * padded * this.dim) {
        throw new ConfigError(`${this.spec.id}: unexpected output ${this.spec.onnx.output} with dims ${JSON.stringify(hidden?.dims)}`);
      }
      consume(hidden.data, padded, lengths);
    } finally {
      for (const t of Object.values(result)) t.dispose();
    }
    this.totals.batches += 1;
    this.totals.texts += b;
    this.totals.tokens += tokens;
    this.totals.paddedTokens += b * padded;
    this.options.onBatch?.({ texts: b, tokens, paddedTokens: b * padded, ms: performance.now() - started });
  }
}

/** Row w of `out` = mean of the hidden vectors of pieces `starts[w]..starts[w + 1])` of the row at `base`. */
function wordMeans(hidden: Float32Array, base: number, starts: Int32Array, dim: number, out: Float32Array): void {
  for (let w = 0; w + 1 < starts.length; w++) {
    const a = starts[w] as number;
    const b = starts[w + 1] as number;
    if (b <= a) continue;
    const o = w * dim;
    for (let t = a; t < b; t++) {
      const h = (base + t) * dim;
      for (let j = 0; j < dim; j++) out[o + j] = (out[o + j] as number) + (hidden[h + j] as number);
    }
    const inv = 1 / (b - a);
    for (let j = 0; j < dim; j++) out[o + j] = (out[o + j] as number) * inv;
  }
}
