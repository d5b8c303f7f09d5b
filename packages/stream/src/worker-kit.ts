import { ensureTopics, topicName, topicSpecs, type TopicId } from '@affinity/contracts';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { type ParsedEnv, type commonEnv, secretSettings } from './config';
import { EventProducer } from './event-producer';
import { kafkaSecurity } from './connection-security';
import { createKafka } from './kafka-client';
import { createLogger } from './logger';
import { Registry, StreamMetrics } from './metrics';

/** The things every worker process builds the same way from its configuration. */
export interface WorkerKit {
  name: string;
  logger: Logger;
  registry: Registry;
  metrics: StreamMetrics;
  kafka: Kafka;
  producer: EventProducer;
  /** Topic names with the deployment's prefix applied. */
  topic(id: TopicId): string;
  /** Consumer group ids with the prefix applied (tests isolate groups too). */
  group(suffix: string): string;
  /**
   * Creates missing topics (every topic of docs/architecture.md "Topics", with its DLQ) unless
   * AFFINITY_CREATE_TOPICS is false; every service calls it at start, so a fresh cluster needs
   * no separate init step.
   */
  ensureTopics(): Promise<void>;
}

export function createWorkerKit(name: string, config: ParsedEnv<typeof commonEnv>): WorkerKit {
  const logger = createLogger(name, config.LOG_LEVEL, { secrets: secretSettings(config) });
  const registry = new Registry();
  registry.setDefaultLabels({ service: name, instance: config.INSTANCE_ID });
  const metrics = new StreamMetrics(registry);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-${name}`, logger, ...kafkaSecurity(config) });
  const producer = new EventProducer({ kafka, metrics });
  const prefix = config.AFFINITY_TOPIC_PREFIX;
  return {
    name,
    logger,
    registry,
    metrics,
    kafka,
    producer,
    topic: (id) => topicName(id, { prefix }),
    group: (suffix) => `${prefix}affinity-${suffix}`,
    ensureTopics: async () => {
      if (!config.AFFINITY_CREATE_TOPICS) return;
      const admin = kafka.admin();
      await admin.connect();
      try {
        const { created, mismatched } = await ensureTopics(admin, topicSpecs({ prefix }), { replicationFactor: config.KAFKA_REPLICATION_FACTOR });
        if (created.length > 0) logger.info({ created }, 'created topics');
        // Existing topics keep their partition count (changing it moves keys); say so, once.
        if (mismatched.length > 0) logger.warn({ mismatched }, 'topics exist with a partition count other than the default; keeping them as they are');
      } catch (err) {
        // Another instance may have created them a moment earlier.
        if (!/already exists/i.test(String((err as Error).message))) throw err;
      } finally {
        await admin.disconnect();
      }
    },
  };
}
