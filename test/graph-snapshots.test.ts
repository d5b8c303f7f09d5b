import { parseWith, Interaction } from '@affinity/contracts';
import { BehaviourGraph, IncrementalFastRP } from '@affinity/graph';
import { digineticaInteractions } from '@affinity/sample-data';
import { KeySpace } from '@affinity/store';
import { describe, expect, it, vi } from 'vitest';
import { GraphSnapshots } from '../services/graph/src/graph-snapshots';
import { redisSuite } from './support/harness';

const suite = redisSuite('graphsnap');
const events = digineticaInteractions()
  .slice(0, 1200)
  .map((e) => parseWith(Interaction, e));


async function leader(name: string, instance: string) {
  const keys = new KeySpace(`${suite.prefix}:${name}`);
  const leaseKey = keys.key('graph', 'lease');
  await suite.redis.set(leaseKey, instance);
  const graph = new BehaviourGraph({ halfLifeMs: 14 * 24 * 3600 * 1000 });
  const fastrp = await IncrementalFastRP.create(graph, { dim: 32 });
  return { snapshots: new GraphSnapshots(suite.redis, keys, leaseKey, instance), graph, fastrp, keys, leaseKey };
}

describe('graph snapshots on real Redis', () => {
  it('records the offsets of the state it saved, even while events keep being applied during the write', async () => {
    const { snapshots, graph, fastrp } = await leader('race', 'a');
    const offsets = new Map<number, string>();
    fastrp.update(graph.apply(events.slice(0, 600)));
    offsets.set(0, '600');
    const nodes = graph.nodeCount;
    const saving = snapshots.save(graph, fastrp, offsets);
    // The handler goes on while the chunks are written.
    fastrp.update(graph.apply(events.slice(600)));
    offsets.set(0, '1200');
    expect(await saving).toBe('saved');
    const restored = await snapshots.load({ dim: 32 });
    expect(restored!.offsets).toEqual(new Map([[0, '600']]));
    expect(restored!.graph.nodeCount).toBe(nodes);
    // Replaying from the restored offset gives the graph of a single pass.
    restored!.graph.apply(events.slice(600));
    const { memoryBytes: _a, ...after } = restored!.graph.stats();
    const { memoryBytes: _b, ...single } = graph.stats();
    expect(after).toEqual(single);
  });

  it('a slower, older save never replaces a newer snapshot; a fenced leader commits nothing', async () => {
    const { snapshots, graph, fastrp, keys, leaseKey } = await leader('order', 'a');
    fastrp.update(graph.apply(events.slice(0, 900)));
    expect(await snapshots.save(graph, fastrp, new Map([[0, '900']]))).toBe('saved');
    // A save of the same instance that started a minute earlier and only now commits.
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now - 60_000);
    const slow = new GraphSnapshots(suite.redis, keys, leaseKey, 'a');
    const older = slow.save(graph, fastrp, new Map([[0, '300']]));
    clock.mockRestore();
    expect(await older).toBe('superseded');
    expect((await snapshots.load({ dim: 32 }))!.offsets).toEqual(new Map([[0, '900']]));
    // Only one generation's chunks remain.
    const chunkKeys = await suite.redis.keys(`${suite.prefix}:order:graph:snap:*`);
    expect(new Set(chunkKeys.map((k) => k.split(':snap:')[1]!.split(':')[0])).size).toBe(1);

    await suite.redis.set(leaseKey, 'b');
    expect(await snapshots.save(graph, fastrp, new Map([[0, '1200']]))).toBe('lease-lost');
    expect((await snapshots.load({ dim: 32 }))!.offsets).toEqual(new Map([[0, '900']]));
  });
});
