import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, RetriableError } from '@affinity/contracts';
import { compileEmbedderOptions, Embedder, ModelNotFoundError } from '../src/index';
import { parity, testModel } from './support';

describe('Embedder lifecycle and configuration', () => {
  it('says which command fetches a missing model instead of falling back', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'affinity-empty-cache-'));
    try {
      const err = await Embedder.create({ model: parity.model, cacheDir: empty }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelNotFoundError);
      expect((err as Error).message).toContain(`packages/embeddings/scripts/fetch-model.sh ${parity.model}`);
      expect((err as Error).message).toContain(`AFFINITY_CACHE=${empty}`);
      expect((err as ModelNotFoundError).retriable).toBe(false);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('rejects unknown models and bad options with the option named', () => {
    expect(() => compileEmbedderOptions({ maxBatchSize: 0 })).toThrow(/maxBatchSize/);
    expect(() => compileEmbedderOptions({ graphOptimizationLevel: 'max' as 'all' })).toThrow(ConfigError);
    expect(() => compileEmbedderOptions({ typo: 1 } as never)).toThrow(/typo/);
    return expect(Embedder.create({ model: 'no-such-model' })).rejects.toThrow(/known models: .*all-minilm-l6-v2-int8/);
  });

  it('refuses a longer sequence limit than the model has', async () => {
    await testModel();
    await expect(Embedder.create({ model: parity.model, maxSequenceLength: 100_000 })).rejects.toThrow(/maxSequenceLength/);
  });

  it('close() finishes submitted texts, is idempotent, and then refuses new work', async () => {
    await testModel();
    const embedder = await Embedder.create({ model: parity.model, intraOpNumThreads: 1, maxWaitMs: 50, verifyChecksum: false });
    const inFlight = parity.texts.slice(0, 5).map((t) => embedder.submit(t));
    const closing = embedder.close();
    expect(embedder.close()).toBe(closing);
    expect(embedder.state).toBe('closing');
    await closing;
    const vectors = await Promise.all(inFlight);
    expect(vectors.every((v) => v.length === embedder.dim)).toBe(true);
    expect(embedder.state).toBe('closed');
    await expect(embedder.submit('late')).rejects.toBeInstanceOf(RetriableError);
    await expect(embedder.embed(['late'])).rejects.toBeInstanceOf(RetriableError);
  });

  it('close() lets an embed() call that already started finish all of its batches', async () => {
    await testModel();
    const embedder = await Embedder.create({ model: parity.model, intraOpNumThreads: 1, maxBatchSize: 2, verifyChecksum: false });
    const running = embedder.embed(parity.texts.slice(0, 9));
    await embedder.close();
    const vectors = await running;
    expect(vectors).toHaveLength(9);
    expect(vectors.every((v) => Math.abs(Math.hypot(...v) - 1) < 1e-5)).toBe(true);
    expect(embedder.stats().batches).toBe(5);
  });
});
