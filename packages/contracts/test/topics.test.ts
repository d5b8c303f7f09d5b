import { describe, expect, it } from 'vitest';
import { ensureTopics, topicSpecs, type TopicAdmin } from '../src/index.js';

/** An in-memory admin: the topic-creation routine is pure bookkeeping over this interface. */
function memoryAdmin(initial: Record<string, number>) {
  const topics = new Map(Object.entries(initial));
  const created: { topic: string; numPartitions: number; configEntries?: { name: string; value: string }[] }[] = [];
  const admin: TopicAdmin = {
    listTopics: async () => [...topics.keys()],
    createTopics: async ({ topics: ts }) => {
      for (const t of ts) {
        topics.set(t.topic, t.numPartitions);
        created.push(t);
      }
      return true;
    },
    fetchTopicMetadata: async ({ topics: names }) => ({
      topics: names.map((name) => ({ name, partitions: Array.from({ length: topics.get(name) ?? 0 }, (_, i) => ({ partitionId: i })) })),
    }),
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
});
