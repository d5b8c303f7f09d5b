import { mkdir, readFile, rename, rm, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError, type EnrichedEvent } from '@affinity/contracts';
import type { ConsumedEvent, Logger } from '@affinity/stream';
import { VectorShard, attributesFromProduct, type SearchFilter, type SearchHit, type VectorShardOptions } from '@affinity/vector-index';
import type { Histogram } from 'prom-client';

/** Which snapshot files make up a partition's state and where replay resumes. */
interface Manifest {
  partition: number;
  /** Next offset to consume after restoring. */
  offset: string;
  createdAt: number;
  models: { modelId: string; file: string; size: number }[];
}

interface PartitionState {
  partition: number;
  shards: Map<string, VectorShard>;
  /** Next offset after the last applied record. */
  nextOffset: string;
  /** Offset of the last snapshot. */
  snapshotOffset: string;
  /** Serializes apply and snapshot on this partition. */
  lock: Promise<void>;
}

export interface ShardManagerOptions {
  dir: string;
  /** Options for new shards (dim comes from the first vector of each model). */
  shard: Omit<VectorShardOptions, 'dim'>;
  /** Model ids to index; empty = all. */
  models: readonly string[];
  logger: Logger;
  freshness: Histogram<string>;
}

const safe = (modelId: string): string => modelId.replace(/[^A-Za-z0-9._-]/g, '_');

/**
 * The shards this instance holds: one {@link VectorShard} per (partition, embedding model).
 * Per-partition state is restored from the newest snapshot on assignment and replay resumes
 * at the offset the snapshot reflects; re-applying a suffix of a partition's log in order is
 * harmless because every record of a product lives in one partition, in order.
 */
export class ShardManager {
  private readonly partitions = new Map<number, PartitionState>();

  constructor(private readonly options: ShardManagerOptions) {}

  owned(): number[] {
    return [...this.partitions.keys()].sort((a, b) => a - b);
  }

  has(partition: number): boolean {
    return this.partitions.has(partition);
  }

  private partitionDir(partition: number): string {
    return join(this.options.dir, `p${partition}`);
  }

  /** Restores a partition from its newest snapshot; returns the offset to resume at, or undefined if there is none. */
  async restore(partition: number): Promise<string | undefined> {
    const dir = this.partitionDir(partition);
    let manifest: Manifest | undefined;
    try {
      manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    } catch {
      manifest = undefined;
    }
    const shards = new Map<string, VectorShard>();
    if (manifest) {
      for (const m of manifest.models) {
        shards.set(m.modelId, await VectorShard.restore(join(dir, m.file)));
      }
    }
    const offset = manifest?.offset ?? '0';
    this.partitions.set(partition, { partition, shards, nextOffset: offset, snapshotOffset: offset, lock: Promise.resolve() });
    this.options.logger.info({ partition, offset, models: manifest?.models ?? [] }, manifest ? 'restored shard from snapshot' : 'no snapshot; starting empty');
    return manifest?.offset;
  }

  /** Snapshots (if changed) and forgets a partition that moved to another instance. */
  async drop(partition: number): Promise<void> {
    const state = this.partitions.get(partition);
    if (!state) return;
    await this.snapshot(partition).catch((err: unknown) => this.options.logger.warn({ err, partition }, 'snapshot on revocation failed'));
    this.partitions.delete(partition);
  }

  /** Applies enriched events of one partition in order. Throws ValidationError for a dimension mismatch (DLQ). */
  async apply(partition: number, events: readonly ConsumedEvent<EnrichedEvent>[], lastOffset: string): Promise<void> {
    const state = this.partitions.get(partition);
    if (!state) throw new Error(`partition ${partition} is not held by this instance`);
    await this.locked(state, async () => {
      const now = Date.now();
      for (const e of events) {
        const v = e.value;
        if (v.type === 'product.delete') {
          for (const shard of state.shards.values()) shard.delete(v.productId);
          continue;
        }
        const modelId = v.embedding.modelId;
        if (this.options.models.length > 0 && !this.options.models.includes(modelId)) continue;
        let shard = state.shards.get(modelId);
        if (!shard) {
          shard = new VectorShard({ ...this.options.shard, dim: v.embedding.dim });
          state.shards.set(modelId, shard);
        }
        if (shard.dim !== v.embedding.dim) {
          throw new ValidationError(`embedding of ${v.productId} has dim ${v.embedding.dim} but model ${modelId} has dim ${shard.dim}`);
        }
        // A product moving from a model we index to none of ours is not our business; within a model, replace.
        shard.upsert(v.productId, v.embedding.vector, attributesFromProduct(v));
        this.options.freshness.observe(Math.max(0, now - v.enrichedAt) / 1000);
      }
      state.nextOffset = (BigInt(lastOffset) + 1n).toString();
    });
  }

  search(partition: number, modelId: string, vector: Float32Array, k: number, opts: { filter?: SearchFilter; ef?: number }): SearchHit[] | undefined {
    const state = this.partitions.get(partition);
    if (!state) return undefined;
    const shard = state.shards.get(modelId);
    if (!shard) return [];
    if (shard.dim !== vector.length) throw new ValidationError(`query has ${vector.length} dimensions; model ${modelId} has ${shard.dim}`);
    return shard.search(vector, k, { filter: opts.filter, ef: opts.ef });
  }

  /** Writes every model's shard of the partition plus a manifest, atomically, if anything changed. */
  async snapshot(partition: number, force = false): Promise<boolean> {
    const state = this.partitions.get(partition);
    if (!state) return false;
    return this.locked(state, async () => {
      if (!force && state.nextOffset === state.snapshotOffset) return false;
      const dir = this.partitionDir(partition);
      await mkdir(dir, { recursive: true });
      const stamp = `${Date.now()}`;
      const models: Manifest['models'] = [];
      for (const [modelId, shard] of state.shards) {
        const file = `${safe(modelId)}.${stamp}.snap`;
        await shard.snapshot(join(dir, file), { offset: state.nextOffset, partition, modelId, dim: shard.dim });
        models.push({ modelId, file, size: shard.size });
      }
      const manifest: Manifest = { partition, offset: state.nextOffset, createdAt: Date.now(), models };
      const tmp = join(dir, `manifest.json.${stamp}.tmp`);
      await writeFile(tmp, JSON.stringify(manifest));
      const fh = await open(tmp, 'r');
      await fh.sync();
      await fh.close();
      let previous: Manifest | undefined;
      try {
        previous = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
      } catch {
        previous = undefined;
      }
      await rename(tmp, join(dir, 'manifest.json'));
      const dh = await open(dir, 'r');
      await dh.sync().catch(() => undefined);
      await dh.close();
      // Old files are only removed after the new manifest is durable.
      for (const m of previous?.models ?? []) if (!models.some((n) => n.file === m.file)) await rm(join(dir, m.file), { force: true });
      state.snapshotOffset = state.nextOffset;
      return true;
    });
  }

  stats(): { partition: number; nextOffset: string; snapshotOffset: string; models: { modelId: string; size: number; memoryBytes: number }[] }[] {
    return this.owned().map((p) => {
      const s = this.partitions.get(p)!;
      return {
        partition: p,
        nextOffset: s.nextOffset,
        snapshotOffset: s.snapshotOffset,
        models: [...s.shards].map(([modelId, shard]) => ({ modelId, size: shard.size, memoryBytes: shard.memoryBytes() })),
      };
    });
  }

  private locked<T>(state: PartitionState, fn: () => Promise<T>): Promise<T> {
    const run = state.lock.then(fn);
    state.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
