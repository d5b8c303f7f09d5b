export { BatchConsumer, isBrokerOutage } from './batch-consumer';
export type {
  BatchConsumerOptions,
  BatchContext,
  BatchHandler,
  ConsumedBatch,
  ConsumedEvent,
  ConsumerState,
  InputSpec,
  Inputs,
  PartitionAssignment,
  SeekRequest,
  StallReason,
} from './batch-consumer';
export { EventProducer } from './event-producer';
export type { EventProducerOptions, OutgoingRecord } from './event-producer';
export { DlqPublisher } from './dlq-publisher';
export type { RejectedMessage } from './dlq-publisher';
export { backoffDelay, compileRetryPolicy } from './retry-policy';
export type { RetryPolicy, RetryPolicyOptions } from './retry-policy';
export { Registry, StreamMetrics } from './metrics';
export { HealthServer } from './health-server';
export type { HealthServerOptions, Probe } from './health-server';
export { runService } from './run-service';
export { METRICS_UNAUTHORIZED, httpExposure, metricsAccess } from './http-exposure';
export type { HttpExposure, MetricsExposure } from './http-exposure';
export type { RunServiceOptions, RunningService, Service } from './run-service';
export { commonEnv, env, isSecret, kafkaSecurityEnv, parseEnv, redisEnv, redisSecurityEnv, registryNamespace, secretSettings } from './config';
export { kafkaSecurity, redactUrl, redisConnection } from './connection-security';
export type { KafkaSecurity, ReadFile, RedisConnection } from './connection-security';
export type { EnvSchema, ParsedEnv } from './config';
export { createLogger, kafkaLogCreator } from './logger';
export type { CreateLoggerOptions, Logger } from './logger';
export { createKafka } from './kafka-client';
export type { KafkaClientOptions } from './kafka-client';
export { sleep } from './internal/sleep';
export { ServiceGroup } from './service-group';
export type { Component } from './service-group';
export { createWorkerKit } from './worker-kit';
export type { WorkerKit } from './worker-kit';
