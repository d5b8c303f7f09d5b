import { ValidationError } from '@affinity/contracts';
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaEventPublisher } from '../src';

/** A Kafka whose producer records what it was asked to send. */
function fakeKafka(sent: unknown[]): Kafka {
  return { producer: () => ({ connect: async () => undefined, send: async (r: unknown) => void sent.push(r), disconnect: async () => undefined }) } as unknown as Kafka;
}

describe('KafkaEventPublisher refuses times the consumers would refuse', () => {
  it('an updatedAt in 2099 or an interaction a week ahead throws before anything is sent; the skew is configurable', async () => {
    const sent: unknown[] = [];
    const publisher = new KafkaEventPublisher(fakeKafka(sent));
    const product = { type: 'product.upsert' as const, productId: 'p1', title: 'Mug', price: 1, currency: 'GBP', updatedAt: '2099-01-01T00:00:00Z' };
    await expect(publisher.publishCatalog([product])).rejects.toThrow(ValidationError);
    await expect(publisher.publishInteractions([{ type: 'view', userId: 'u1', productId: 'p1', sessionId: 's1', ts: Date.now() + 7 * 24 * 3600 * 1000 }])).rejects.toThrow(/ts .* ahead of now/);
    expect(sent).toHaveLength(0);
    const lenient = new KafkaEventPublisher(fakeKafka(sent), {}, { maxFutureSkewMs: 100 * 365 * 24 * 3600 * 1000 });
    await lenient.publishCatalog([product]);
    expect(sent).toHaveLength(1);
  });
});
