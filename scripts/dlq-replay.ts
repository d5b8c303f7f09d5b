/**
 * `./dev dlq replay <topic> [options]`: puts the records consumers sent to `<topic>.dlq` back
 * on `<topic>` once the cause is fixed (docs/operations.md "Replaying a DLQ after a fix").
 *
 *   --code CODE          only records whose errorCode is CODE (e.g. VALIDATION, BUG); repeatable
 *   --error-class NAME   only records whose errorClass is NAME (e.g. ValidationError); repeatable
 *   --group GROUP        only records rejected by consumer group GROUP; repeatable
 *   --dry-run            print what would be replayed; produce nothing, mark nothing
 *   --force              replay records that an earlier run already replayed
 *   --json               print the report as JSON
 *
 * `<topic>` is the base name (`interactions.v1`; a trailing `.dlq` is ignored); the deployment's
 * AFFINITY_TOPIC_PREFIX is applied. Each rejected record is re-produced as it was read: the
 * same key and value bytes, its headers, to the partition it was read from, plus a header
 * `affinity-replay-of: <topic>/<partition>/<offset>` naming the original. A record rejected by
 * several consumer groups is replayed once. What cannot be replayed faithfully (a value or key
 * kept only as a prefix, headers cut, bytes that do not match their sha256) is reported with
 * where the whole record is, never skipped silently. Replayed records are marked in Redis
 * (after the broker acknowledged them) for as long as the DLQ keeps the record, so running
 * the command again replays only what is new. Exit code: 0 done, 1 failed, 2 bad usage,
 * 3 done but some selected records could not be replayed.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ConfigError, DLQ_SUFFIX, DlqRecord, ValidationError, dlqName, parseJsonBytes, parseWith, sha256Hex } from '@affinity/contracts';
import { KeySpace, LuaScript, createRedis, type Redis } from '@affinity/store';
import { createKafka, createLogger, kafkaSecurity, parseEnv, redisConnection, type Logger } from '@affinity/stream';
import { operatorEnv } from './operator-env';
import type { Admin, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';

/** The header a replayed record carries: where the original was (`<topic>/<partition>/<offset>`). */
export const REPLAY_HEADER = 'affinity-replay-of';

export interface DlqReplayOptions {
  kafka: Kafka;
  redis: Redis;
  /** Replay markers and the lock live under this prefix (REDIS_PREFIX). */
  keys: KeySpace;
  /** The source topic as consumers read it (prefix applied); its DLQ is `<topic>.dlq`. */
  topic: string;
  /** Only records with one of these error codes. @defaultValue every code */
  codes?: readonly string[];
  /** Only records with one of these error classes. @defaultValue every class */
  errorClasses?: readonly string[];
  /** Only records rejected by one of these consumer groups. @defaultValue every group */
  groups?: readonly string[];
  /** Report only: produce nothing, mark nothing. @defaultValue false */
  dryRun?: boolean;
  /** Replay records an earlier run already replayed. @defaultValue false */
  force?: boolean;
  /** Give up when the DLQ makes no reading progress for this long (ms). @defaultValue 60000 */
  idleTimeoutMs?: number;
  logger: Logger;
}

interface CompiledReplayOptions extends Required<Omit<DlqReplayOptions, 'codes' | 'errorClasses' | 'groups'>> {
  codes: ReadonlySet<string> | undefined;
  errorClasses: ReadonlySet<string> | undefined;
  groups: ReadonlySet<string> | undefined;
}

function compileReplayOptions(o: DlqReplayOptions): CompiledReplayOptions {
  const set = (xs: readonly string[] | undefined) => (xs === undefined || xs.length === 0 ? undefined : new Set(xs));
  const idleTimeoutMs = o.idleTimeoutMs ?? 60_000;
  if (!(idleTimeoutMs > 0)) throw new RangeError('idleTimeoutMs must be positive');
  return { ...o, codes: set(o.codes), errorClasses: set(o.errorClasses), groups: set(o.groups), dryRun: o.dryRun ?? false, force: o.force ?? false, idleTimeoutMs };
}

/** One rejected source record, as the report shows it. */
export interface ReplayEntry {
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  /** Where its (first) DLQ record is. */
  dlqPartition: number;
  dlqOffset: string;
  /** The source key as text (what the DLQ kept of it), null for none. */
  key: string | null;
  /** Every consumer group that rejected it (one DLQ record each). */
  groups: string[];
  errorCode: string;
  errorClass: string;
  message: string;
}

