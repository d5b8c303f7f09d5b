import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Interaction, ProductUpsert, type InteractionInput, type ProductUpsertInput } from '@affinity/contracts';
import {
  DATA_DIR,
  digineticaCategories,
  digineticaInteractions,
  instacartProducts,
  instacartPurchases,
  parseCsv,
  uciCatalog,
  uciCustomerPurchases,
  uciPurchases,
} from '@affinity/sample-data';
import type { EvalDataset, MetricName, TaskName } from './types';

interface Raw {
  description: string;
  attribution: string;
  products: ProductUpsertInput[];
  events: InteractionInput[];
  main: { task: TaskName; metric: MetricName };
  tasks?: readonly TaskName[];
}

/** Rows that fail the topic schemas are dropped and counted, as the pipeline's DLQ would. */
export interface Rejected {
  products: number;
  events: number;
  firstReason?: string;
}

function validate(name: string, raw: Raw, rejected: Rejected): EvalDataset {
  const products: ProductUpsert[] = [];
  for (const p of raw.products) {
    const r = ProductUpsert.safeParse(p);
    if (r.success) products.push(r.data);
    else {
      rejected.products++;
      rejected.firstReason ??= `product ${p.productId}: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}`;
    }
  }
  const events: Interaction[] = [];
  for (const e of raw.events) {
    const r = Interaction.safeParse(e);
    if (r.success) events.push(r.data);
    else {
      rejected.events++;
      rejected.firstReason ??= `event ${e.eventId}: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}`;
    }
  }
  // Stable: events of one timestamp keep the log's order.
  events.sort((a, b) => a.ts - b.ts);
  return { name, description: raw.description, attribution: raw.attribution, products, events, main: raw.main, ...(raw.tasks ? { tasks: raw.tasks } : {}) };
}

const BUILT_IN: Record<string, { summary: string; load: (dataDir: string) => Raw }> = {
  instacart: {
    summary: 'Instacart grocery baskets (sample): next-in-basket from complementary lists',
    load: (dir) => ({
      description:
        'Instacart sample: 3,214 real grocery baskets, 9,288 products with department → aisle categories; no absolute time, so baskets are placed on a synthetic timeline in order-id order (a time split of it is a random split).',
      attribution: 'Instacart Online Grocery Shopping Dataset 2017 (non-commercial research use).',
      products: instacartProducts(dir),
      events: instacartPurchases(dir),
      main: { task: 'basket', metric: 'recall@10' },
    }),
  },
  'uci-baskets': {
    summary: 'UCI Online Retail invoices (first 6,000, in time order): next-in-basket',
    load: (dir) => {
      const products = uciCatalog(dir);
      const known = new Set(products.map((p) => p.productId));
      return {
        description:
          'UCI Online Retail: the first 6,000 invoices of a UK gift retailer in file (time) order, items with a known description (2,628 codes); baskets are dealt to 500 synthetic shoppers (the basket file has no customer column), one minute apart.',
        attribution: 'UCI Machine Learning Repository, Online Retail (Chen, Sain & Guo, 2012), CC BY 4.0.',
        products,
        events: uciPurchases({ known, limit: 6000, users: 500 }, dir),
        main: { task: 'basket', metric: 'recall@10' },
        // The shoppers are synthetic (baskets dealt round-robin): no personalized question is honest.
        tasks: ['basket', 'cold-items'],
      };
    },
  },
  'uci-customers': {
    summary: 'UCI Online Retail, 756 real customers with timestamps (2010-12-01..14): next basket from the personalized list',
    load: (dir) => ({
      description: 'UCI Online Retail: the first 20,000 rows with a CustomerID (756 customers, 1,002 invoices after dropping cancellations), real timestamps.',
      attribution: 'UCI Machine Learning Repository, Online Retail (Chen, Sain & Guo, 2012), CC BY 4.0.',
      products: uciCatalog(dir),
      events: uciCustomerPurchases(dir),
      main: { task: 'next-basket', metric: 'recall@20' },
    }),
  },
  diginetica: {
    summary: 'DIGINETICA (CIKM Cup 2016) views and purchases: session next-click from similar lists',
    load: (dir) => {
      const events = digineticaInteractions(dir);
      const items = new Set(events.map((e) => String(e.productId)));
      const categories = digineticaCategories(items, dir);
      return {
        description:
          'DIGINETICA: a sample of 12,391 views (2,986 sessions) and 18,025 purchases with real dates; the data set has no product names (titles are the item id), categories are one level.',
        attribution: 'CIKM Cup 2016 track 2 (DIGINETICA); view sample as in the SR-GNN repository.',
        products: [...items].map((id) => ({
          type: 'product.upsert',
          eventId: `dg-${id}`,
          productId: id,
          title: `Item ${id.slice(1)}`,
          categoryPath: categories.has(id) ? [categories.get(id)!] : [],
          price: 0,
          currency: 'EUR',
          seller: 'diginetica',
          updatedAt: Date.UTC(2016, 0, 1),
        })),
        events,
        main: { task: 'session', metric: 'recall@20' },
      };
    },
  },
};

