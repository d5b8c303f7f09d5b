import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildBertOnnx } from '../src/internal/bert-onnx-builder';

// A tiny random BERT, written as safetensors, built into ONNX, run by onnxruntime and compared
// with a plain loop-by-loop forward pass of HF BertModel's equations.
const H = 8;
const HEADS = 2;
const FF = 16;
const LAYERS = 2;
const VOCAB = 12;
const POS = 16;
const EPS = 1e-12;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function tinyWeights(): Map<string, { shape: number[]; data: Float32Array }> {
  const rand = rng(7);
  const w = new Map<string, { shape: number[]; data: Float32Array }>();
  const add = (name: string, shape: number[], center = 0) =>
    w.set(name, { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => center + rand()) });
  add('embeddings.word_embeddings.weight', [VOCAB, H]);
  add('embeddings.position_embeddings.weight', [POS, H]);
  add('embeddings.token_type_embeddings.weight', [2, H]);
  add('embeddings.LayerNorm.weight', [H], 1);
  add('embeddings.LayerNorm.bias', [H]);
  for (let l = 0; l < LAYERS; l++) {
    const p = `encoder.layer.${l}`;
    for (const n of ['query', 'key', 'value']) {
      add(`${p}.attention.self.${n}.weight`, [H, H]);
      add(`${p}.attention.self.${n}.bias`, [H]);
    }
    add(`${p}.attention.output.dense.weight`, [H, H]);
    add(`${p}.attention.output.dense.bias`, [H]);
    add(`${p}.attention.output.LayerNorm.weight`, [H], 1);
    add(`${p}.attention.output.LayerNorm.bias`, [H]);
    add(`${p}.intermediate.dense.weight`, [FF, H]);
    add(`${p}.intermediate.dense.bias`, [FF]);
    add(`${p}.output.dense.weight`, [H, FF]);
    add(`${p}.output.dense.bias`, [H]);
    add(`${p}.output.LayerNorm.weight`, [H], 1);
    add(`${p}.output.LayerNorm.bias`, [H]);
  }
  return w;
}

function toSafetensors(weights: Map<string, { shape: number[]; data: Float32Array }>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, t] of weights) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const t of weights.values()) {
    out.set(new Uint8Array(t.data.buffer), p);
    p += t.data.byteLength;
  }
  return out;
}

/** Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): enough for a 1e-4 comparison. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

function referenceForward(w: Map<string, { shape: number[]; data: Float32Array }>, ids: number[], mask: number[]): number[][] {
  const get = (n: string) => w.get(n)?.data ?? new Float32Array(0);
  const linear = (x: number[], p: string, outDim: number) => {
    const W = get(`${p}.weight`);
    const b = get(`${p}.bias`);
    return Array.from({ length: outDim }, (_, o) => x.reduce((s, v, i) => s + v * (W[o * x.length + i] ?? 0), b[o] ?? 0));
  };
  const layerNorm = (x: number[], p: string) => {
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
    return x.map((v, i) => ((v - mean) / Math.sqrt(variance + EPS)) * (get(`${p}.weight`)[i] ?? 0) + (get(`${p}.bias`)[i] ?? 0));
  };
  let x = ids.map((id, t) =>
    layerNorm(
      Array.from({ length: H }, (_, j) => (get('embeddings.word_embeddings.weight')[id * H + j] ?? 0) + (get('embeddings.position_embeddings.weight')[t * H + j] ?? 0) + (get('embeddings.token_type_embeddings.weight')[j] ?? 0)),
      'embeddings.LayerNorm',
    ),
  );
  const dh = H / HEADS;
  for (let l = 0; l < LAYERS; l++) {
    const p = `encoder.layer.${l}`;
    const q = x.map((v) => linear(v, `${p}.attention.self.query`, H));
    const k = x.map((v) => linear(v, `${p}.attention.self.key`, H));
    const v = x.map((r) => linear(r, `${p}.attention.self.value`, H));
    const ctx = x.map(() => new Array<number>(H).fill(0));
    for (let h = 0; h < HEADS; h++) {
      for (let i = 0; i < x.length; i++) {
        const scores = x.map((_, j) => (mask[j] === 1 ? Array.from({ length: dh }, (_, d) => (q[i]?.[h * dh + d] ?? 0) * (k[j]?.[h * dh + d] ?? 0)).reduce((a, b) => a + b, 0) / Math.sqrt(dh) : -Infinity));
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < x.length; j++) for (let d = 0; d < dh; d++) ctx[i]![h * dh + d]! += ((e[j] ?? 0) / z) * (v[j]?.[h * dh + d] ?? 0);
      }
    }
    const x1 = x.map((r, i) => layerNorm(linear(ctx[i] ?? [], `${p}.attention.output.dense`, H).map((a, j) => a + (r[j] ?? 0)), `${p}.attention.output.LayerNorm`));
    x = x1.map((r) => {
      const inter = linear(r, `${p}.intermediate.dense`, FF).map((a) => 0.5 * a * (1 + erf(a / Math.SQRT2)));
      return layerNorm(linear(inter, `${p}.output.dense`, H).map((a, j) => a + (r[j] ?? 0)), `${p}.output.LayerNorm`);
    });
  }
  return x;
}

describe('buildBertOnnx', () => {
  const weights = tinyWeights();
  const config = { model_type: 'bert', hidden_act: 'gelu', hidden_size: H, num_attention_heads: HEADS, num_hidden_layers: LAYERS, layer_norm_eps: EPS };

  it('builds a graph whose outputs match BertModel on every unmasked token', async () => {
    const onnx = buildBertOnnx(toSafetensors(weights), config);
    const session = await ort.InferenceSession.create(onnx);
    try {
      const ids = [[1, 5, 7, 3, 2, 0], [1, 4, 2, 0, 0, 0]];
      const masks = [[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0]];
      const S = ids[0]!.length;
      const tensor = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, S]);
      const out = await session.run({ input_ids: tensor(ids), attention_mask: tensor(masks), token_type_ids: tensor(ids.map((r) => r.map(() => 0))) });
      const hidden = out.last_hidden_state?.data as Float32Array;
      expect(out.last_hidden_state?.dims).toEqual([2, S, H]);
      for (let b = 0; b < ids.length; b++) {
        const n = masks[b]!.filter((m) => m === 1).length;
        // The reference runs each text unpadded: padding must not change the real tokens.
        const ref = referenceForward(weights, ids[b]!.slice(0, n), masks[b]!.slice(0, n));
        for (let t = 0; t < n; t++) for (let j = 0; j < H; j++) expect(hidden[(b * S + t) * H + j]).toBeCloseTo(ref[t]?.[j] ?? NaN, 4);
      }
    } finally {
      await session.release();
    }
  });

  it('is deterministic, so its output can be pinned by sha256', () => {
    const bytes = toSafetensors(weights);
    expect(Buffer.compare(buildBertOnnx(bytes, config), buildBertOnnx(bytes, config))).toBe(0);
  });

  it('refuses configurations it does not implement', () => {
    expect(() => buildBertOnnx(toSafetensors(weights), { ...config, hidden_act: 'relu' })).toThrow(/gelu/);
    expect(() => buildBertOnnx(toSafetensors(weights), { ...config, num_attention_heads: 3 })).toThrow(/multiple/);
  });
});
