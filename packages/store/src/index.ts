export { Redis, createRedis } from './redis-client';
export type { RedisClientOptions } from './redis-client';
export { IdempotentWriter } from './idempotent-writer';
export type { IdempotentOp, IdempotentWriterOptions, RedisCommand } from './idempotent-writer';
export { KeySpace } from './key-space';
export { QUEUE, Queue, Worker, createQueue, createQueueWorker, queueConnection } from './queues';
export type { Job } from './queues';
export { ShardRegistry } from './shard-registry';
export type { ShardOwner, ShardRegistryOptions } from './shard-registry';
