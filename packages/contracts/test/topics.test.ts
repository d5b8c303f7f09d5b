import { describe, expect, it } from 'vitest';
import { ensureTopics, topicSpecs, type TopicAdmin } from '../src/index.js';

/** An in-memory admin: the topic-creation routine is pure bookkeeping over this interface. */
function memoryAdmin(initial: Record<string, number>, options: { unknownAfterCreate?: number } = {}) {
  const topics = new Map(Object.entries(initial));
  /** Metadata answers "unknown" this many times after a create, as a KRaft broker may. */
  let lagging = 0;
  const created: { topic: string; numPartitions: number; configEntries?: { name: string; value: string }[] }[] = [];
  const admin: TopicAdmin = {
    listTopics: async () => [...topics.keys()],
    createTopics: async ({ topics: ts }) => {
      for (const t of ts) {
        topics.set(t.topic, t.numPartitions);
        created.push(t);
      }
      lagging = options.unknownAfterCreate ?? 0;
      if (lagging > 0) throw Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
      return true;
    },
    fetchTopicMetadata: async ({ topics: names }) => {
      if (lagging > 0) {
        lagging--;
        throw Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
      }
      return { topics: names.map((name) => ({ name, partitions: Array.from({ length: topics.get(name) ?? 0 }, (_, i) => ({ partitionId: i, leader: 1 })) })) };
    },
  };
  return { admin, topics, created };
}

describe('ensureTopics', () => {
  it('creates every missing topic with its partition count and cleanup policy', async () => {
    const specs = topicSpecs({ prefix: 't.' });
    const { admin, topics, created } = memoryAdmin({});
    const result = await ensureTopics(admin, specs);
    expect(result.created.sort()).toEqual(specs.map((s) => s.name).sort());
    expect(result.mismatched).toEqual([]);
    for (const s of specs) expect(topics.get(s.name)).toBe(s.partitions);
    const compacted = created.filter((c) => c.configEntries?.some((e) => e.name === 'cleanup.policy' && e.value.includes('compact')));
    expect(compacted.map((c) => c.topic).sort()).toEqual(specs.filter((s) => s.cleanupPolicy.includes('compact')).map((s) => s.name).sort());
  });

  it('never changes an existing topic: a different partition count is reported, not grown', async () => {
    const specs = topicSpecs({ prefix: 't.' });
    const first = specs[0]!;
    const { admin, topics } = memoryAdmin({ [first.name]: first.partitions - 2 });
    const result = await ensureTopics(admin, specs);
    expect(result.created).not.toContain(first.name);
    expect(topics.get(first.name)).toBe(first.partitions - 2);
    expect(result.mismatched).toEqual([{ topic: first.name, partitions: first.partitions - 2, expected: first.partitions }]);
    const again = await ensureTopics(admin, specs);
    expect(again.created).toEqual([]);
  });

  it('waits out a broker that does not know a topic it has just created, and gives up with that error', async () => {
    const specs = topicSpecs({ prefix: 't.' });
    const lagging = memoryAdmin({}, { unknownAfterCreate: 3 });
    const result = await ensureTopics(lagging.admin, specs);
    expect(result.created.sort()).toEqual(specs.map((s) => s.name).sort());
    const stuck = memoryAdmin({}, { unknownAfterCreate: 1_000_000 });
    await expect(ensureTopics(stuck.admin, specs, { leaderWaitMs: 300 })).rejects.toThrow(/does not host/);
    const broken = memoryAdmin({});
    broken.admin.createTopics = async () => {
      throw Object.assign(new Error('Topic authorization failed'), { type: 'TOPIC_AUTHORIZATION_FAILED' });
    };
    await expect(ensureTopics(broken.admin, specs)).rejects.toThrow(/authorization/);
  });
});
