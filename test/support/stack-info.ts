/** How the test run reaches Kafka and Redis, decided once in global-setup.ts. */
export interface StackInfo {
  brokers: string[];
  redisUrl: string;
  /**
   * - `env`: KAFKA_BROKERS/REDIS_URL given; we cannot restart them (fault tests skip);
   * - `scripts`: the infra/ scripts run them locally (restarts via the scripts);
   * - `testcontainers`: containers started by us (restarts via the Docker API).
   */
  mode: 'env' | 'scripts' | 'testcontainers';
  kafkaContainerId?: string;
  redisContainerId?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}
