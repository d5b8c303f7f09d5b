import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerIndexSizeMetrics } from '../src/index-metrics';
import type { ShardManager } from '../src/shard-manager';

type Stats = ReturnType<ShardManager['stats']>;

describe('index size metrics', () => {
  it('report the vectors and memory of every shard held at scrape time, and forget a partition that moved away', async () => {
    let stats: Stats = [
      { partition: 0, nextOffset: '10', snapshotOffset: '5', models: [{ modelId: 'm1', size: 7, memoryBytes: 7000 }, { modelId: 'm2', size: 3, memoryBytes: 900 }] },
      { partition: 3, nextOffset: '4', snapshotOffset: '4', models: [{ modelId: 'm1', size: 4, memoryBytes: 4000 }] },
    ];
    const registry = new Registry();
    registerIndexSizeMetrics({ stats: () => stats }, registry);
    const read = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.map((v) => `${v.labels.partition}/${v.labels.model}=${v.value}`).sort();
    expect(await read('affinity_index_vectors')).toEqual(['0/m1=7', '0/m2=3', '3/m1=4']);
    expect(await read('affinity_index_memory_bytes')).toEqual(['0/m1=7000', '0/m2=900', '3/m1=4000']);
    stats = [stats[1]!];
    expect(await read('affinity_index_vectors')).toEqual(['3/m1=4']);
    expect(await registry.metrics()).toContain('affinity_index_vectors{partition="3",model="m1"} 4');
  });
});
