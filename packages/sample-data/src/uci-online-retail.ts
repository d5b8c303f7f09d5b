import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { InteractionInput, ProductUpsertInput } from '@affinity/contracts';
import { parseCsv } from './csv';

/** `data/` at the repository root. */
export const DATA_DIR = resolve(import.meta.dirname, '../../../data');

/** "12/1/2010 8:26" (the UCI file's M/D/YYYY H:MM, UK time taken as UTC) → epoch ms. */
function uciDate(s: string): number {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})$/.exec(s.trim());
  if (!m) return Date.UTC(2010, 11, 1);
  return Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), Number(m[4]), Number(m[5]));
}

/** UCI stock codes as product ids: uppercase letters and digits are valid Identifiers already. */
const productId = (code: string): string => code.trim().toUpperCase();

/**
 * The products of the UCI Online Retail sample (1,395 stock codes with descriptions), as
 * catalog upserts. The data has no categories or brands; titles are the shop's own
 * uppercase descriptions. Price is the first unit price seen, updatedAt the first invoice.
 */
export function uciProducts(dataDir: string = DATA_DIR): ProductUpsertInput[] {
  const text = readFileSync(resolve(dataDir, 'uci-online-retail/online_retail_random_sample_2709.csv'), 'latin1');
  const byCode = new Map<string, ProductUpsertInput>();
  for (const row of parseCsv(text)) {
    const code = productId(row.StockCode ?? '');
    const title = (row.Description ?? '').trim();
    const price = Number(row.UnitPrice);
    if (!/^[A-Z0-9]+$/.test(code) || title.length === 0 || !(price > 0) || byCode.has(code)) continue;
    const ts = uciDate(row.InvoiceDate ?? '');
    byCode.set(code, uciProduct(code, title, price, ts));
  }
  return [...byCode.values()];
}

/** "2010-12-01 08:26:00" (the customers file's ISO-like dates, UK time taken as UTC) → epoch ms. */
function isoDate(s: string): number {
  return Date.parse(`${s.trim().replace(' ', 'T')}Z`);
}

function uciProduct(code: string, title: string, price: number, ts: number): ProductUpsertInput {
  return {
    type: 'product.upsert',
    eventId: `uci-${code}-${ts}`,
    productId: code,
    title,
    description: '',
    categoryPath: [],
    price,
    currency: 'GBP',
    availability: 'in_stock',
    seller: 'uci-online-retail',
    updatedAt: ts,
  };
}

interface CustomerRow {
  invoice: string;
  code: string;
  title: string;
  quantity: number;
  price: number;
  ts: number;
  customer: string;
}

function customerRows(dataDir: string): CustomerRow[] {
  const text = readFileSync(resolve(dataDir, 'uci-online-retail/online_retail_first_20k_customers.csv'), 'utf8');
  return parseCsv(text).map((r) => ({
    invoice: r.InvoiceNo ?? '',
    code: productId(r.StockCode ?? ''),
    title: (r.Description ?? '').replace(/_/g, ' ').trim(),
    quantity: Number(r.Quantity),
    price: Number(r.UnitPrice),
    ts: isoDate(r.InvoiceDate ?? ''),
    customer: r.CustomerID ?? '',
  }));
}

/**
 * Every UCI stock code with a description in either file that carries descriptions (the
 * random sample and the first 20,000 customer rows: 2,628 codes, 91% of all basket lines),
 * as catalog upserts. The random sample's description wins where both have one.
 */
export function uciCatalog(dataDir: string = DATA_DIR): ProductUpsertInput[] {
  const byCode = new Map(uciProducts(dataDir).map((p) => [p.productId, p]));
  for (const r of customerRows(dataDir)) {
    if (!/^[A-Z0-9]+$/.test(r.code) || r.title.length === 0 || !(r.price > 0) || byCode.has(r.code) || Number.isNaN(r.ts)) continue;
    byCode.set(r.code, uciProduct(r.code, r.title, r.price, r.ts));
  }
  return [...byCode.values()];
}

/**
 * The first 20,000 customer rows of UCI Online Retail (756 customers, 2010-12-01 to -14) as
 * time-stamped purchases: one order per invoice, the real customer as the shopper.
 * Cancellations (invoice numbers starting with C) and non-positive quantities are dropped.
 */
export function uciCustomerPurchases(dataDir: string = DATA_DIR): InteractionInput[] {
  const out: InteractionInput[] = [];
  const seen = new Set<string>();
  const position = new Map<string, number>();
  for (const r of customerRows(dataDir)) {
    if (r.invoice.startsWith('C') || !(r.quantity > 0) || !/^[A-Z0-9]+$/.test(r.code) || Number.isNaN(r.ts)) continue;
    const key = `${r.invoice}-${r.code}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const i = position.get(r.invoice) ?? 0;
    position.set(r.invoice, i + 1);
    out.push({
      type: 'purchase',
      eventId: `uci-c${key}`,
      userId: `c${r.customer}`,
      productId: r.code,
      sessionId: `i${r.invoice}`,
      orderId: `i${r.invoice}`,
      quantity: Math.min(10_000, r.quantity),
      ts: r.ts + i,
    });
  }
  return out.sort((a, b) => Number(a.ts) - Number(b.ts));
}

export interface UciBasketOptions {
  /** Only items in this set are kept (e.g. the products that have descriptions). */
  known?: ReadonlySet<string>;
  /** Baskets to read (from the top of the file). @defaultValue all */
  limit?: number;
  /** Synthetic shoppers the baskets are dealt to (the basket file has no customer column). @defaultValue 500 */
  users?: number;
  /** Epoch ms of the first basket; later baskets are one minute apart. @defaultValue 2010-12-01 */
  start?: number;
}

/**
 * Every invoice of UCI Online Retail as purchase events, one order per basket line. The file
 * has stock codes only, so baskets are dealt to `users` synthetic shoppers round-robin by a
 * hash of the basket number (deterministic) — the baskets are real, the shoppers are not.
 */
export function uciPurchases(options: UciBasketOptions = {}, dataDir: string = DATA_DIR): InteractionInput[] {
  const lines = readFileSync(resolve(dataDir, 'uci-online-retail/online_retail_baskets.csv'), 'utf8').split(/\r?\n/);
  const users = options.users ?? 500;
  const start = options.start ?? Date.UTC(2010, 11, 1);
  const out: InteractionInput[] = [];
  const limit = Math.min(options.limit ?? lines.length, lines.length);
  for (let b = 0; b < limit; b++) {
    const codes = [...new Set((lines[b] ?? '').split(',').map(productId).filter((c) => /^[A-Z0-9]+$/.test(c)))];
    const items = options.known ? codes.filter((c) => options.known!.has(c)) : codes;
    if (items.length === 0) continue;
    const user = `c${(Math.imul(b + 1, 2654435761) >>> 0) % users}`;
    items.forEach((code, i) =>
      out.push({ type: 'purchase', eventId: `uci-o${b}-${code}`, userId: user, productId: code, sessionId: `s${b}`, orderId: `o${b}`, quantity: 1, ts: start + b * 60_000 + i }),
    );
  }
  return out;
}
