/**
 * Enqueues a job for the jobs service.
 *   npm run enqueue -w @affinity/jobs -- backfill <model-id>
 * Prints the job id; `--wait` waits for the result.
 */
import { parseArgs } from 'node:util';
import { QUEUE, createQueue } from '@affinity/store';
import { QueueEvents } from 'bullmq';
import { queueConnection } from '@affinity/store';
import { parseEnv, redisConnection, redisEnv } from '@affinity/stream';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { wait: { type: 'boolean', default: false } } });
const [kind, modelId] = positionals;
if (kind !== 'backfill' || !modelId) {
  console.error('usage: enqueue backfill <model-id> [--wait]');
  process.exit(2);
}
// REDIS_URL, REDIS_PREFIX and the credential/TLS settings, as the services read them.
const config = parseEnv(redisEnv);
const url = redisConnection(config);
const prefix = `${config.REDIS_PREFIX}:bull`;
const queue = createQueue(QUEUE.embeddingBackfill, url, { prefix });
// One backfill per model at a time: the job id is the model id.
const job = await queue.add('backfill', { modelId }, { jobId: `backfill-${modelId}-${Date.now()}`, attempts: 5 });
console.log(`enqueued ${job.id}`);
if (values.wait) {
  const events = new QueueEvents(QUEUE.embeddingBackfill, { connection: queueConnection(url, 'enqueue-events'), prefix });
  const result: unknown = await job.waitUntilFinished(events);
  console.log(JSON.stringify(result));
  await events.close();
}
await queue.close();
