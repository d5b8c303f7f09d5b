import { commonEnv, env, kafkaSecurityEnv, redisEnv, redisSecurityEnv } from '@affinity/stream';

/**
 * What an operator command (`./dev dlq replay`, `./dev status --caught-up`) reads from the
 * environment to find a deployment: its Kafka, its Redis, and its topic and key prefixes. Logs
 * go to stderr, quiet by default, so stdout stays the command's answer.
 */
export const operatorEnv = {
  KAFKA_BROKERS: commonEnv.KAFKA_BROKERS,
  KAFKA_CLIENT_ID: commonEnv.KAFKA_CLIENT_ID,
  AFFINITY_TOPIC_PREFIX: commonEnv.AFFINITY_TOPIC_PREFIX,
  ...kafkaSecurityEnv,
  REDIS_URL: redisEnv.REDIS_URL,
  REDIS_PREFIX: redisEnv.REDIS_PREFIX,
  ...redisSecurityEnv,
  LOG_LEVEL: env.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'warn', 'one of fatal, error, warn, info, debug, trace, silent (logs go to stderr)'),
};
