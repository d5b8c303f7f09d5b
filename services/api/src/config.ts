import { isIP } from 'node:net';
import { commonEnv, env, parseEnv, redisEnv } from '@affinity/stream';
import { z } from 'zod';

const keyList = (hint: string) =>
  env.secret(
    z
      .string()
      .default('')
      .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0))
      .pipe(z.array(z.string().min(16, 'API keys must be at least 16 characters')))
      .describe(hint),
  );

/** proxy-addr's names for address ranges, accepted in API_TRUST_PROXY like addresses. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** Why one API_TRUST_PROXY entry is not an address, a CIDR or a range name (undefined when it is). */
function proxyEntryProblem(entry: string): string | undefined {
  if (PROXY_RANGE_NAMES.includes(entry)) return undefined;
  const [address = '', bits, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return `"${entry}" is not an IP address, a CIDR or one of ${PROXY_RANGE_NAMES.join(', ')}`;
  if (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128))) return `"${entry}": the prefix length must be 0..${version === 4 ? 32 : 128}`;
  return undefined;
}

/** false | true | the proxies' addresses; what fastify's trustProxy takes, minus hop counts. */
const trustProxy = z
  .string()
  .default('false')
  .transform((raw, ctx): boolean | string[] => {
    const s = raw.trim();
    if (s === 'false') return false;
    if (s === 'true') return true;
    if (/^\d+$/.test(s)) {
      ctx.addIssue({ code: 'custom', message: 'a hop count cannot tell the proxy from a client that reaches the API directly (fastify refuses it too); give the proxies’ addresses or CIDRs' });
      return z.NEVER;
    }
    const entries = s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
    for (const entry of entries) {
      const problem = proxyEntryProblem(entry);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }
    return entries;
  })
  .describe(
    'false: X-Forwarded-For is ignored and a client is its TCP peer address (for rate limits and failed-authentication throttling); a comma-separated list of your proxies’ addresses or CIDRs (or loopback, linklocal, uniquelocal): the header is believed from those only, e.g. the ingress controller’s pod CIDR; true: believed from anyone (only when nothing but the proxy can reach the API)',
  );

export const apiEnv = {
  ...commonEnv,
  ...redisEnv,
  HTTP_PORT: env.int(8080, 0, 65535, 'the port the API listens on'),
  INDEX_SHARDS: env.int(6, 1, 1024, 'number of vector-index shards = partitions of products.enriched.v1'),
  INDEX_TIMEOUT_MS: env.int(1000, 50, 60_000, 'milliseconds to wait for an index shard'),
  API_WRITE_KEYS: keyList('comma-separated keys allowed to POST events; empty disables write auth (development only)'),
  API_READ_KEYS: keyList('comma-separated keys allowed to read; empty disables read auth. Write keys can always read'),
  API_BODY_LIMIT_BYTES: env.int(1_048_576, 1024, 16_777_216, 'largest request body in bytes'),
  API_MAX_EVENTS_PER_REQUEST: env.int(500, 1, 10_000, 'events accepted in one POST'),
  API_RATE_LIMIT_PER_MINUTE: env.int(6000, 1, 10_000_000, 'requests per minute per API key (or per client address, for requests without a configured key)'),
  API_AUTH_FAILURES_PER_MINUTE: env.int(
    30,
    1,
    10_000_000,
    'failed authentications (401/403) one client address may have per minute and API instance; after that many, every request from it, the right key included, gets 429 until its minute ends (/healthz and /readyz excepted). Clients behind one NAT share an address; behind a proxy set API_TRUST_PROXY, or all clients share the proxy’s',
  ),
  API_TRUST_PROXY: trustProxy,
  EMBEDDING_MODEL_ID: env.optionalString('the embedding model for /v1/search queries; must be the model the enricher uses (default: the registry default)'),
};

export function loadApiConfig(source: NodeJS.ProcessEnv = process.env) {
  return parseEnv(apiEnv, source);
}
