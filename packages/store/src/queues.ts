import { Queue, Worker, type Processor, type QueueOptions, type WorkerOptions } from 'bullmq';
import { createRedis, type Redis, type RedisConnection } from './redis-client';

export { Queue, Worker, type Job } from 'bullmq';

/** BullMQ queue names used across services (jobs service runs their workers). */
export const QUEUE = {
  /** Full FastRP recomputation when incremental drift passed its threshold. */
  fastrpRecompute: 'fastrp-recompute',
  /** Re-embed the catalog under a new model id. */
  embeddingBackfill: 'embedding-backfill',
  /** Periodic vector-index shard snapshots. */
  indexSnapshot: 'index-snapshot',
} as const;

/** BullMQ needs blocking connections that wait out outages (maxRetriesPerRequest: null). */
export function queueConnection(connection: string | RedisConnection, name: string): Redis {
  return createRedis({ ...(typeof connection === 'string' ? { url: connection } : connection), name, maxRetriesPerRequest: null });
}

export function createQueue(name: string, url: string | RedisConnection, options: Omit<QueueOptions, 'connection'> & { prefix?: string } = {}): Queue {
  return new Queue(name, {
    ...options,
    connection: queueConnection(url, `queue:${name}`),
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: 1000, removeOnFail: 5000, ...options.defaultJobOptions },
  });
}

export function createQueueWorker<T, R>(name: string, url: string | RedisConnection, processor: Processor<T, R>, options: Omit<WorkerOptions, 'connection'> = {}): Worker<T, R> {
  return new Worker<T, R>(name, processor, { concurrency: 1, ...options, connection: queueConnection(url, `worker:${name}`) });
}
