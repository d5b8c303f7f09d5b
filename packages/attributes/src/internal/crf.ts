import { mulberry32 } from '@affinity/contracts';

/**
 * Linear-chain CRF over BIO tags with hashed (feature, label) weights.
 *
 * Tag 0 is O; attribute k has B = 1 + 2k and I = 2 + 2k. One model serves every category: each
 * sequence names the tags it may use (its category's attributes), so forward-backward and Viterbi
 * run over that subset only, and features shared across categories (a brand opens the title in every
 * category) pool their evidence. Marginals give each span a probability, which is the confidence
 * that precision thresholds act on.
 */
export interface CrfSequence {
  /** Per token, the hashes of its active features. */
  features: Uint32Array[];
  /** Allowed tags, ascending, always including 0 (O). */
  allowed: Int32Array;
  /** Gold tags (training only). */
  gold?: Int32Array;
  /** Per token, `denseDim` real-valued features (row-major `T × denseDim`); required when the model has dense weights. */
  dense?: Float32Array;
}

export interface CrfSpan {
  attr: number;
  /** Token range [start, end). */
  start: number;
  end: number;
  probability: number;
}

export interface CrfTrainOptions {
  epochs: number;
  learningRate: number;
  seed: number;
}

export function isInside(tag: number): boolean {
  return tag > 0 && tag % 2 === 0;
}

export function attrOf(tag: number): number {
  return (tag - 1) >> 1;
}


export class LinearChainCrf {
  readonly numTags: number;
  readonly bits: number;
  readonly weights: Float32Array;
  /** transitions[from * numTags + to]; row numTags is the start state. */
  readonly transitions: Float32Array;
  /** Length of each token's dense feature vector (0: none). */
  readonly denseDim: number;
  /** denseWeights[tag * denseDim + d]. */
  readonly denseWeights: Float32Array;
  private readonly mask: number;
  /** Step-weighted sums of updates, for averaging the weights over training (only while training). */
  private sumW: Float32Array | undefined;
  private sumT: Float32Array | undefined;
  private sumD: Float32Array | undefined;
  private stepNo = 0;

  constructor(numTags: number, bits = 20, weights?: Float32Array, transitions?: Float32Array, denseDim = 0, denseWeights?: Float32Array) {
    this.numTags = numTags;
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.weights = weights ?? new Float32Array(1 << bits);
    this.transitions = transitions ?? new Float32Array((numTags + 1) * numTags);
    this.denseDim = denseDim;
    this.denseWeights = denseWeights ?? new Float32Array(numTags * denseDim);
    if (this.denseWeights.length !== numTags * denseDim) throw new TypeError(`dense weights must be ${numTags} x ${denseDim}`);
  }

  private checkDense(seq: CrfSequence): void {
    const D = this.denseDim;
    if (D > 0 && seq.dense?.length !== seq.features.length * D) throw new TypeError(`each token needs ${D} dense features`);
  }

  // Tags of one feature sit side by side, so scoring a token reads a few cache lines per feature
  // instead of one random line per (feature, tag); hashed features keep collisions random.
  private index(feature: number, tag: number): number {
    return (feature + tag) & this.mask;
  }

  /** `allowed` must be O followed by (B, I) pairs of the same attribute, as `allowedTags` builds it. */
  private static checkLayout(allowed: Int32Array): void {
    let ok = allowed[0] === 0 && allowed.length % 2 === 1;
    for (let j = 1; ok && j < allowed.length; j += 2) ok = (allowed[j] as number) % 2 === 1 && allowed[j + 1] === (allowed[j] as number) + 1;
    if (!ok) throw new TypeError('allowed tags must be O followed by (B, I) pairs');
  }

  /** Whether `to` may follow `from` (-1 = sequence start): I-x only continues B-x or I-x. */
  private static legal(from: number, to: number): boolean {
    if (!isInside(to)) return true;
    return from >= 0 && from !== 0 && attrOf(from) === attrOf(to);
  }

