import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { ensureTopics, topicSpecs, type TopicOptions } from '@affinity/contracts';
import { createRedis, type Redis } from '@affinity/store';
import { Kafka, logLevel, type Admin, type KafkaMessage, type Producer } from 'kafkajs';
import { afterAll, beforeAll, inject } from 'vitest';
import { type ChildWorker, ROOT, spawnTs } from './processes';
import type { StackInfo } from './stack-info';

export { ROOT, type ChildWorker };


export function stack(): StackInfo {
  return inject('stack');
}

/** A unique prefix for topics, groups and Redis keys of one test. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export function kafkaClient(clientId = 'affinity-test'): Kafka {
  return new Kafka({
    clientId,
    brokers: stack().brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 300, maxRetryTime: 3000 },
  });
}

export function redisClient(): Redis {
  return createRedis({ url: stack().redisUrl, name: 'affinity-test', maxRetriesPerRequest: 20 });
}

/** Creates the topics of packages/contracts under `prefix.` and returns an admin to clean up with. */
/**
 * A Redis client and a unique key prefix for one suite (call at module level); the prefix's keys
 * are deleted and the client closed after the suite.
 */
export function redisSuite(label: string): { readonly redis: Redis; readonly prefix: string } {
  const suite = {} as { redis: Redis; prefix: string };
  beforeAll(() => {
    suite.redis = redisClient();
    suite.prefix = uniquePrefix(label);
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(suite.redis, suite.prefix);
    suite.redis.disconnect();
  });
  return suite;
}

export async function createTopics(kafka: Kafka, options: TopicOptions): Promise<Admin> {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs(options));
  return admin;
}

export async function deleteTopicsWithPrefix(admin: Admin, prefix: string): Promise<void> {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 }).catch(() => undefined);
}

export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** What most integration suites need: a unique prefix, its topics, clients, and one cleanup. */
export interface TestEnv {
  prefix: string;
  kafka: Kafka;
  admin: Admin;
  redis: Redis;
  producer: Producer;
  /** Environment for a service process under this prefix (HTTP_PORT=0 unless given). */
  serviceEnv(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export async function openTestEnv(label: string, topics: Omit<TopicOptions, 'prefix'> = {}): Promise<TestEnv> {
  const prefix = `${uniquePrefix(label)}.`;
  const kafka = kafkaClient();
  const admin = await createTopics(kafka, { ...topics, prefix });
  const redis = redisClient();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return {
    prefix,
    kafka,
    admin,
    redis,
    producer,
    serviceEnv: (extra = {}) => ({
      KAFKA_BROKERS: stack().brokers.join(','),
      REDIS_URL: stack().redisUrl,
      AFFINITY_TOPIC_PREFIX: prefix,
      REDIS_PREFIX: `${prefix}affinity`,
      HTTP_PORT: '0',
      ...extra,
    }),
    close: async () => {
      await producer.disconnect();
      await deleteTopicsWithPrefix(admin, prefix);
      await admin.disconnect();
      await deleteKeysWithPrefix(redis, prefix);
      redis.disconnect();
    },
  };
}

/** SIGTERM (if still running) and wait. */
export async function stopWorkers(...workers: (ChildWorker | undefined)[]): Promise<(number | null)[]> {
  return Promise.all(
    workers.map(async (w) => {
      if (!w) return null;
      if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGTERM');
      return w.exited;
    }),
  );
}

/** Polls `probe` until it returns a value that `done` accepts, or throws after `timeoutMs` with the last value. */
export async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (done(last)) return last;
    } catch {
      // the service may be restarting
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Reads every record currently in `topic` (all partitions) with a throwaway group. */
export async function readAll(kafka: Kafka, topic: string, expected: number, timeoutMs = 60_000): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: KafkaMessage[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void out.push(message) });
  try {
    await waitFor(async () => out.length, (n) => n >= expected, timeoutMs, `${expected} records on ${topic}`);
    // Linger a moment so that more-than-expected shows up as a failure rather than passing.
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** Accumulates every record of a topic from the beginning, for tests that wait on conditions. */
export class TopicCollector {
  readonly messages: KafkaMessage[] = [];
  /** Date.now() when each of `messages` was received, same index. */
  readonly receivedAt: number[] = [];
  private readonly consumer;

  constructor(kafka: Kafka, private readonly topic: string) {
    this.consumer = kafka.consumer({ groupId: `collector-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 50 });
  }

  async start(): Promise<this> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        this.messages.push(message);
        this.receivedAt.push(Date.now());
      },
    });
    return this;
  }

  byKey(key: string): KafkaMessage[] {
    return this.messages.filter((m) => m.key?.toString() === key);
  }

  async waitFor(done: (messages: KafkaMessage[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    await waitFor(async () => this.messages, done, timeoutMs, what);
  }

  /**
   * Waits for the first message that matches and returns when it was received: a latency read
   * this way is not rounded up to waitFor's polling interval.
   */
  async firstArrival(match: (m: KafkaMessage) => boolean, timeoutMs: number, what: string): Promise<{ at: number; message: KafkaMessage }> {
    const i = await waitFor(async () => this.messages.findIndex(match), (at) => at >= 0, timeoutMs, what);
    return { at: this.receivedAt[i] as number, message: this.messages[i] as KafkaMessage };
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** Sum of committed offsets of a group on a topic (= records it acknowledged). */
export async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] });
  return res.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/** Starts a TypeScript entry point as a separate Node process (like production), logging to a file. */
export function spawnWorker(entry: string, env: Record<string, string>, label: string): ChildWorker {
  return spawnTs(entry, env, resolve(ROOT, '.affinity/test-logs', `${label}.log`));
}

/** Fault injection on the real services; only possible when this run manages them. */
export const faults = {
  canRestart(): boolean {
    return stack().mode !== 'env';
  },
  kafka(action: 'restart' | 'kill' | 'up'): void {
    const s = stack();
    if (s.mode === 'testcontainers') {
      docker(action, s.kafkaContainerId!);
      return;
    }
    execFileSync(resolve(ROOT, 'infra/scripts/kafka.sh'), [action], { stdio: ['ignore', 'ignore', 'inherit'] });
  },
  redis(action: 'restart' | 'kill' | 'up'): void {
    const s = stack();
    if (s.mode === 'testcontainers') {
      docker(action, s.redisContainerId!);
      return;
    }
    execFileSync(resolve(ROOT, 'infra/scripts/redis.sh'), [action], { stdio: ['ignore', 'ignore', 'inherit'] });
  },
};

function docker(action: 'restart' | 'kill' | 'up', id: string): void {
  const verb = action === 'up' ? 'start' : action;
  execFileSync('docker', [verb, id], { stdio: 'ignore' });
}
