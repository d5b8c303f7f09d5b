import { timingSafeEqual } from 'node:crypto';

/** Who may read /metrics (METRICS_ENABLED, METRICS_TOKEN); probes (/healthz, /readyz) are never restricted. */
export interface MetricsExposure {
  enabled: boolean;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
}

/** The HTTP settings of {@link commonEnv} as the options runService takes. */
export interface HttpExposure {
  httpPort: number;
  httpHost: string;
  metrics: MetricsExposure;
}

/** Where a service's HTTP server listens and who may read its metrics, from its parsed configuration. */
export function httpExposure(config: { HTTP_PORT: number; HTTP_HOST: string; METRICS_ENABLED: boolean; METRICS_TOKEN?: string | undefined }): HttpExposure {
  return { httpPort: config.HTTP_PORT, httpHost: config.HTTP_HOST, metrics: { enabled: config.METRICS_ENABLED, token: config.METRICS_TOKEN } };
}

const BEARER = /^bearer +(\S+) *$/i;

/**
 * What /metrics answers a request with this Authorization header: `ok`, `disabled` (404: there
 * is no such route) or `unauthorized` (401). The token is compared in constant time.
 */
export function metricsAccess(exposure: MetricsExposure | undefined, authorization: string | undefined): 'ok' | 'disabled' | 'unauthorized' {
  if (exposure && !exposure.enabled) return 'disabled';
  if (exposure?.token === undefined) return 'ok';
  const given = Buffer.from(BEARER.exec(authorization ?? '')?.[1] ?? '');
  const expected = Buffer.from(exposure.token);
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'unauthorized';
}

/** The 401 body and the header that names the scheme, for a /metrics request without the right token. */
export const METRICS_UNAUTHORIZED = {
  headers: { 'www-authenticate': 'Bearer realm="metrics"' },
  error: 'UNAUTHENTICATED',
  message: 'send the metrics token (METRICS_TOKEN) as Authorization: Bearer <token>',
} as const;
