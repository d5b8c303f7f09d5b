import { readFile } from 'node:fs/promises';
import { ConfigError } from '@affinity/contracts';
import { normalize, preTokenize, type BertNormalizerConfig } from './internal/bert-normalizer';

/** Options for {@link WordPieceTokenizer}. */
export interface WordPieceTokenizerOptions {
  /**
   * Longest encoding in tokens, [CLS] and [SEP] included; longer texts keep their first
   * `maxLength - 2` word pieces (HF's LongestFirst truncation of a single sequence).
   * @defaultValue the `truncation.max_length` of tokenizer.json, else 512
   */
  maxLength?: number;
}

interface AddedToken {
  id: number;
  content: string;
}

/**
 * HF `tokenizers`' BERT pipeline as configured by a tokenizer.json (BertNormalizer,
 * BertPreTokenizer, WordPiece, `[CLS] $A [SEP]` template), producing the same ids. Any other
 * configuration is refused with a {@link ConfigError} rather than approximated.
 */
export class WordPieceTokenizer {
  readonly maxLength: number;
  readonly vocabSize: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;
  private readonly vocab: Map<string, number>;
  private readonly prefix: string;
  private readonly maxCharsPerWord: number;
  private readonly normalizer: BertNormalizerConfig;
  private readonly added: readonly AddedToken[];
  private readonly cache = new Map<string, readonly number[]>();

  private constructor(json: TokenizerJson, options: WordPieceTokenizerOptions) {
    const model = json.model;
    if (model?.type !== 'WordPiece' || model.vocab === undefined) throw unsupported('model', model?.type);
    const n = json.normalizer;
    if (n?.type !== 'BertNormalizer') throw unsupported('normalizer', n?.type);
    if (json.pre_tokenizer?.type !== 'BertPreTokenizer') throw unsupported('pre_tokenizer', json.pre_tokenizer?.type);
    this.vocab = new Map(Object.entries(model.vocab));
    this.vocabSize = this.vocab.size;
    this.prefix = model.continuing_subword_prefix ?? '##';
    this.maxCharsPerWord = model.max_input_chars_per_word ?? 100;
    const lowercase = n.lowercase ?? true;
    // As in `tokenizers`: strip_accents null means "follow lowercase".
    this.normalizer = { cleanText: n.clean_text ?? true, handleChineseChars: n.handle_chinese_chars ?? true, stripAccents: n.strip_accents ?? lowercase, lowercase };
    this.unkId = this.idOf(model.unk_token ?? '[UNK]');
    const [cls, sep] = templateSpecials(json);
    this.clsId = this.idOf(cls);
    this.sepId = this.idOf(sep);
    this.padId = json.padding?.pad_id ?? this.idOf('[PAD]');
    this.added = (json.added_tokens ?? []).map((t) => {
      if (t.normalized || t.lstrip || t.rstrip || t.single_word) throw unsupported('added token options', t.content);
      return { id: t.id, content: t.content };
    });
    this.maxLength = options.maxLength ?? json.truncation?.max_length ?? 512;
    if (!Number.isInteger(this.maxLength) || this.maxLength < 2) throw new ConfigError(`maxLength must be an integer ≥ 2, got ${this.maxLength}`);
  }

  static fromJson(json: unknown, options: WordPieceTokenizerOptions = {}): WordPieceTokenizer {
    return new WordPieceTokenizer(json as TokenizerJson, options);
  }

  static async fromFile(path: string, options: WordPieceTokenizerOptions = {}): Promise<WordPieceTokenizer> {
    return WordPieceTokenizer.fromJson(JSON.parse(await readFile(path, 'utf8')), options);
  }

  /** Token ids of one text: `[CLS] pieces… [SEP]`, truncated to {@link maxLength}. */
  encode(text: string): Int32Array {
    const ids: number[] = [this.clsId];
    this.appendPieces(text, ids);
    ids.push(this.sepId);
    return Int32Array.from(ids);
  }

  /**
   * Token ids of a text given as words (`[CLS] pieces of word 0… [SEP]`, truncated like
   * {@link encode}) and where each word's pieces are: word `w` is `ids[starts[w]..starts[w + 1])`,
   * an empty range when truncation cut it off. The words are encoded one after the other, so
   * pieces never straddle two words.
   */
  encodeWords(words: readonly string[]): { ids: Int32Array; starts: Int32Array } {
    const ids: number[] = [this.clsId];
    const starts = new Int32Array(words.length + 1);
    words.forEach((w, i) => {
      starts[i] = ids.length;
      this.appendPieces(w, ids);
    });
    starts[words.length] = ids.length;
    ids.push(this.sepId);
    return { ids: Int32Array.from(ids), starts };
  }

