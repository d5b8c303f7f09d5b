import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Interaction } from '@affinity/contracts';

/** Repository root (tests and benches read data/ from there, never ../shared). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * DIGINETICA (CIKM Cup 2016) purchases and the sampled view log as Interactions:
 * - user: `u<userId>`, or `s<sessionId>` when the log has no user (NA);
 * - ts: eventdate (UTC midnight) + timeframe (ms into the session);
 * - eventId: `p<line>` / `v<line>` (line number in the file, so ids are stable);
 * - purchases carry `o<ordernumber>` as orderId.
 * Sorted by (ts, eventId). `reference/diginetica.py` reads the files the same way.
 */
export function loadDiginetica(root: string = REPO_ROOT): Interaction[] {
  const out: Interaction[] = [];
  const purchases = readFileSync(`${root}/data/diginetica/train-purchases.csv`, 'utf8').split('\n');
  for (let i = 1; i < purchases.length; i++) {
    const line = purchases[i]!.trim();
    if (line === '') continue;
    const [session, user, timeframe, date, order, item] = line.split(';') as [string, string, string, string, string, string];
    out.push({
      type: 'purchase',
      eventId: `p${i}`,
      userId: user === 'NA' ? `s${session}` : `u${user}`,
      productId: item,
      sessionId: `s${session}`,
      orderId: `o${order}`,
      ts: Date.parse(`${date}T00:00:00Z`) + Number(timeframe),
    });
  }
  const views = readFileSync(`${root}/data/diginetica/sample_train-item-views.csv`, 'utf8').split('\n');
  for (let i = 1; i < views.length; i++) {
    const line = views[i]!.trim();
    if (line === '') continue;
    const [session, user, item, timeframe, date] = line.split(';') as [string, string, string, string, string];
    out.push({
      type: 'view',
      eventId: `v${i}`,
      userId: user === 'NA' ? `s${session}` : `u${user}`,
      productId: item,
      sessionId: `s${session}`,
      ts: Date.parse(`${date}T00:00:00Z`) + Number(timeframe),
    });
  }
  out.sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  return out;
}
