import {
  CatalogEvent,
  Interaction,
  encodeJson,
  newEventId,
  parseWith,
  requireNotFuture,
  topicName,
  type CatalogEventInput,
  type EventTimeOptions,
  type InteractionInput,
  type TopicOptions,
} from '@affinity/contracts';
import type { Kafka, Producer } from 'kafkajs';

/**
 * Publishes catalog and behaviour events straight to Kafka, validated against the contract
 * and keyed the way ordering requires (products by productId, interactions by userId), with
 * an idempotent producer. Invalid events (and times further ahead of this clock than the
 * consumers accept) throw `ValidationError` here instead of landing in a DLQ later.
 */
export class KafkaEventPublisher {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    private readonly topics: TopicOptions = {},
    /** How far ahead of this clock an event time may be; match the consumers' EVENT_MAX_FUTURE_SKEW_MS. @defaultValue 1 day */
    private readonly time: EventTimeOptions = {},
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  private connect(): Promise<void> {
    this.connected ??= this.producer.connect();
    return this.connected;
  }

  /** Returns the event ids (assigned when missing). */
  async publishCatalog(events: readonly (Omit<CatalogEventInput, 'eventId'> & { eventId?: string })[]): Promise<string[]> {
    const parsed = events.map((e) => requireNotFuture(parseWith(CatalogEvent, { ...e, eventId: e.eventId ?? newEventId() }, 'catalog event'), this.time, 'catalog event'));
    await this.connect();
    await this.producer.send({ topic: topicName('catalog', this.topics), acks: -1, messages: parsed.map((e) => ({ key: e.productId, value: encodeJson(e) })) });
    return parsed.map((e) => e.eventId);
  }

  async publishInteractions(events: readonly (Omit<InteractionInput, 'eventId' | 'ts'> & { eventId?: string; ts?: InteractionInput['ts'] })[]): Promise<string[]> {
    const now = Date.now();
    const parsed = events.map((e) => requireNotFuture(parseWith(Interaction, { ...e, eventId: e.eventId ?? newEventId(now), ts: e.ts ?? now }, 'interaction'), this.time, 'interaction'));
    await this.connect();
    await this.producer.send({ topic: topicName('interactions', this.topics), acks: -1, messages: parsed.map((e) => ({ key: e.userId, value: encodeJson(e) })) });
    return parsed.map((e) => e.eventId);
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
  }
}
