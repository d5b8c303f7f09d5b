import type { IncomingMessage, ServerResponse } from 'node:http';
import { AffinityError, ValidationError, parseJsonBytes, parseWith } from '@affinity/contracts';
import { KnnRequest, type KnnHit, type KnnResponse } from '@affinity/index-router';
import type { ShardManager } from './shard-manager';

const MAX_BODY = 256 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ValidationError(`request body above ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** POST /knn (the router's protocol) and GET /shards on the indexer's HTTP port. */
export function indexerRoutes(shards: ShardManager) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/shards' && req.method === 'GET') {
      send(res, 200, { shards: shards.stats() });
      return true;
    }
    if (path !== '/knn') return false;
    if (req.method !== 'POST') {
      send(res, 405, { error: 'use POST' });
      return true;
    }
    try {
      const q = parseWith(KnnRequest, parseJsonBytes(await readBody(req), MAX_BODY), 'knn request');
      const requested = q.partitions ?? shards.owned();
      const exclude = new Set(q.exclude ?? []);
      const hits: KnnHit[] = [];
      const answered: number[] = [];
      const missing: number[] = [];
      for (const p of requested) {
        const found = shards.search(p, q.modelId, q.vector, q.k + exclude.size, { filter: q.filter, ef: q.ef });
        if (found === undefined) {
          missing.push(p);
          continue;
        }
        answered.push(p);
        for (const h of found) if (!exclude.has(h.id)) hits.push({ id: h.id, score: h.score, partition: p });
      }
      hits.sort((a, b) => b.score - a.score);
      const body: KnnResponse = { hits: hits.slice(0, q.k), answered, missing };
      send(res, 200, body);
    } catch (err) {
      const status = err instanceof ValidationError ? 400 : 500;
      send(res, status, { error: err instanceof AffinityError ? err.code : 'INTERNAL', message: err instanceof Error ? err.message : String(err) });
    }
    return true;
  };
}
