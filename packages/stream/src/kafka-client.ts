import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import { kafkaLogCreator } from './logger';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** @defaultValue 3000 */
  connectionTimeoutMs?: number;
  /** @defaultValue 30000 */
  requestTimeoutMs?: number;
  /** TLS to the brokers: from `kafkaSecurity(config)` (KAFKA_SSL*). @defaultValue plaintext */
  ssl?: ConnectionOptions | true;
  /** SASL authentication: from `kafkaSecurity(config)` (KAFKA_SASL_*). @defaultValue none */
  sasl?: SASLOptions;
}

/**
 * A kafkajs client with retries sized for broker restarts: about a minute of reconnect
 * attempts before an operation gives up (the batch consumer then retries on its own).
 */
export function createKafka(options: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...(options.ssl !== undefined && { ssl: options.ssl }),
    ...(options.sasl !== undefined && { sasl: options.sasl }),
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    logLevel: logLevel.INFO,
    logCreator: kafkaLogCreator(options.logger),
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 12, factor: 0.2, multiplier: 2 },
  });
}
