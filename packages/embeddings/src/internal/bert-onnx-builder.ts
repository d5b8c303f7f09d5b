import { ConfigError } from '@affinity/contracts';
import { ProtoWriter } from './protobuf-writer';

/**
 * Writes a BERT encoder (HF `BertModel`, post-LN, absolute positions, exact-erf GELU) as an
 * fp32 ONNX graph from its safetensors weights: inputs `input_ids`, `attention_mask`,
 * `token_type_ids` (int64 [batch, sequence]), output `last_hidden_state` (float
 * [batch, sequence, hidden]). The same weights always give the same bytes, so the result can be
 * pinned by sha256 like a downloaded file.
 */
export function buildBertOnnx(safetensors: Uint8Array, rawConfig: unknown): Buffer {
  const config = parseConfig(rawConfig);
  const weights = readSafetensors(safetensors);
  const g = new GraphBuilder(weights);
  const { hidden, heads, layers, eps } = config;
  const headDim = hidden / heads;

  // Embeddings: word + position (rows 0..S-1) + token type, then LayerNorm.
  const word = g.node('Gather', [g.weight('embeddings.word_embeddings.weight'), 'input_ids'], {});
  const seqLen = g.node('Shape', ['input_ids'], { start: 1, end: 2 });
  const positions = g.node('Slice', [g.weight('embeddings.position_embeddings.weight'), g.constInt64([0]), seqLen, g.constInt64([0])], {});
  const types = g.node('Gather', [g.weight('embeddings.token_type_embeddings.weight'), 'token_type_ids'], {});
  const sum = g.node('Add', [g.node('Add', [word, positions], {}), types], {});
  let x = g.layerNorm(sum, 'embeddings.LayerNorm', eps);

  // HF's extended attention mask: (1 - mask) * finfo(float32).min, broadcast over heads and queries.
  const maskF = g.node('Cast', ['attention_mask'], { to: 1 });
  const inverted = g.node('Sub', [g.constFloat(1), maskF], {});
  const bias = g.node('Mul', [inverted, g.constFloat(-3.4028234663852886e38)], {});
  const maskBias = g.node('Unsqueeze', [bias, g.constInt64([1, 2])], {});

  const splitShape = g.constInt64([0, 0, heads, headDim]);
  const mergeShape = g.constInt64([0, 0, hidden]);
  const scale = g.constFloat(Math.sqrt(headDim));
  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}`;
    const heads4 = (name: string, perm: number[]) =>
      g.node('Transpose', [g.node('Reshape', [g.linear(x, `${p}.attention.self.${name}`), splitShape], {})], { perm });
    const q = heads4('query', [0, 2, 1, 3]);
    const k = heads4('key', [0, 2, 3, 1]);
    const v = heads4('value', [0, 2, 1, 3]);
    const scores = g.node('Add', [g.node('Div', [g.node('MatMul', [q, k], {}), scale], {}), maskBias], {});
    const probs = g.node('Softmax', [scores], { axis: -1 });
    const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, v], {})], { perm: [0, 2, 1, 3] }), mergeShape], {});
    const attn = g.linear(context, `${p}.attention.output.dense`);
    const x1 = g.layerNorm(g.node('Add', [attn, x], {}), `${p}.attention.output.LayerNorm`, eps);
    const inter = g.linear(x1, `${p}.intermediate.dense`);
    // Exact GELU, as BERT's "gelu": 0.5 * x * (1 + erf(x / sqrt(2))).
    const erf = g.node('Erf', [g.node('Div', [inter, g.constFloat(Math.SQRT2)], {})], {});
    const gelu = g.node('Mul', [g.node('Mul', [inter, g.node('Add', [erf, g.constFloat(1)], {})], {}), g.constFloat(0.5)], {});
    const out = g.linear(gelu, `${p}.output.dense`);
    x = g.layerNorm(g.node('Add', [out, x1], {}), `${p}.output.LayerNorm`, eps);
  }
  g.node('Identity', [x], {}, 'last_hidden_state');
  return g.finish(hidden);
}

interface BertConfig {
  hidden: number;
  heads: number;
  layers: number;
  eps: number;
}

function parseConfig(raw: unknown): BertConfig {
  const c = raw as Record<string, unknown>;
  const num = (key: string): number => {
    const v = c[key];
    if (typeof v !== 'number') throw new ConfigError(`BERT config: ${key} missing`);
    return v;
  };
  if (c.model_type !== 'bert' || c.hidden_act !== 'gelu' || (c.position_embedding_type ?? 'absolute') !== 'absolute') {
    throw new ConfigError('BERT config: only model_type bert with gelu and absolute positions can be built');
  }
  const config = { hidden: num('hidden_size'), heads: num('num_attention_heads'), layers: num('num_hidden_layers'), eps: num('layer_norm_eps') };
  if (config.hidden % config.heads !== 0) throw new ConfigError('BERT config: hidden_size is not a multiple of num_attention_heads');
  return config;
}

interface Tensor {
  shape: number[];
  data: Float32Array;
}

function readSafetensors(bytes: Uint8Array): Map<string, Tensor> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLength;
  const out = new Map<string, Tensor>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__' || t.dtype !== 'F32') continue;
    const [start, end] = t.data_offsets;
    // Copy: offsets need not be 4-byte aligned, and Buffer#slice would alias the whole file.
    const copy = new Uint8Array(end - start);
    copy.set(bytes.subarray(base + start, base + end));
    const data = new Float32Array(copy.buffer);
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

function transpose2d(t: Tensor): Tensor {
  const [rows, cols] = t.shape as [number, number];
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = t.data[r * cols + c] ?? 0;
  return { shape: [cols, rows], data };
}

type AttrValue = number | number[];

class GraphBuilder {
  private readonly nodes: ProtoWriter[] = [];
  private readonly initializers: ProtoWriter[] = [];
  private counter = 0;

  constructor(private readonly weights: Map<string, Tensor>) {}

  private fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  private tensor(name: string, dataType: number, dims: readonly number[], raw: Uint8Array): void {
    this.initializers.push(new ProtoWriter().ints(1, dims).int(2, dataType).string(8, name).bytes(9, raw));
  }

  weight(name: string, transpose = false): string {
    const t = this.weights.get(name);
    if (t === undefined) throw new ConfigError(`safetensors: tensor ${name} not found`);
    const w = transpose ? transpose2d(t) : t;
    this.tensor(name, 1, w.shape, new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength));
    return name;
  }

  constInt64(values: number[]): string {
    const name = this.fresh('const_i64');
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.tensor(name, 7, [values.length], new Uint8Array(data.buffer));
    return name;
  }

  constFloat(value: number): string {
    const name = this.fresh('const_f32');
    this.tensor(name, 1, [], new Uint8Array(Float32Array.of(value).buffer));
    return name;
  }

  node(op: string, inputs: string[], attrs: Record<string, AttrValue>, output?: string): string {
    const out = output ?? this.fresh(op.toLowerCase());
    const n = new ProtoWriter();
    for (const i of inputs) n.string(1, i);
    n.string(2, out).string(3, this.fresh(`n_${op}`)).string(4, op);
    for (const [key, value] of Object.entries(attrs)) {
      const a = new ProtoWriter().string(1, key);
      if (Array.isArray(value)) a.ints(8, value).int(20, 7);
      else a.int(3, value).int(20, 2);
      n.message(5, a);
    }
    this.nodes.push(n);
    return out;
  }

  /** PyTorch's Linear stores [out, in]; ONNX MatMul wants [in, out], so transpose once here. */
  linear(x: string, prefix: string): string {
    return this.node('Add', [this.node('MatMul', [x, this.weight(`${prefix}.weight`, true)], {}), this.weight(`${prefix}.bias`)], {});
  }

  layerNorm(x: string, prefix: string, eps: number): string {
    const out = this.fresh('layernorm');
    const n = new ProtoWriter();
    for (const i of [x, this.weight(`${prefix}.weight`), this.weight(`${prefix}.bias`)]) n.string(1, i);
    n.string(2, out).string(3, this.fresh('n_LayerNormalization')).string(4, 'LayerNormalization');
    n.message(5, new ProtoWriter().string(1, 'axis').int(3, -1).int(20, 2));
    n.message(5, new ProtoWriter().string(1, 'epsilon').float(2, eps).int(20, 1));
    this.nodes.push(n);
    return out;
  }

  finish(hidden: number): Buffer {
    const valueInfo = (name: string, elemType: number, dims: (string | number)[]) => {
      const shape = new ProtoWriter();
      for (const d of dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
      const tensorType = new ProtoWriter().int(1, elemType).message(2, shape);
      return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
    };
    const graph = new ProtoWriter();
    for (const n of this.nodes) graph.message(1, n);
    graph.string(2, 'bert');
    for (const i of this.initializers) graph.message(5, i);
    for (const name of ['input_ids', 'attention_mask', 'token_type_ids']) graph.message(11, valueInfo(name, 7, ['batch', 'sequence']));
    graph.message(12, valueInfo('last_hidden_state', 1, ['batch', 'sequence', hidden]));
    const model = new ProtoWriter()
      .int(1, 8)
      .string(2, '@affinity/embeddings')
      .string(3, '1')
      .message(7, graph)
      .message(8, new ProtoWriter().string(1, '').int(2, 17));
    return Buffer.from(model.finish());
  }
}
