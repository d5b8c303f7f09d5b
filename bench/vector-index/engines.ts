import { createRequire } from 'node:module';
import { VectorShard, type ItemAttributes, type SearchStrategy, type VectorShardOptions } from '@affinity/vector-index';

/** One ANN index under test, behind the same narrow surface. Ids are vector indices. */
export interface Engine {
  readonly name: string;
  /** Inserts vectors[from..to). */
  add(vectors: readonly Float32Array[], from: number, to: number): void;
  setEf(ef: number): void;
  search(q: Float32Array, k: number): number[];
  memoryBytes(): number | null;
}

export interface HnswParams {
  dim: number;
  capacity: number;
  M: number;
  efConstruction: number;
  seed: number;
}

const require = createRequire(import.meta.url);

export class ShardEngine implements Engine {
  readonly shard: VectorShard;
  private ef: number;

  constructor(
    readonly name: string,
    p: HnswParams,
    extra: Partial<VectorShardOptions> = {},
    private readonly strategy: SearchStrategy = 'graph',
    private readonly attributes?: (i: number) => ItemAttributes,
  ) {
    this.shard = new VectorShard({ dim: p.dim, M: p.M, efConstruction: p.efConstruction, seed: p.seed, initialCapacity: p.capacity, ...extra });
    this.ef = this.shard.options.ef;
  }

  add(vectors: readonly Float32Array[], from: number, to: number): void {
    for (let i = from; i < to; i++) this.shard.upsert(String(i), vectors[i]!, this.attributes?.(i));
  }

  setEf(ef: number): void {
    this.ef = ef;
  }

  search(q: Float32Array, k: number): number[] {
    return this.shard.search(q, k, { ef: this.ef, strategy: this.strategy }).map((h) => Number(h.id));
  }

  memoryBytes(): number {
    return this.shard.memoryBytes();
  }
}

interface HnswlibIndex {
  initIndex(maxElements: number, m: number, efConstruction: number, randomSeed: number, allowReplaceDeleted: boolean): void;
  addPoint(point: number[], label: number, replaceDeleted?: boolean): void;
  markDelete(label: number): void;
  searchKnn(q: number[], k: number, filter?: (label: number) => boolean): { neighbors: number[]; distances: number[] };
  setEf(ef: number): void;
  writeIndexSync(path: string): void;
  readIndexSync(path: string, allowReplaceDeleted?: boolean): void;
}

/** hnswlib-node as a JS caller uses it: vectors must be plain number arrays (converted outside the timers). */
export class HnswlibEngine implements Engine {
  readonly name = 'hnswlib-node';
  readonly index: HnswlibIndex;
  private readonly arrays = new WeakMap<Float32Array, number[]>();

  constructor(p: HnswParams) {
    const lib = require('hnswlib-node') as { HierarchicalNSW: new (space: string, dim: number) => HnswlibIndex };
    this.index = new lib.HierarchicalNSW('cosine', p.dim);
    this.index.initIndex(p.capacity, p.M, p.efConstruction, p.seed, true);
  }

  static available(): string | null {
    try {
      require('hnswlib-node');
      return null;
    } catch (err) {
      return err instanceof Error ? err.message.split('\n')[0]! : String(err);
    }
  }

  /** Pre-converts vectors to number[] so timings measure the library, not Array.from. */
  prepare(vectors: readonly Float32Array[]): void {
    for (const v of vectors) if (!this.arrays.has(v)) this.arrays.set(v, Array.from(v));
  }

  private arr(v: Float32Array): number[] {
    return this.arrays.get(v) ?? Array.from(v);
  }

  add(vectors: readonly Float32Array[], from: number, to: number): void {
    for (let i = from; i < to; i++) this.index.addPoint(this.arr(vectors[i]!), i, true);
  }

  /** Adds under `label`, reusing a deleted slot when there is one. */
  addLabel(v: Float32Array, label: number): void {
    this.index.addPoint(this.arr(v), label, true);
  }

  setEf(ef: number): void {
    this.index.setEf(ef);
  }

  search(q: Float32Array, k: number, filter?: (label: number) => boolean): number[] {
    return this.index.searchKnn(this.arr(q), k, filter).neighbors;
  }

  memoryBytes(): null {
    return null;
  }
}

interface UsearchIndex {
  add(keys: bigint, vector: Float32Array): void;
  search(q: Float32Array, k: number, threads: number): { keys: BigUint64Array };
  size(): number;
  save(path: string): void;
}

/** usearch (prebuilt N-API binary); its JS API takes ef at construction and has no filter predicate. */
export class UsearchEngine implements Engine {
  readonly name: string;
  private readonly index: UsearchIndex;

  constructor(p: HnswParams, ef: number, quantization: 'f32' | 'i8' = 'f32') {
    const lib = require('usearch') as { Index: new (config: Record<string, unknown>) => UsearchIndex };
    this.name = `usearch (${quantization}, ef ${ef})`;
    this.index = new lib.Index({ dimensions: p.dim, metric: 'cos', quantization, connectivity: p.M, expansion_add: p.efConstruction, expansion_search: ef, multi: false });
  }

  static available(): string | null {
    try {
      require('usearch');
      return null;
    } catch (err) {
      return err instanceof Error ? err.message.split('\n')[0]! : String(err);
    }
  }

  add(vectors: readonly Float32Array[], from: number, to: number): void {
    for (let i = from; i < to; i++) this.index.add(BigInt(i), vectors[i]!);
  }

  setEf(): void {
    // Fixed at construction in the JS binding.
  }

  search(q: Float32Array, k: number): number[] {
    return Array.from(this.index.search(q, k, 1).keys, Number);
  }

  memoryBytes(): null {
    return null;
  }

  save(path: string): void {
    this.index.save(path);
  }
}
