/**
 * `./dev status --caught-up [--wait] [--timeout S] [--json]`: has the pipeline caught up? Every
 * committing consumer group's lag (committed offsets vs log end offsets), the recommender's
 * queue of lists to recompute, and pipeline jobs in BullMQ: the `PipelineBacklog` of
 * packages/client that the demo, the tests and the benchmarks wait on.
 *
 * Reads KAFKA_BROKERS, REDIS_URL, AFFINITY_TOPIC_PREFIX and REDIS_PREFIX from the environment
 * (defaults: the local stack, no prefix, `affinity`). Exit code: 0 caught up, 1 not (with
 * --wait: not within the timeout), 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { PipelineBacklog, describeBacklog, type Backlog } from '@affinity/client';
import { createRedis } from '@affinity/store';
import { createKafka, createLogger, kafkaSecurity, parseEnv, redisConnection } from '@affinity/stream';
import { operatorEnv } from './operator-env';

const USAGE = 'usage: ./dev status --caught-up [--wait] [--timeout SECONDS] [--json]';


/** The backlog as a few readable lines. */
export function formatBacklog(b: Backlog): string {
  const lines = [b.caughtUp ? 'caught up' : `not caught up: ${describeBacklog(b)}`];
  for (const g of b.groups) lines.push(`  ${g.group.padEnd(36)} ${g.topic.padEnd(40)} lag ${g.lag}`);
  lines.push(`  lists pending: high ${b.pendingLists.high}, low ${b.pendingLists.low}`);
  for (const [queue, n] of Object.entries(b.jobs)) lines.push(`  jobs ${queue}: ${n}`);
  if (b.missingTopics.length > 0) lines.push(`  no such topic (nothing produced yet, or another AFFINITY_TOPIC_PREFIX?): ${b.missingTopics.join(', ')}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'caught-up': { type: 'boolean', default: true },
        wait: { type: 'boolean', default: false },
        timeout: { type: 'string', default: '600' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const timeoutS = Number(values.timeout);
  if (!(timeoutS > 0)) {
    console.error(`--timeout must be a positive number of seconds\n${USAGE}`);
    return 2;
  }
  const config = parseEnv(operatorEnv);
  const logger = createLogger('caught-up', config.LOG_LEVEL, { destination: process.stderr });
  const admin = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-status`, logger, ...kafkaSecurity(config) }).admin();
  const redis = createRedis({ ...redisConnection(config), name: 'caught-up', onError: (err) => logger.debug({ err }, 'redis') });
  const backlog = new PipelineBacklog({ admin, redis, topicPrefix: config.AFFINITY_TOPIC_PREFIX, redisPrefix: config.REDIS_PREFIX });
  try {
    await admin.connect();
    let b: Backlog;
    if (values.wait) {
      try {
        b = await backlog.waitUntilCaughtUp({ timeoutMs: timeoutS * 1000, pollMs: 500 });
      } catch {
        b = await backlog.read();
      }
    } else {
      b = await backlog.read();
    }
    console.log(values.json ? JSON.stringify(b, null, 2) : formatBacklog(b));
    return b.caughtUp ? 0 : 1;
  } finally {
    await backlog.close();
    await admin.disconnect();
    redis.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  }
}
