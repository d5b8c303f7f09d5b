import { Gauge, type Registry } from 'prom-client';
import type { ShardManager } from './shard-manager';

/**
 * The size of the shards this instance holds, read at scrape time: vectors and estimated memory
 * per (partition, model). A partition that moved away disappears from the next scrape; summed
 * over instances (`max by (partition, model)` first, against a scrape that raced a hand-over),
 * it is the whole index.
 */
export function registerIndexSizeMetrics(shards: Pick<ShardManager, 'stats'>, registry: Registry): void {
  const each = (gauge: Gauge<'partition' | 'model'>, value: (m: ReturnType<ShardManager['stats']>[number]['models'][number]) => number) => {
    gauge.reset();
    for (const s of shards.stats()) for (const m of s.models) gauge.set({ partition: String(s.partition), model: m.modelId }, value(m));
  };
  new Gauge({
    name: 'affinity_index_vectors',
    help: 'Vectors in each shard this instance holds, by partition and embedding model',
    labelNames: ['partition', 'model'] as const,
    registers: [registry],
    collect() {
      each(this, (m) => m.size);
    },
  });
  new Gauge({
    name: 'affinity_index_memory_bytes',
    help: 'Estimated memory of each shard this instance holds, by partition and embedding model',
    labelNames: ['partition', 'model'] as const,
    registers: [registry],
    collect() {
      each(this, (m) => m.memoryBytes);
    },
  });
}