export const DATASETS = Object.keys(BUILT_IN);

export function datasetSummaries(): { name: string; summary: string }[] {
  return Object.entries(BUILT_IN).map(([name, d]) => ({ name, summary: d.summary }));
}

const TASK_NAMES: readonly string[] = ['basket', 'next-basket', 'next-items', 'session', 'cold-items', 'cold-users'];

/**
 * A log of your own, as a directory with two CSV files (header line, comma-separated, RFC 4180 quoting):
 * - `products.csv`: `productId,title` and optionally `category` (levels separated by ` > `), `brand`, `description`, `price`;
 * - `events.csv`: `userId,productId,type,ts` (type view|click|add_to_cart|purchase|rating; ts epoch ms or ISO-8601)
 *   and optionally `sessionId` (default: the user), `orderId`, `rating`, `quantity`;
 * - optionally `dataset.json`: `{"description": "...", "attribution": "...", "main": {"task": "next-items", "metric": "recall@20"}}`.
 *   Without it the main task is `basket` when the log has orders, else `next-items`.
 */
function loadDirectory(dir: string): Raw {
  const read = (f: string) => parseCsv(readFileSync(resolve(dir, f), 'utf8'));
  const products: ProductUpsertInput[] = read('products.csv').map((r, i) => ({
    type: 'product.upsert',
    eventId: `p${i}`,
    productId: r.productId ?? '',
    title: r.title ?? '',
    description: r.description ?? '',
    ...(r.brand ? { brand: r.brand } : {}),
    categoryPath: (r.category ?? '').split('>').map((s) => s.trim()).filter((s) => s.length > 0),
    price: r.price ? Number(r.price) : 0,
    currency: 'USD',
    updatedAt: 946_684_800_000,
  }));
  const events: InteractionInput[] = read('events.csv').map((r, i) => {
    const ts = /^\d+$/.test(r.ts ?? '') ? Number(r.ts) : (r.ts ?? '');
    return {
      type: (r.type ?? 'purchase') as InteractionInput['type'],
      eventId: `e${i}`,
      userId: r.userId ?? '',
      productId: r.productId ?? '',
      sessionId: r.sessionId || r.userId || '',
      ...(r.orderId ? { orderId: r.orderId } : {}),
      ...(r.rating ? { rating: Number(r.rating) } : {}),
      ...(r.quantity ? { quantity: Number(r.quantity) } : {}),
      ts,
    };
  });
  const meta = existsSync(resolve(dir, 'dataset.json')) ? (JSON.parse(readFileSync(resolve(dir, 'dataset.json'), 'utf8')) as Partial<Raw>) : {};
  const hasOrders = events.some((e) => e.orderId !== undefined);
  const main = meta.main ?? { task: hasOrders ? 'basket' : 'next-items', metric: hasOrders ? 'recall@10' : 'recall@20' };
  if (!TASK_NAMES.includes(main.task)) throw new Error(`${dir}/dataset.json: unknown main task ${main.task}`);
  for (const t of meta.tasks ?? []) if (!TASK_NAMES.includes(t)) throw new Error(`${dir}/dataset.json: unknown task ${t}`);
  return { description: meta.description ?? `the log in ${dir}`, attribution: meta.attribution ?? 'supplied by the user', products, events, main, ...(meta.tasks ? { tasks: meta.tasks } : {}) };
}

/** A built-in development log by name, or a directory in the format of {@link loadDirectory}. */
export function loadDataset(nameOrDir: string, dataDir: string = DATA_DIR): { dataset: EvalDataset; rejected: Rejected } {
  const rejected: Rejected = { products: 0, events: 0 };
  const builtIn = BUILT_IN[nameOrDir];
  if (builtIn) return { dataset: validate(nameOrDir, builtIn.load(dataDir), rejected), rejected };
  if (existsSync(resolve(nameOrDir, 'events.csv'))) {
    const name = resolve(nameOrDir).split('/').pop() ?? 'custom';
    return { dataset: validate(name, loadDirectory(nameOrDir), rejected), rejected };
  }
  throw new Error(`unknown dataset ${nameOrDir}: one of ${DATASETS.join(', ')}, or a directory with products.csv and events.csv`);
}
