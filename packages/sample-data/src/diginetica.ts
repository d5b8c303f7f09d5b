import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { InteractionInput } from '@affinity/contracts';
import { parseCsv } from './csv';
import { DATA_DIR } from './uci-online-retail';

/**
 * DIGINETICA (CIKM Cup 2016) views and purchases as interactions, in time order. Anonymous
 * sessions (userId NA) become users of their own (`s<session>`); timestamps are the event
 * date plus the log's `timeframe` (ms since the session started).
 */
export function digineticaInteractions(dataDir: string = DATA_DIR): InteractionInput[] {
  const out: InteractionInput[] = [];
  const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
  const views = parseCsv(readFileSync(resolve(dataDir, 'diginetica/sample_train-item-views.csv'), 'utf8'), ';');
  views.forEach((r, i) => {
    const session = r.session_id!;
    const user = r.user_id && r.user_id !== 'NA' ? `u${r.user_id}` : `s${session}`;
    out.push({ type: 'view', eventId: `dg-v${i}`, userId: user, productId: `i${r.item_id}`, sessionId: `s${session}`, ts: day(r.eventdate!) + Number(r.timeframe) });
  });
  const purchases = parseCsv(readFileSync(resolve(dataDir, 'diginetica/train-purchases.csv'), 'utf8'), ';');
  purchases.forEach((r, i) => {
    const session = r.sessionId!;
    const user = r.userId && r.userId !== 'NA' ? `u${r.userId}` : `s${session}`;
    out.push({ type: 'purchase', eventId: `dg-p${i}`, userId: user, productId: `i${r.itemId}`, sessionId: `s${session}`, orderId: `o${r.ordernumber}`, quantity: 1, ts: day(r.eventdate!) + Number(r.timeframe) });
  });
  return out.sort((a, b) => Number(a.ts) - Number(b.ts));
}

/** DIGINETICA's item → category id (`product-categories.csv`), for the items asked about. */
export function digineticaCategories(items: ReadonlySet<string>, dataDir: string = DATA_DIR): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of parseCsv(readFileSync(resolve(dataDir, 'diginetica/product-categories.csv'), 'utf8'), ';')) {
    const id = `i${r.itemId}`;
    if (items.has(id)) out.set(id, `c${r.categoryId}`);
  }
  return out;
}