  // Scratch buffers reused across calls (training calls forward-backward ~10^4 times); every
  // caller consumes the results before the next call, and the class is not shared across threads.
  private buf = { size: 0, em: new Float64Array(0), psi: new Float64Array(0), alpha: new Float64Array(0), beta: new Float64Array(0), scale: new Float64Array(0), trSize: 0, tr: new Float64Array(0) };

  private scratch(T: number, K: number): void {
    const n = T * K;
    if (n > this.buf.size) {
      const size = Math.max(n, this.buf.size * 2, 256);
      this.buf = { ...this.buf, size, em: new Float64Array(size), psi: new Float64Array(size), alpha: new Float64Array(size), beta: new Float64Array(size) };
    }
    if (T > this.buf.scale.length) this.buf.scale = new Float64Array(Math.max(T, this.buf.scale.length * 2, 64));
    const t = (K + 1) * K;
    if (t > this.buf.trSize) this.buf = { ...this.buf, trSize: t, tr: new Float64Array(t) };
  }

  /** emissions[t * K + j] for allowed tag j. */
  private emissions(seq: CrfSequence): Float64Array {
    const K = seq.allowed.length;
    const T = seq.features.length;
    const out = this.buf.em;
    out.fill(0, 0, T * K);
    const w = this.weights;
    const mask = this.mask;
    const allowed = seq.allowed;
    for (let t = 0; t < T; t++) {
      const feats = seq.features[t] as Uint32Array;
      const o = t * K;
      for (let f = 0; f < feats.length; f++) {
        const base = feats[f] as number;
        for (let j = 0; j < K; j++) out[o + j] = (out[o + j] as number) + (w[(base + (allowed[j] as number)) & mask] as number);
      }
    }
    const D = this.denseDim;
    const x = seq.dense;
    if (D > 0 && x !== undefined) {
      const wd = this.denseWeights;
      for (let t = 0; t < T; t++) {
        const xo = t * D;
        for (let j = 0; j < K; j++) {
          const wo = (allowed[j] as number) * D;
          let s = 0;
          for (let d = 0; d < D; d++) s += (x[xo + d] as number) * (wd[wo + d] as number);
          out[t * K + j] = (out[t * K + j] as number) + s;
        }
      }
    }
    return out;
  }

  /** exp(transition) over allowed tags; row K is the start state. Illegal moves are 0. */
  private expTransitions(allowed: Int32Array): Float64Array {
    const K = allowed.length;
    const out = this.buf.tr;
    for (let i = 0; i <= K; i++) {
      const from = i === K ? -1 : (allowed[i] as number);
      const row = i === K ? this.numTags : from;
      for (let j = 0; j < K; j++) {
        const to = allowed[j] as number;
        out[i * K + j] = LinearChainCrf.legal(from, to) ? Math.exp(this.transitions[row * this.numTags + to] as number) : 0;
      }
    }
    return out;
  }

  /** Scaled forward-backward. Returns per-position potentials, alpha, beta and scale factors. */
  private forwardBackward(seq: CrfSequence) {
    const K = seq.allowed.length;
    const T = seq.features.length;
    LinearChainCrf.checkLayout(seq.allowed);
    this.checkDense(seq);
    this.scratch(T, K);
    const em = this.emissions(seq);
    const psi = this.buf.psi;
    for (let t = 0; t < T; t++) {
      let max = -Infinity;
      for (let j = 0; j < K; j++) max = Math.max(max, em[t * K + j] as number);
      for (let j = 0; j < K; j++) psi[t * K + j] = Math.exp((em[t * K + j] as number) - max);
    }
    const tr = this.expTransitions(seq.allowed);
    const alpha = this.buf.alpha;
    const beta = this.buf.beta;
    const scale = this.buf.scale;
    // `allowed` is O then (B, I) pairs, so I at index j (even, > 0) can only follow j - 1 or j, and
    // a source i can only reach O, the B tags and its own I: about half of the K^2 moves are skipped.
    for (let t = 0; t < T; t++) {
      let z = 0;
      const prev = (t - 1) * K;
      for (let j = 0; j < K; j++) {
        let s = 0;
        if (t === 0) s = tr[K * K + j] as number;
        else if (j > 0 && j % 2 === 0) s = (alpha[prev + j - 1] as number) * (tr[(j - 1) * K + j] as number) + (alpha[prev + j] as number) * (tr[j * K + j] as number);
        else for (let i = 0; i < K; i++) s += (alpha[prev + i] as number) * (tr[i * K + j] as number);
        const v = s * (psi[t * K + j] as number);
        alpha[t * K + j] = v;
        z += v;
      }
      scale[t] = z > 0 ? z : 1e-300;
      for (let j = 0; j < K; j++) alpha[t * K + j] = (alpha[t * K + j] as number) / (scale[t] as number);
    }
    for (let j = 0; j < K; j++) beta[(T - 1) * K + j] = 1;
    for (let t = T - 2; t >= 0; t--) {
      const next = (t + 1) * K;
      for (let i = 0; i < K; i++) {
        let s = 0;
        for (let j = 0; j < K; j += j === 0 ? 1 : 2) s += (tr[i * K + j] as number) * (psi[next + j] as number) * (beta[next + j] as number);
        if (i > 0) {
          const jI = i % 2 === 1 ? i + 1 : i;
          s += (tr[i * K + jI] as number) * (psi[next + jI] as number) * (beta[next + jI] as number);
        }
        beta[t * K + i] = s / (scale[t + 1] as number);
      }
    }
    return { K, T, psi, tr, alpha, beta, scale };
  }

