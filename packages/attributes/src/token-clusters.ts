import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ValidationError } from '@affinity/contracts';
import { z } from 'zod';

/**
 * word → cluster id at each granularity, as `bench/attributes/build-token-clusters.ts` writes it:
 * `ids[level][i]` is the cluster of `words[i]` among `levels[level]` clusters.
 */
export const SerializedTokenClusters = z
  .object({
    levels: z.array(z.number().int().min(2).max(65536)).min(1),
    words: z.array(z.string()),
    ids: z.array(z.array(z.number().int().nonnegative())),
  })
  .refine((t) => t.ids.length === t.levels.length && t.ids.every((l, i) => l.length === t.words.length && l.every((c) => c < (t.levels[i] as number))), {
    message: 'ids must hold one cluster below levels[l] per word for each level',
  });
export type SerializedTokenClusters = z.output<typeof SerializedTokenClusters>;

// Same folding as the embedding model's BertNormalizer (lower-case, accents stripped), so a word
// finds the entry its vector was computed for.
function fold(word: string): string {
  const lower = word.toLowerCase();
  return NON_ASCII.test(lower) ? lower.normalize('NFD').replace(/\p{M}/gu, '') : lower;
}

const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * Static word clusters for the tagger: k-means over word vectors at a few granularities, so words
 * the labelled catalog never showed share weights with similar words it did ("hazelnut" with
 * "almond"). Computed once offline from a fixed word list, never from the catalog, so learning
 * and extraction see the same clusters and nothing of an evaluation's held-out titles.
 */
export class TokenClusters {
  readonly levels: readonly number[];
  /** Content hash: a vocabulary records which clusters its tagger was trained with. */
  readonly id: string;
  private readonly table: Map<string, Uint16Array>;

  private constructor(levels: readonly number[], table: Map<string, Uint16Array>, id: string) {
    this.levels = levels;
    this.table = table;
    this.id = id;
  }

  /** @throws ValidationError when `json` is not a cluster table. */
  static fromJSON(json: unknown): TokenClusters {
    const r = SerializedTokenClusters.safeParse(json);
    if (!r.success) {
      throw new ValidationError(
        'not a token cluster table',
        r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    const { levels, words, ids } = r.data;
    const table = new Map<string, Uint16Array>();
    words.forEach((w, i) => table.set(fold(w), Uint16Array.from(ids, (l) => l[i] as number)));
    const id = createHash('sha256').update(JSON.stringify(r.data)).digest('hex').slice(0, 16);
    return new TokenClusters(levels, table, id);
  }

  /** Reads a table file, gzip-compressed when the name ends in `.gz`. */
  static fromFile(path: string): TokenClusters {
    const raw = readFileSync(path);
    return TokenClusters.fromJSON(JSON.parse((path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')));
  }

  get size(): number {
    return this.table.size;
  }

  /** Cluster id per level, or undefined for a word outside the table. */
  clustersOf(word: string): Uint16Array | undefined {
    return this.table.get(fold(word));
  }
}
