/**
 * Error taxonomy shared by every Affinity package.
 *
 * Every error knows whether retrying can help (`retriable`) and carries a stable
 * machine-readable `code`. The stream runtime routes on these two fields only:
 * - `retriable: false` → the message goes to the DLQ at once;
 * - `retriable: true`  → bounded exponential backoff, then the DLQ;
 * - `code: 'UNAVAILABLE'` → a dependency (Redis, Kafka, a shard) is down: retried
 *   without bound, because parking events in the DLQ while Redis restarts would
 *   lose them for the main path.
 */
export interface AffinityErrorOptions {
  cause?: unknown;
  retriable?: boolean;
  /** Extra typed context, logged and written to DLQ records. */
  context?: Record<string, unknown>;
}

export class AffinityError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly context: Record<string, unknown>;

  constructor(code: string, message: string, options: AffinityErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }
}

export interface ValidationIssue {
  path: string;
  message: string;
}

/** Input that can never become valid by retrying: bad JSON, schema mismatch, oversize. */
export class ValidationError extends AffinityError {
  readonly issues: readonly ValidationIssue[];

  constructor(message: string, issues: readonly ValidationIssue[] = [], options: AffinityErrorOptions = {}) {
    super('VALIDATION', message, { ...options, retriable: false });
    this.issues = issues;
  }
}

/** A dependency is down or unreachable; the work itself is fine and must not be dropped. */
export class UnavailableError extends AffinityError {
  constructor(message: string, options: AffinityErrorOptions = {}) {
    super('UNAVAILABLE', message, { ...options, retriable: true });
  }
}

/** A transient failure of this particular piece of work (timeouts, throttling). */
export class RetriableError extends AffinityError {
  constructor(message: string, options: AffinityErrorOptions = {}) {
    super('RETRIABLE', message, { ...options, retriable: true });
  }
}

/** Configuration that cannot work; the process should stop and say how to fix it. */
export class ConfigError extends AffinityError {
  constructor(message: string, options: AffinityErrorOptions = {}) {
    super('CONFIG', message, { ...options, retriable: false });
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTCONN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * Classifies any thrown value. Errors we did not create are judged by shape:
 * network errno codes and ioredis/kafkajs connection failures are UNAVAILABLE;
 * programming errors (TypeError, RangeError, ...) are never retried, as retrying
 * a bug only delays the DLQ entry (kafkajs makes the same call).
 */
export function classifyError(err: unknown): AffinityError {
  if (err instanceof AffinityError) return err;
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError || err instanceof ReferenceError) {
    return new AffinityError('BUG', err.message, { cause: err, retriable: false });
  }
  const e = err as { code?: unknown; name?: unknown; message?: unknown; retriable?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const name = typeof e?.name === 'string' ? e.name : '';
  if (
    (code !== undefined && NETWORK_CODES.has(code)) ||
    /Connection is closed|Stream isn't writeable|max retries per request|LOADING|MASTERDOWN|READONLY/i.test(message) ||
    name === 'KafkaJSConnectionError' ||
    name === 'KafkaJSNumberOfRetriesExceeded' ||
    name === 'KafkaJSRequestTimeoutError' ||
    name === 'KafkaJSBrokerNotFound' ||
    name === 'KafkaJSConnectionClosedError'
  ) {
    return new UnavailableError(message, { cause: err });
  }
  if (e?.retriable === false) return new AffinityError(code ?? 'INTERNAL', message, { cause: err, retriable: false });
  // Unknown failures get the benefit of the doubt: a bounded number of retries, then the DLQ.
  return new RetriableError(message, { cause: err });
}
