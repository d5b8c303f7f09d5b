import type { InteractionInput, ProductUpsertInput } from '../src';

export function product(overrides: Partial<ProductUpsertInput> = {}): ProductUpsertInput {
  return {
    type: 'product.upsert',
    eventId: 'evt-1',
    productId: '85123A',
    title: 'WHITE HANGING HEART T-LIGHT HOLDER',
    description: 'A white metal t-light holder with a hanging heart.',
    categoryPath: ['Home', 'Candles'],
    price: 2.55,
    currency: 'gbp',
    availability: 'in_stock',
    seller: 'uci-retail',
    updatedAt: '2010-12-01T08:26:00Z',
    ...overrides,
  };
}

export function interaction(overrides: Partial<InteractionInput> = {}): InteractionInput {
  return {
    type: 'purchase',
    eventId: 'evt-2',
    userId: 'u17850',
    productId: '85123A',
    sessionId: 's536365',
    orderId: '536365',
    quantity: 6,
    ts: 1291191960000,
    ...overrides,
  };
}
