import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { InteractionInput, ProductUpsertInput } from '@affinity/contracts';
import { parseCsv } from './csv';
import { DATA_DIR } from './uci-online-retail';

/** The sample's baskets start here on the synthetic timeline (see {@link instacartPurchases}). */
const START = Date.UTC(2017, 0, 1);
/** Spacing of consecutive baskets on the synthetic timeline. */
const BASKET_SPACING_MS = 10 * 60_000;

const read = (dataDir: string, file: string) => parseCsv(readFileSync(resolve(dataDir, 'instacart', file), 'utf8'));

/**
 * The Instacart sample's products as catalog upserts: real grocery names and a two-level
 * category path [department, aisle]. The data has no prices or brands; price is 0.
 * Instacart data is for non-commercial research use: the evaluation reads it, nothing ships it.
 */
export function instacartProducts(dataDir: string = DATA_DIR): ProductUpsertInput[] {
  const aisles = new Map(read(dataDir, 'aisles.csv').map((r) => [r.aisle_id!, r.aisle!]));
  const departments = new Map(read(dataDir, 'departments.csv').map((r) => [r.department_id!, r.department!]));
  return read(dataDir, 'products.csv').map((r) => ({
    type: 'product.upsert',
    eventId: `ic-p${r.product_id}`,
    productId: `ic${r.product_id}`,
    title: r.product_name!,
    categoryPath: [departments.get(r.department_id!) ?? 'unknown', aisles.get(r.aisle_id!) ?? 'unknown'],
    price: 0,
    currency: 'USD',
    availability: 'in_stock',
    seller: 'instacart',
    updatedAt: START - 1,
  }));
}

/**
 * The sample's 3,214 baskets as purchase events. The data has no absolute time, only each
 * shopper's order number and days since their previous order, and the sample holds about one
 * order per shopper, so baskets are placed on a synthetic timeline in order_id order (ids are
 * unrelated to time in this data set: a time split of it is a random split), ten minutes
 * apart, items in their add-to-cart order one second apart. Shoppers are the data set's
 * user_id where orders.csv has the order, else the order's own id.
 */
export function instacartPurchases(dataDir: string = DATA_DIR): InteractionInput[] {
  const userOf = new Map(read(dataDir, 'orders.csv').map((r) => [r.order_id!, r.user_id!]));
  const lines = read(dataDir, 'order_products__prior.csv');
  const byOrder = new Map<number, { product: string; position: number }[]>();
  for (const r of lines) {
    const order = Number(r.order_id);
    let items = byOrder.get(order);
    if (!items) byOrder.set(order, (items = []));
    items.push({ product: r.product_id!, position: Number(r.add_to_cart_order) });
  }
  const out: InteractionInput[] = [];
  [...byOrder.keys()]
    .sort((a, b) => a - b)
    .forEach((order, b) => {
      const user = userOf.has(String(order)) ? `u${userOf.get(String(order))}` : `o${order}`;
      const items = byOrder.get(order)!.sort((x, y) => x.position - y.position);
      for (const it of items) {
        out.push({
          type: 'purchase',
          eventId: `ic-o${order}-${it.product}`,
          userId: user,
          productId: `ic${it.product}`,
          sessionId: `o${order}`,
          orderId: `o${order}`,
          quantity: 1,
          ts: START + b * BASKET_SPACING_MS + it.position * 1000,
        });
      }
    });
  return out;
}