export interface ReplayReport {
  topic: string;
  dlqTopic: string;
  dryRun: boolean;
  /** DLQ records read (up to the end offsets seen at the start). */
  read: number;
  /** Produced to the topic (with `dryRun`: would be). */
  replayed: ReplayEntry[];
  /** Selected but not replayable, with why and where the whole record is. */
  notReplayable: (ReplayEntry & { why: string })[];
  /** Replayed by an earlier run (replay them again with `force`). */
  alreadyReplayed: ReplayEntry[];
  /** DLQ records the filters left out. */
  filteredOut: number;
  /** DLQ records that could not be parsed as DLQ records, with where they are. */
  unreadable: { dlqPartition: number; dlqOffset: string; why: string }[];
}

interface Payload {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** A base64 field of a DLQ record checked against its recorded size and digest (absent in records from before they existed). */
function restore(data: string | null, size: number | null | undefined, digest: string | null | undefined, what: string): Buffer | null | string {
  if (data === null) {
    if (size === null || size === undefined) return null;
    if (size === 0) return Buffer.alloc(0);
    return `${what} was not kept (${size} bytes, sha256 ${digest ?? '?'}): the broker refused the full DLQ record, so a minimal one was written`;
  }
  const bytes = Buffer.from(data, 'base64');
  if (size !== null && size !== undefined && bytes.length !== size) return `${what} is ${bytes.length} bytes but the DLQ record says ${size}`;
  if (digest !== null && digest !== undefined && sha256Hex(bytes) !== digest) return `${what} does not match its recorded sha256 ${digest}`;
  return bytes;
}

/** The original record, or why it cannot be rebuilt byte for byte. */
function payloadOf(r: DlqRecord): Payload | string {
  const where = `the whole record is at ${r.sourceTopic} partition ${r.sourcePartition} offset ${r.sourceOffset} while the topic retains it`;
  if (r.truncated.includes('value') && r.value !== null) {
    return `value truncated: the DLQ kept the first ${Buffer.from(r.value, 'base64').length} of ${r.valueBytes ?? '?'} bytes (sha256 ${r.valueSha256 ?? '?'}); ${where}`;
  }
  if (r.truncated.includes('key')) return `key truncated: the DLQ kept ${r.key === null ? 0 : Buffer.from(r.key, 'base64').length} of ${r.keyBytes ?? '?'} bytes; ${where}`;
  if (r.truncated.includes('headers')) return `headers truncated or left out (${Object.keys(r.headers).length} kept); ${where}`;
  const key = restore(r.key, r.keyBytes, r.keySha256, 'key');
  if (typeof key === 'string') return `${key}; ${where}`;
  const value = restore(r.value, r.valueBytes, r.valueSha256, 'value');
  if (typeof value === 'string') return `${value}; ${where}`;
  return { key, value, headers: r.headers };
}

// Deletes the lock only if it is still ours. KEYS: lock. ARGV: token.
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);
// Extends the lock only if it is still ours. KEYS: lock. ARGV: token, ttl ms.
const EXTEND = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);
const LOCK_TTL_MS = 120_000;

/** How long a marker must outlive its replay: as long as the DLQ keeps the record, plus a day. Undefined: forever. */
async function markerTtlSeconds(admin: Admin, dlqTopic: string): Promise<number | undefined> {
  const thirtyOneDays = 31 * 24 * 3600;
  try {
    const described = await admin.describeConfigs({ resources: [{ type: 2, name: dlqTopic, configNames: ['retention.ms'] }], includeSynonyms: false });
    const ms = Number(described.resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue);
    if (ms === -1) return undefined;
    return Number.isFinite(ms) && ms > 0 ? Math.ceil(ms / 1000) + 24 * 3600 : thirtyOneDays;
  } catch {
    return thirtyOneDays;
  }
}

/** A state per source record: a record rejected by several groups has one DLQ record per group. */
type Seen = { status: 'replayed' | 'already' | 'not-replayable' | 'filtered'; entry: ReplayEntry };

/**
 * Reads `<topic>.dlq` from its start to the end offsets seen when called, and re-produces the
 * selected records to `<topic>` (see the file comment). At-least-once: a crash between the
 * broker's acknowledgement and the marker means the next run replays those records again,
 * which consumers absorb as they absorb any redelivery (event ids, newest-wins).
 */