  /** Appends the pieces of `text` to `ids` while they stay within `maxLength - 1` (room for [SEP]). */
  private appendPieces(text: string, ids: number[]): void {
    const budget = this.maxLength - 2;
    for (const segment of this.splitAddedTokens(text)) {
      if (ids.length > budget) break;
      if (typeof segment === 'number') {
        ids.push(segment);
        continue;
      }
      for (const word of preTokenize(normalize(segment, this.normalizer))) {
        if (ids.length > budget) break;
        for (const id of this.wordPieces(word)) ids.push(id);
      }
    }
    if (ids.length > budget + 1) ids.length = budget + 1;
  }

  /** Word pieces as strings, without specials or truncation: for debugging and tests. */
  tokenize(text: string): string[] {
    const inverse = new Map([...this.vocab].map(([k, v]) => [v, k]));
    const ids = this.encode(text);
    return Array.from(ids.subarray(1, ids.length - 1), (id) => inverse.get(id) ?? '');
  }

  private idOf(token: string): number {
    const id = this.vocab.get(token);
    if (id === undefined) throw new ConfigError(`tokenizer.json: ${token} is not in the vocabulary`);
    return id;
  }

  /** Special tokens match the raw text before normalization (their `normalized` is false). */
  private splitAddedTokens(text: string): (string | number)[] {
    if (!this.added.some((t) => text.includes(t.content))) return [text];
    const out: (string | number)[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      let best: AddedToken | undefined;
      for (const t of this.added) {
        if (text.startsWith(t.content, i) && (best === undefined || t.content.length > best.content.length)) best = t;
      }
      if (best === undefined) {
        i++;
        continue;
      }
      if (i > start) out.push(text.slice(start, i));
      out.push(best.id);
      i += best.content.length;
      start = i;
    }
    if (start < text.length) out.push(text.slice(start));
    return out;
  }

  /** Greedy longest-match-first WordPiece; a word with an unmatchable rest is one [UNK]. */
  private wordPieces(word: string): readonly number[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    const pieces = this.computeWordPieces(word);
    // Bounded so a stream of unique words cannot grow memory without limit.
    if (this.cache.size >= 50_000) this.cache.clear();
    this.cache.set(word, pieces);
    return pieces;
  }

  private computeWordPieces(word: string): number[] {
    // Limits and boundaries are in code points, as Rust's `chars()`.
    const chars = /[\uD800-\uDFFF]/.test(word) ? Array.from(word) : undefined;
    const length = chars?.length ?? word.length;
    if (length > this.maxCharsPerWord) return [this.unkId];
    const slice = (a: number, b: number) => (chars === undefined ? word.slice(a, b) : chars.slice(a, b).join(''));
    const out: number[] = [];
    let start = 0;
    while (start < length) {
      let end = length;
      let found: number | undefined;
      while (start < end) {
        const piece = start > 0 ? this.prefix + slice(start, end) : slice(start, end);
        found = this.vocab.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return [this.unkId];
      out.push(found);
      start = end;
    }
    return out;
  }
}

function unsupported(what: string, value: unknown): ConfigError {
  return new ConfigError(`tokenizer.json: unsupported ${what} ${JSON.stringify(value)}; only the BERT WordPiece pipeline is implemented`);
}

/** The single-sequence template must be `[CLS] $A [SEP]` (TemplateProcessing or BertProcessing). */
function templateSpecials(json: TokenizerJson): [string, string] {
  const pp = json.post_processor;
  if (pp?.type === 'BertProcessing' && pp.cls !== undefined && pp.sep !== undefined) return [pp.cls[0], pp.sep[0]];
  if (pp?.type === 'TemplateProcessing' && pp.single !== undefined) {
    const [first, middle, last, ...rest] = pp.single;
    if (first?.SpecialToken !== undefined && middle?.Sequence !== undefined && last?.SpecialToken !== undefined && rest.length === 0) {
      return [first.SpecialToken.id, last.SpecialToken.id];
    }
  }
  throw unsupported('post_processor', pp);
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number>; unk_token?: string; continuing_subword_prefix?: string; max_input_chars_per_word?: number };
  normalizer?: { type?: string; clean_text?: boolean; handle_chinese_chars?: boolean; strip_accents?: boolean | null; lowercase?: boolean };
  pre_tokenizer?: { type?: string };
  post_processor?: {
    type?: string;
    cls?: [string, number];
    sep?: [string, number];
    single?: { SpecialToken?: { id: string }; Sequence?: { id: string } }[];
  };
  added_tokens?: { id: number; content: string; normalized?: boolean; lstrip?: boolean; rstrip?: boolean; single_word?: boolean }[];
  truncation?: { max_length?: number } | null;
  padding?: { pad_id?: number } | null;
}
