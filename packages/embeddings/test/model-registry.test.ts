import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkModelDir, fetchModel, getModelSpec, listModels, MODEL_REGISTRY, modelDir, resolveModel } from '../src/index';
import { parity, testModel } from './support';

describe('model registry', () => {
  it('describes every model as data: dim, pinned files, pooling, normalization, max length, tokenizer', () => {
    expect(listModels().map((m) => m.id)).toEqual(expect.arrayContaining(['all-minilm-l6-v2-int8', 'all-minilm-l6-v2-fp32']));
    for (const m of listModels()) {
      expect(m.dim).toBe(384);
      expect(m.pooling).toBe('mean');
      expect(m.normalize).toBe('l2');
      expect(m.maxSequenceLength).toBe(256);
      for (const f of m.files) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(MODEL_REGISTRY.testModels).toContain(parity.model);
    expect(getModelSpec(parity.model).files.find((f) => f.name === 'model.onnx')?.sha256).toBe(parity.modelSha256);
  });

  it('detects a file that does not match its pinned checksum', async () => {
    const good = await testModel();
    const cache = await mkdtemp(join(tmpdir(), 'affinity-cache-'));
    try {
      const dir = modelDir(good.spec.id, cache);
      await mkdir(dir, { recursive: true });
      await copyFile(good.onnxPath, join(dir, 'model.onnx'));
      const tampered = Buffer.from(await import('node:fs/promises').then((fs) => fs.readFile(good.tokenizerPath)));
      tampered[100] = (tampered[100] ?? 0) ^ 1;
      await writeFile(join(dir, 'tokenizer.json'), tampered);
      expect(await checkModelDir(good.spec, dir)).toEqual([expect.stringMatching(/^tokenizer\.json sha256 [0-9a-f]{64} != pinned/)]);
      await expect(resolveModel(good.spec.id, { cacheDir: cache })).rejects.toThrow(/Fetch it with: AFFINITY_CACHE=.* packages\/embeddings\/scripts\/fetch-model\.sh all-minilm-l6-v2-int8/);
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });

  it('fetchModel reuses a verified model directory without touching the network', async () => {
    const model = await testModel();
    const lines: string[] = [];
    // A closed local port: any request would fail, so success proves none was made.
    const dir = await fetchModel(model.spec.id, { indexUrl: 'http://127.0.0.1:9', log: (l) => lines.push(l) });
    expect(dir).toBe(model.dir);
    expect(lines).toEqual([]);
  });
});