export async function replayDlq(options: DlqReplayOptions): Promise<ReplayReport> {
  const o = compileReplayOptions(options);
  const dlqTopic = dlqName(o.topic);
  const report: ReplayReport = { topic: o.topic, dlqTopic, dryRun: o.dryRun, read: 0, replayed: [], notReplayable: [], alreadyReplayed: [], filteredOut: 0, unreadable: [] };
  const admin = o.kafka.admin();
  await admin.connect();
  const lockKey = o.keys.key('dlq-replay', 'lock', o.topic);
  const token = randomBytes(12).toString('hex');
  let locked = false;
  let producer: Producer | undefined;
  const groupId = `affinity-dlq-replay-${randomBytes(6).toString('hex')}`;
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(dlqTopic)) {
      const dlqs = topics.filter((t) => t.endsWith(DLQ_SUFFIX)).sort();
      throw new ConfigError(`no topic ${dlqTopic}; name a topic that has a DLQ${dlqs.length > 0 ? ` (these do: ${dlqs.map((t) => t.slice(0, -DLQ_SUFFIX.length)).join(', ')})` : ''}`);
    }
    if (!topics.includes(o.topic)) throw new ConfigError(`no topic ${o.topic} to replay into; create it first (the services do at start)`);
    const partitions = (await admin.fetchTopicMetadata({ topics: [o.topic] })).topics[0]!.partitions.length;
    const ends = new Map((await admin.fetchTopicOffsets(dlqTopic)).map((p) => [p.partition, { low: BigInt(p.low), high: BigInt(p.high) }]));
    const ttl = o.dryRun ? undefined : await markerTtlSeconds(admin, dlqTopic);
    if (!o.dryRun) {
      if ((await o.redis.set(lockKey, token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
        throw new ConfigError(`another replay of ${o.topic} is running (Redis key ${lockKey}); wait for it to finish (the lock expires ${LOCK_TTL_MS / 1000} s after its owner stops)`);
      }
      locked = true;
      producer = o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
    }
    const seen = new Map<string, Seen>();
    const marker = (e: { sourceTopic: string; sourcePartition: number; sourceOffset: string }) => o.keys.key('dlq-replay', 'done', e.sourceTopic, e.sourcePartition, e.sourceOffset);

    /** Handles one fetched batch of DLQ records, in offset order. */
    const handle = async (dlqPartition: number, messages: readonly KafkaMessage[]): Promise<void> => {
      // Held while we read, too: a long stretch of records left out must not let a second run start.
      if (locked && (await EXTEND.run(o.redis, [lockKey], [token, LOCK_TTL_MS])) !== 1) throw new Error(`lost the replay lock ${lockKey}; another replay may have started`);
      const candidates: { entry: ReplayEntry; payload: Payload }[] = [];
      for (const m of messages) {
        report.read++;
        let r: DlqRecord;
        try {
          if (m.value === null) throw new ValidationError('null value');
          r = parseWith(DlqRecord, parseJsonBytes(m.value), 'DLQ record');
        } catch (err) {
          report.unreadable.push({ dlqPartition, dlqOffset: m.offset, why: (err as Error).message });
          continue;
        }
        const id = `${r.sourceTopic}/${r.sourcePartition}/${r.sourceOffset}`;
        const before = seen.get(id);
        // Another group's rejection of the same source record: one replay serves every group.
        if (before !== undefined && !before.entry.groups.includes(r.consumerGroup)) before.entry.groups.push(r.consumerGroup);
        if (before?.status === 'replayed' || before?.status === 'already') continue;
        const selected = (o.codes?.has(r.errorCode) ?? true) && (o.errorClasses?.has(r.errorClass) ?? true) && (o.groups?.has(r.consumerGroup) ?? true);
        if (!selected) {
          report.filteredOut++;
          if (before === undefined) seen.set(id, { status: 'filtered', entry: entryOf(r, dlqPartition, m.offset) });
          continue;
        }
        const entry = before?.status === 'not-replayable' ? before.entry : { ...entryOf(r, dlqPartition, m.offset), groups: before?.entry.groups ?? [r.consumerGroup] };
        const payload = r.sourceTopic !== o.topic ? `it came from ${r.sourceTopic}, not ${o.topic}` : r.sourcePartition >= partitions ? `partition ${r.sourcePartition} no longer exists` : payloadOf(r);
        if (typeof payload === 'string') {
          if (before?.status !== 'not-replayable') {
            seen.set(id, { status: 'not-replayable', entry });
            report.notReplayable.push({ ...entry, why: payload });
          }
          continue;
        }
        // An earlier DLQ record of it (another group's) was not complete; this one is.
        if (before?.status === 'not-replayable') report.notReplayable = report.notReplayable.filter((n) => n.sourceTopic !== r.sourceTopic || n.sourcePartition !== r.sourcePartition || n.sourceOffset !== r.sourceOffset);
        seen.set(id, { status: 'replayed', entry });
        candidates.push({ entry, payload });
      }
      if (candidates.length === 0) return;
      const done = o.force ? candidates.map(() => null) : await o.redis.mget(...candidates.map((c) => marker(c.entry)));
      const todo = candidates.filter((c, i) => {
        if (done[i] === null) return true;
        seen.get(`${c.entry.sourceTopic}/${c.entry.sourcePartition}/${c.entry.sourceOffset}`)!.status = 'already';
        report.alreadyReplayed.push(c.entry);
        return false;
      });
      if (todo.length === 0) return;
      if (producer !== undefined) {
        const messages: Message[] = todo.map(({ entry, payload }) => ({
          key: payload.key,
          value: payload.value,
          partition: entry.sourcePartition,
          headers: { ...payload.headers, [REPLAY_HEADER]: `${entry.sourceTopic}/${entry.sourcePartition}/${entry.sourceOffset}` },
        }));
        for (let i = 0; i < messages.length; i += PER_REQUEST) await producer.send({ topic: o.topic, acks: -1, messages: messages.slice(i, i + PER_REQUEST) });
        const p = o.redis.pipeline();
        for (const { entry } of todo) {
          const value = JSON.stringify({ at: Date.now(), dlq: `${dlqTopic}/${entry.dlqPartition}/${entry.dlqOffset}` });
          if (ttl === undefined) p.set(marker(entry), value);
          else p.set(marker(entry), value, 'EX', ttl);
        }
        await p.exec();
      }
      report.replayed.push(...todo.map((t) => t.entry));
    };

    await readUpTo(o.kafka, dlqTopic, groupId, ends, handle, o.idleTimeoutMs, o.logger);
    return report;
  } finally {
    await producer?.disconnect().catch(() => undefined);
    if (locked) await RELEASE.run(o.redis, [lockKey], [token]).catch(() => undefined);
    // The reading group committed nothing; do not leave it behind in the group list.
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

function entryOf(r: DlqRecord, dlqPartition: number, dlqOffset: string): ReplayEntry {
  return {
    sourceTopic: r.sourceTopic,
    sourcePartition: r.sourcePartition,
    sourceOffset: r.sourceOffset,
    dlqPartition,
    dlqOffset,
    key: r.key === null ? null : Buffer.from(r.key, 'base64').toString('utf8'),
    groups: [r.consumerGroup],
    errorCode: r.errorCode,
    errorClass: r.errorClass,
    message: r.message,
  };
}

/**
 * Records per produce request. A replayable record is at most what a DLQ record keeps (a 128 KiB
 * value, a 1 KiB key, 32 headers of ~640 bytes), so 16 stay far below the 8 MiB batch limit of
 * the topics (MAX_BATCH_BYTES).
 */
const PER_REQUEST = 16;

/**
 * Reads every partition of `topic` from its low to the given high offsets, batch by batch, with
 * a throwaway group that commits nothing. Records produced after the start (a replayed record
 * rejected again, say) are left for the next run.
 */
async function readUpTo(
  kafka: Kafka,
  topic: string,
  groupId: string,
  ends: ReadonlyMap<number, { low: bigint; high: bigint }>,
  handle: (partition: number, messages: readonly KafkaMessage[]) => Promise<void>,
  idleTimeoutMs: number,
  logger: Logger,
): Promise<void> {
  const position = new Map([...ends].map(([p, o]) => [p, o.low]));
  const remaining = (): number[] => [...ends].filter(([p, o]) => position.get(p)! < o.high).map(([p]) => p);
  if (remaining().length === 0) return;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
  let finish!: () => void;
  let fail!: (err: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  let progressAt = Date.now();
  const idle = setInterval(() => {
    if (Date.now() - progressAt > idleTimeoutMs) fail(new Error(`reading ${topic} made no progress for ${idleTimeoutMs} ms; partitions not read to the end: ${remaining().join(', ')}`));
  }, 1000);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isStale }) => {
        try {
          const p = batch.partition;
          const end = ends.get(p)?.high;
          if (end === undefined || isStale()) return;
          const mine = batch.messages.filter((m) => BigInt(m.offset) >= position.get(p)! && BigInt(m.offset) < end);
          if (mine.length > 0) await handle(p, mine);
          const last = BigInt(batch.lastOffset()) + 1n;
          position.set(p, last > end ? end : last > position.get(p)! ? last : position.get(p)!);
          progressAt = Date.now();
          if (remaining().length === 0) finish();
        } catch (err) {
          fail(err);
        }
      },
    });
    await done;
  } finally {
    clearInterval(idle);
    await consumer.disconnect().catch((err: unknown) => logger.warn({ err }, 'disconnecting the DLQ reader failed'));
  }
}

