import { SeededRandom } from '@affinity/contracts';
import type { ContextMatrix } from './contexts';
import { MatrixBaseline, type MatrixBaselineOptions } from './matrix-baseline';

export interface Item2VecOptions extends MatrixBaselineOptions {
  /**
   * `in-in`: item2vec (Barkan & Koenigstein, 2016), cosine of input vectors — items used alike.
   * `in-out`: dual embeddings (Mitra et al. 2016; "Two Is Better Than One", 2022), input vector of
   * the anchor · output vector of the candidate — items used together.
   */
  mode: 'in-in' | 'in-out';
  /** @defaultValue 64 */
  dim?: number;
  /** @defaultValue 10 */
  epochs?: number;
  /** Negative samples per positive pair. @defaultValue 5 */
  negatives?: number;
  /** Context items paired with each item per epoch (the whole context when smaller). @defaultValue 10 */
  window?: number;
  /** @defaultValue 1 */
  seed?: number;
}

interface Sgns {
  input: Float32Array;
  output: Float32Array;
  norms: Float32Array;
}

/** Trained vectors per matrix and settings: both modes (and history variants) share one training. */
const MODELS = new WeakMap<ContextMatrix, Map<string, Sgns>>();

/** Skip-gram with negative sampling over contexts (baskets, sessions or histories) taken as sets. */
export class Item2VecBaseline extends MatrixBaseline {
  private readonly o: Required<Omit<Item2VecOptions, 'history'>>;

  constructor(options: Item2VecOptions) {
    super(options);
    this.o = { dim: 64, epochs: 10, negatives: 5, window: 10, seed: 1, ...options };
  }

  protected get label(): string {
    return this.o.mode === 'in-in' ? 'item2vec (SGNS, in·in)' : 'dual embeddings (SGNS, in·out)';
  }

  private get key(): string {
    const { dim, epochs, negatives, window, seed } = this.o;
    return JSON.stringify([dim, epochs, negatives, window, seed]);
  }

  protected override prepare(m: ContextMatrix): void {
    let byKey = MODELS.get(m);
    if (!byKey) MODELS.set(m, (byKey = new Map()));
    if (!byKey.has(this.key)) byKey.set(this.key, this.trainModel(m));
  }

  private trainModel(m: ContextMatrix): Sgns {
    const { dim, epochs, negatives, window } = this.o;
    const n = m.itemCount;
    const rng = new SeededRandom(this.o.seed);
    const input = new Float32Array(n * dim).map(() => (rng.next() - 0.5) / dim);
    const output = new Float32Array(n * dim);
    // Unigram^0.75 noise distribution as a lookup table (word2vec's).
    const table = new Int32Array(Math.max(1000, n * 50));
    let total = 0;
    for (let i = 0; i < n; i++) total += m.support(i) ** 0.75;
    let acc = 0;
    let i = 0;
    for (let t = 0; t < table.length; t++) {
      while (i < n - 1 && (t + 0.5) / table.length > (acc + m.support(i) ** 0.75) / total) acc += m.support(i++) ** 0.75;
      table[t] = i;
    }
    const pairsPerEpoch = m.contexts.reduce((s, c) => s + c.length * Math.min(window, c.length - 1), 0);
    const totalSteps = Math.max(1, pairsPerEpoch * epochs);
    const grad = new Float32Array(dim);
    let step = 0;
    const order = Array.from({ length: m.contexts.length }, (_, c) => c);
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (let c = order.length - 1; c > 0; c--) {
        const j = Math.floor(rng.next() * (c + 1));
        [order[c], order[j]] = [order[j]!, order[c]!];
      }
      for (const c of order) {
        const ctx = m.contexts[c]!;
        if (ctx.length < 2) continue;
        for (let p = 0; p < ctx.length; p++) {
          const a = ctx[p]!;
          const pairs = Math.min(window, ctx.length - 1);
          for (let q = 0; q < pairs; q++) {
            let b: number;
            if (ctx.length - 1 <= window) b = ctx[q >= p ? q + 1 : q]!;
            else {
              do b = ctx[Math.floor(rng.next() * ctx.length)]!;
              while (b === a);
            }
            const lr = 0.025 * Math.max(1e-4, 1 - step++ / totalSteps);
            grad.fill(0);
            const ia = a * dim;
            for (let s = 0; s <= negatives; s++) {
              const target = s === 0 ? b : table[Math.floor(rng.next() * table.length)]!;
              if (s > 0 && target === b) continue;
              const ot = target * dim;
              let dot = 0;
              for (let d = 0; d < dim; d++) dot += input[ia + d]! * output[ot + d]!;
              const g = lr * ((s === 0 ? 1 : 0) - 1 / (1 + Math.exp(-dot)));
              for (let d = 0; d < dim; d++) {
                grad[d]! += g * output[ot + d]!;
                output[ot + d]! += g * input[ia + d]!;
              }
            }
            for (let d = 0; d < dim; d++) input[ia + d]! += grad[d]!;
          }
        }
      }
    }
    const norms = new Float32Array(n);
    for (let x = 0; x < n; x++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += input[x * dim + d]! ** 2;
      norms[x] = Math.sqrt(s) || 1;
    }
    return { input, output, norms };
  }

  protected score(m: ContextMatrix, anchors: readonly number[]): Map<number, number> {
    const { input, output, norms } = MODELS.get(m)!.get(this.key)!;
    const dim = this.o.dim;
    const q = new Float32Array(dim);
    for (const a of anchors) for (let d = 0; d < dim; d++) q[d]! += this.o.mode === 'in-in' ? input[a * dim + d]! / norms[a]! : input[a * dim + d]!;
    const target = this.o.mode === 'in-in' ? input : output;
    const scores: [number, number][] = [];
    for (let x = 0; x < m.itemCount; x++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += q[d]! * target[x * dim + d]!;
      scores.push([x, this.o.mode === 'in-in' ? s / norms[x]! : s]);
    }
    scores.sort((a, b) => b[1] - a[1]);
    // Shifted to stay positive: only the order matters.
    const floor = scores[Math.min(scores.length, 200) - 1]?.[1] ?? 0;
    return new Map(scores.slice(0, 200).map(([x, s]) => [x, s - floor + 1e-9]));
  }
}