  /** One pass of SGD over `data` (shuffled with the seed); returns nothing, updates weights in place. */
  train(data: readonly CrfSequence[], options: CrfTrainOptions): void {
    const rand = mulberry32(options.seed);
    const order = data.map((_, i) => i);
    let step = 0;
    const total = options.epochs * data.length;
    this.sumW = new Float32Array(this.weights.length);
    this.sumT = new Float32Array(this.transitions.length);
    this.sumD = new Float32Array(this.denseWeights.length);
    this.stepNo = 1;
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j] as number, order[i] as number];
      }
      for (const idx of order) {
        const seq = data[idx] as CrfSequence;
        // Linear decay to a tenth of the rate: large early steps, stable final weights.
        const lr = options.learningRate * (1 - (0.9 * step) / total);
        step++;
        if (seq.features.length === 0 || seq.gold === undefined) continue;
        this.step(seq, seq.gold, lr);
        this.stepNo++;
      }
    }
    // Averaged SGD: the mean of the iterates generalizes better than the last one, at no extra pass
    // (w_avg = w - sum(step_i * update_i) / steps).
    const c = this.stepNo;
    const sw = this.sumW;
    const st = this.sumT;
    for (let i = 0; i < this.weights.length; i++) this.weights[i] = (this.weights[i] as number) - (sw[i] as number) / c;
    for (let i = 0; i < this.transitions.length; i++) this.transitions[i] = (this.transitions[i] as number) - (st[i] as number) / c;
    const sd = this.sumD;
    for (let i = 0; i < this.denseWeights.length; i++) this.denseWeights[i] = (this.denseWeights[i] as number) - (sd[i] as number) / c;
    this.sumW = undefined;
    this.sumT = undefined;
    this.sumD = undefined;
  }

  private step(seq: CrfSequence, gold: Int32Array, lr: number): void {
    const { K, T, psi, tr, alpha, beta, scale } = this.forwardBackward(seq);
    const sw = this.sumW as Float32Array;
    const st = this.sumT as Float32Array;
    const c = this.stepNo;
    const bump = (k: number, d: number) => {
      this.transitions[k] = (this.transitions[k] as number) + d;
      st[k] = (st[k] as number) + d * c;
    };
    const allowed = seq.allowed;
    for (let t = 0; t < T; t++) {
      const feats = seq.features[t] as Uint32Array;
      const g = gold[t] as number;
      for (let j = 0; j < K; j++) {
        const p = (alpha[t * K + j] as number) * (beta[t * K + j] as number);
        const tag = allowed[j] as number;
        const grad = (tag === g ? 1 : 0) - p;
        // Most tags are ruled out after the first epoch; their gradients are noise-sized and cost as much.
        if (Math.abs(grad) < 1e-3) continue;
        const d = lr * grad;
        const dc = d * this.stepNo;
        for (let f = 0; f < feats.length; f++) {
          const k = this.index(feats[f] as number, tag);
          this.weights[k] = (this.weights[k] as number) + d;
          sw[k] = (sw[k] as number) + dc;
        }
        const D = this.denseDim;
        const x = seq.dense;
        if (D > 0 && x !== undefined) {
          const wd = this.denseWeights;
          const sd = this.sumD as Float32Array;
          const wo = tag * D;
          const xo = t * D;
          for (let q = 0; q < D; q++) {
            const g = d * (x[xo + q] as number);
            wd[wo + q] = (wd[wo + q] as number) + g;
            sd[wo + q] = (sd[wo + q] as number) + g * c;
          }
        }
      }
    }
    // Transitions: observed minus expected pairwise counts.
    const nt = this.numTags;
    for (let j = 0; j < K; j++) {
      const to = allowed[j] as number;
      const p = (alpha[j] as number) * (beta[j] as number);
      const obs = gold[0] === to ? 1 : 0;
      bump(nt * nt + to, lr * (obs - p));
    }
    for (let t = 1; t < T; t++) {
      const gPrev = gold[t - 1] as number;
      const gCur = gold[t] as number;
      for (let i = 0; i < K; i++) {
        const a = alpha[(t - 1) * K + i] as number;
        const from = allowed[i] as number;
        // A previous tag with negligible probability contributes negligible expected counts.
        if (from !== gPrev && a * (beta[(t - 1) * K + i] as number) < 1e-4) continue;
        for (let j = 0; j < K; j++) {
          const w = tr[i * K + j] as number;
          if (w === 0) continue;
          const to = allowed[j] as number;
          const p = (a * w * (psi[t * K + j] as number) * (beta[t * K + j] as number)) / (scale[t] as number);
          const obs = gPrev === from && gCur === to ? 1 : 0;
          bump(from * nt + to, lr * (obs - p));
        }
      }
    }
  }

  /**
   * Every span whose exact marginal probability (tags B I..I, then anything but I) reaches
   * `minProbability`. Choosing among spans by this probability, rather than taking the Viterbi path,
   * lets a caller trade recall for precision per attribute with one threshold.
   */
  spans(seq: CrfSequence, minProbability: number): CrfSpan[] {
    const T = seq.features.length;
    if (T === 0) return [];
    const { K, psi, tr, alpha, beta, scale } = this.forwardBackward(seq);
    const allowed = seq.allowed;
    const out: CrfSpan[] = [];
    for (let jB = 0; jB < K; jB++) {
      const tag = allowed[jB] as number;
      if (tag === 0 || isInside(tag)) continue;
      const jI = allowed.indexOf(tag + 1);
      for (let s = 0; s < T; s++) {
        if ((alpha[s * K + jB] as number) * (beta[s * K + jB] as number) < minProbability) continue;
        let head = alpha[s * K + jB] as number;
        let prev = jB;
        for (let e = s + 1; e <= T; e++) {
          // P(tags[s..e) = B I..I, tags[e] != I)
          let tail = beta[(e - 1) * K + prev] as number;
          if (e < T && jI >= 0) tail -= ((tr[prev * K + jI] as number) * (psi[e * K + jI] as number) * (beta[e * K + jI] as number)) / (scale[e] as number);
          const p = head * tail;
          if (p >= minProbability) out.push({ attr: attrOf(tag), start: s, end: e, probability: Math.min(1, p) });
          if (e >= T || jI < 0 || (alpha[e * K + jI] as number) * (beta[e * K + jI] as number) < minProbability) break;
          head *= ((tr[prev * K + jI] as number) * (psi[e * K + jI] as number)) / (scale[e] as number);
          prev = jI;
        }
      }
    }
    return out;
  }
}

/** Largest supported `bits`: hashes stay below 2^24 so index arithmetic stays in small integers. */
export const MAX_HASH_BITS = 24;

/** FNV-1a folded to 24 bits: stable across processes, so serialized weights stay valid. */
export function hashFeature(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 24) ^ h) & 0xffffff;
}