function describe(e: ReplayEntry): string {
  const key = e.key === null ? '(no key)' : JSON.stringify(e.key.length > 64 ? `${e.key.slice(0, 64)}…` : e.key);
  const message = e.message.length > 160 ? `${e.message.slice(0, 160)}…` : e.message;
  return `${e.sourceTopic} p${e.sourcePartition}@${e.sourceOffset} key ${key} ${e.errorCode} (${e.errorClass}) by ${e.groups.join(', ')}: ${message}`;
}

/** The report as lines a person reads. */
export function formatReport(r: ReplayReport): string {
  const lines = [`${r.dlqTopic}: ${r.read} DLQ records read`];
  lines.push(`${r.dryRun ? 'would replay' : 'replayed'} ${r.replayed.length} to ${r.topic}${r.replayed.length > 0 ? ':' : ''}`);
  for (const e of r.replayed) lines.push(`  ${describe(e)}`);
  if (r.notReplayable.length > 0) {
    lines.push(`not replayable ${r.notReplayable.length}:`);
    for (const e of r.notReplayable) lines.push(`  ${describe(e)}\n    → ${e.why}`);
  }
  if (r.alreadyReplayed.length > 0) {
    lines.push(`already replayed by an earlier run ${r.alreadyReplayed.length} (--force replays them again):`);
    for (const e of r.alreadyReplayed) lines.push(`  ${describe(e)}`);
  }
  if (r.filteredOut > 0) lines.push(`left out by --code/--error-class/--group: ${r.filteredOut} DLQ records`);
  if (r.unreadable.length > 0) {
    lines.push(`unreadable DLQ records ${r.unreadable.length}:`);
    for (const u of r.unreadable) lines.push(`  ${r.dlqTopic} p${u.dlqPartition}@${u.dlqOffset}: ${u.why}`);
  }
  return lines.join('\n');
}


