import type { ConnectionOptions } from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';

export { Redis } from 'ioredis';

/**
 * Where and how to connect: `redisConnection(config)` in @affinity/stream builds it from REDIS_URL,
 * REDIS_USERNAME, REDIS_PASSWORD(_FILE) and REDIS_TLS_* (a rediss:// URL means TLS).
 */
export interface RedisConnection {
  /** redis:// or rediss:// (TLS); may carry user:password, then username/password stay unset. */
  url: string;
  /** ACL user (with password); unset: the default user. */
  username?: string;
  password?: string;
  /** TLS options (private CA, client certificate); only with a rediss:// URL. */
  tls?: ConnectionOptions;
}

export interface RedisClientOptions extends RedisConnection {
  /** Shown in CLIENT LIST; helps find a misbehaving worker. */
  name?: string;
  /**
   * Per-command retries while disconnected. Workers want a command to fail fast so the
   * batch consumer's outage handling (backoff, readiness false, no commit) takes over;
   * BullMQ needs `null` (wait forever) for its blocking connections. @defaultValue 2
   */
  maxRetriesPerRequest?: number | null;
  /**
   * Connection errors while Redis is down arrive here (ioredis reconnects by itself). Without a
   * listener ioredis prints every failed reconnect to stderr. @defaultValue ignore
   */
  onError?: (err: Error) => void;
}

/**
 * An ioredis client that reconnects forever with capped backoff: a Redis restart makes
 * commands fail with a connection error (→ UNAVAILABLE, retried by the caller) and the
 * client comes back on its own.
 */
export function createRedis(options: RedisClientOptions): Redis {
  const extra: RedisOptions = {
    connectionName: options.name,
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 2 : options.maxRetriesPerRequest,
    // Commands issued in the same tick share one round trip; order on the connection is kept.
    enableAutoPipelining: true,
    connectTimeout: 3000,
    enableReadyCheck: true,
    // At least once a second: a command waiting while Redis is down fails after
    // maxRetriesPerRequest reconnects, so this bounds how long a caller takes to learn of an
    // outage (about 3 s; with a 3 s cap it was 9-15 s, longer than a consumer may look hung).
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 1000),
    reconnectOnError: (err) => /READONLY|LOADING/.test(err.message),
    ...(options.username !== undefined && { username: options.username }),
    ...(options.password !== undefined && { password: options.password }),
    ...(options.tls !== undefined && { tls: options.tls }),
  };
  const client = new Redis(options.url, extra);
  client.on('error', (err: Error) => options.onError?.(err));
  return client;
}