const USAGE = 'usage: ./dev dlq replay <topic> [--code CODE]... [--error-class NAME]... [--group GROUP]... [--dry-run] [--force] [--json]';

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        code: { type: 'string', multiple: true },
        'error-class': { type: 'string', multiple: true },
        group: { type: 'string', multiple: true },
        'dry-run': { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = args;
  if (values.help || positionals.length !== 1) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  const config = parseEnv(operatorEnv);
  const logger = createLogger('dlq-replay', config.LOG_LEVEL, { destination: process.stderr });
  const base = positionals[0]!.endsWith(DLQ_SUFFIX) ? positionals[0]!.slice(0, -DLQ_SUFFIX.length) : positionals[0]!;
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-dlq-replay`, logger, ...kafkaSecurity(config) });
  const redis = createRedis({ ...redisConnection(config), name: 'dlq-replay', onError: (err) => logger.debug({ err }, 'redis') });
  try {
    const report = await replayDlq({
      kafka,
      redis,
      keys: new KeySpace(config.REDIS_PREFIX),
      topic: `${config.AFFINITY_TOPIC_PREFIX}${base}`,
      codes: values.code,
      errorClasses: values['error-class'],
      groups: values.group,
      dryRun: values['dry-run'],
      force: values.force,
      logger,
    });
    console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
    return report.notReplayable.length > 0 || report.unreadable.length > 0 ? 3 : 0;
  } finally {
    redis.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    const prefix = process.env.AFFINITY_TOPIC_PREFIX;
    console.error(err instanceof ConfigError ? `${err.message}${prefix ? `\n(AFFINITY_TOPIC_PREFIX=${prefix} is put in front of the topic you name)` : ''}` : err);
    process.exitCode = 1;
  }
}
