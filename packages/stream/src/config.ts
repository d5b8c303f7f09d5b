import { isIP } from 'node:net';
import { ConfigError, DEFAULT_MAX_FUTURE_SKEW_MS } from '@affinity/contracts';
import { z } from 'zod';

/**
 * A variable's schema plus the sentence that tells an operator how to fix a bad value.
 * `describe()` on a zod schema is the fix hint; {@link parseEnv} prints it.
 */
export type EnvSchema = Record<string, z.ZodType>;

export type ParsedEnv<S extends EnvSchema> = { [K in keyof S]: z.output<S[K]> };

/**
 * Parses configuration from the environment once, at start-up. Every problem is reported
 * together, each naming the variable, the value seen and the fix, so a bad deployment
 * fails with one readable message instead of a crash loop.
 */
export function parseEnv<S extends EnvSchema>(schema: S, env: NodeJS.ProcessEnv = process.env): ParsedEnv<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  const secrets: string[] = [];
  for (const [name, type] of Object.entries(schema)) {
    const raw = env[name];
    const value = raw === '' ? undefined : raw;
    const secret = isSecret(type);
    if (secret) secrets.push(name);
    const result = type.safeParse(value);
    if (result.success) {
      out[name] = result.data;
    } else {
      // A list's issue says which item (a secret's value is not shown, so that is all there is to go by).
      const why = result.error.issues.map((i) => (typeof i.path[0] === 'number' ? `item ${i.path[0] + 1}: ${i.message}` : i.message)).join('; ');
      const hint = type.description ? ` Fix: ${type.description}` : '';
      const shown = value === undefined ? '(unset)' : secret ? '(secret, not shown)' : JSON.stringify(withoutUrlPassword(value));
      problems.push(`${name}=${shown} is invalid: ${secret && value !== undefined ? withoutSecret(why, value) : why}.${hint}`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  // Which settings are secret travels with the configuration, for the logger's redaction.
  Object.defineProperty(out, SECRET_NAMES, { value: secrets, enumerable: false });
  return out as ParsedEnv<S>;
}

const SECRET_NAMES = Symbol('affinity.secretSettings');

/** True for a setting declared with {@link env.secret}: its value never appears in errors or logs. */
export function isSecret(type: z.ZodType): boolean {
  return (type.meta() as { secret?: unknown } | undefined)?.secret === true;
}

/** The secret settings of a configuration returned by {@link parseEnv} (none for any other object). */
export function secretSettings(config: object): readonly string[] {
  return (config as { [SECRET_NAMES]?: readonly string[] })[SECRET_NAMES] ?? [];
}

/** A value as shown in an error: a URL's password (redis://user:password@host) masked. */
function withoutUrlPassword(value: string): string {
  if (!URL.canParse(value)) return value;
  const url = new URL(value);
  if (url.password === '') return value;
  url.password = '***';
  return url.toString();
}

/** A validation message with every part of a secret value (and each comma-separated item of it) masked. */
function withoutSecret(message: string, value: string): string {
  const parts = [value, ...value.split(',').map((p) => p.trim())].filter((p) => p.length >= 3).sort((a, b) => b.length - a.length);
  return parts.reduce((m, p) => m.split(p).join('***'), message);
}

/** Env helpers: strings are coerced, with defaults and a fix hint. */
export const env = {
  string: (def: string | undefined, hint: string) => (def === undefined ? z.string().min(1) : z.string().min(1).default(def)).describe(hint),
  optionalString: (hint: string) => z.string().min(1).optional().describe(hint),
  int: (def: number, min: number, max: number, hint: string) => z.coerce.number().int().min(min).max(max).default(def).describe(hint),
  number: (def: number, min: number, max: number, hint: string) => z.coerce.number().min(min).max(max).default(def).describe(hint),
  bool: (def: boolean, hint: string) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes')
      .describe(hint),
  list: (def: string, hint: string) =>
    z
      .string()
      .default(def)
      .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0))
      .pipe(z.array(z.string()).min(1, 'expected a comma-separated list'))
      .describe(hint),
  enum: <const T extends readonly [string, ...string[]]>(values: T, def: T[number], hint: string) => z.enum(values).default(def as never).describe(hint),
  /** Marks a setting secret (API keys, passwords): parse errors and logs never show its value. */
  secret: <T extends z.ZodType>(schema: T): T => schema.meta({ ...schema.meta(), secret: true }),
};

/**
 * Kafka TLS and SASL settings (docs/operations.md "Secure connections"). Every worker and
 * operator command reads them through `kafkaSecurity` (connection-security.ts), so a deployment switches them on
 * in one place. Files are read at start-up; a file that cannot be read stops the process with
 * the variable's name, never with its content.
 */
export const kafkaSecurityEnv = {
  KAFKA_SSL: env.bool(false, 'true to connect to the brokers over TLS (a SSL or SASL_SSL listener); the system CAs are trusted unless KAFKA_SSL_CA_FILE names a private CA'),
  KAFKA_SSL_CA_FILE: env.optionalString('path of a PEM file with the CA certificate(s) that signed the brokers’ certificates (needs KAFKA_SSL=true)'),
  KAFKA_SSL_CERT_FILE: env.optionalString('path of this client’s PEM certificate, for brokers that require client certificates (mTLS); set KAFKA_SSL_KEY_FILE with it'),
  KAFKA_SSL_KEY_FILE: env.optionalString('path of the PEM private key of KAFKA_SSL_CERT_FILE (unencrypted; protect it with file permissions)'),
  KAFKA_SASL_MECHANISM: z
    .enum(['plain', 'scram-sha-256', 'scram-sha-512'], { message: 'expected plain, scram-sha-256 or scram-sha-512' })
    .optional()
    .describe('plain, scram-sha-256 or scram-sha-512 to authenticate to the brokers with SASL (needs KAFKA_SASL_USERNAME and a password); unset: no SASL. Use it with KAFKA_SSL=true: PLAIN sends the password as is'),
  KAFKA_SASL_USERNAME: env.optionalString('the SASL user name (with KAFKA_SASL_MECHANISM)'),
  KAFKA_SASL_PASSWORD: env.secret(env.optionalString('the SASL password (with KAFKA_SASL_MECHANISM); prefer KAFKA_SASL_PASSWORD_FILE so it stays out of the process environment')),
  KAFKA_SASL_PASSWORD_FILE: env.optionalString('path of a file holding the SASL password (one trailing newline is ignored); instead of KAFKA_SASL_PASSWORD'),
} satisfies EnvSchema;

/** Redis credentials and TLS; the URL itself is REDIS_URL in {@link redisEnv}. */
export const redisSecurityEnv = {
  REDIS_USERNAME: env.optionalString('the Redis ACL user (Redis 6+); unset with a password: the "default" user (requirepass)'),
  REDIS_PASSWORD: env.secret(env.optionalString('the Redis password (ACL user’s or requirepass); prefer REDIS_PASSWORD_FILE. Credentials in REDIS_URL work too, but not both')),
  REDIS_PASSWORD_FILE: env.optionalString('path of a file holding the Redis password (one trailing newline is ignored); instead of REDIS_PASSWORD'),
  REDIS_TLS_CA_FILE: env.optionalString('path of a PEM file with the CA certificate(s) that signed Redis’s certificate, for a private CA (needs a rediss:// REDIS_URL)'),
  REDIS_TLS_CERT_FILE: env.optionalString('path of this client’s PEM certificate, for a Redis with tls-auth-clients yes; set REDIS_TLS_KEY_FILE with it (needs rediss://)'),
  REDIS_TLS_KEY_FILE: env.optionalString('path of the PEM private key of REDIS_TLS_CERT_FILE'),
} satisfies EnvSchema;

/** Variables every worker understands. */
export const commonEnv = {
  KAFKA_BROKERS: env.list('127.0.0.1:9092', 'a comma-separated list of host:port, e.g. KAFKA_BROKERS=kafka-0:9092,kafka-1:9092'),
  KAFKA_CLIENT_ID: env.string('affinity', 'any short name identifying this deployment'),
  AFFINITY_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, . _ - only')
    .default('')
    .describe('leave empty in production; tests use a unique prefix such as t123.'),
  AFFINITY_CREATE_TOPICS: env.bool(true, 'true to create missing topics at start (needs topic-create rights), false when topics are managed elsewhere'),
  KAFKA_REPLICATION_FACTOR: env.int(-1, -1, 16, 'replication factor of topics created at start (-1 = the broker default)'),
  LOG_LEVEL: env.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'one of fatal, error, warn, info, debug, trace, silent'),
  HTTP_PORT: env.int(8080, 0, 65535, 'the port for /healthz, /readyz and /metrics (0 = any free port)'),
  HTTP_HOST: z
    .string()
    .default('127.0.0.1')
    .refine((h) => isIP(h) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(h), 'expected an IP address or a host name')
    .describe(
      'the address the HTTP server listens on (the API; every worker’s /healthz, /readyz and /metrics; the indexer’s kNN): 127.0.0.1 serves this machine only; 0.0.0.0 (:: for IPv6) every interface, which containers need so that probes, Prometheus and other pods reach them (the Docker image, docker-compose.yml and infra/k8s set it)',
    ),
  METRICS_ENABLED: env.bool(true, 'false: no /metrics at all (404); /healthz and /readyz are served either way'),
  METRICS_TOKEN: env.secret(
    z
      .string()
      .min(16, 'at least 16 characters')
      .optional()
      .describe('when set, /metrics answers only requests with Authorization: Bearer <this token> (401 otherwise; in Prometheus, authorization.credentials_file); probes never need it. Unset: /metrics is open to whoever reaches HTTP_HOST:HTTP_PORT'),
  ),
  SHUTDOWN_GRACE_MS: env.int(20_000, 100, 600_000, 'milliseconds to drain on SIGTERM; keep it below the Kubernetes terminationGracePeriodSeconds'),
  CONSUMER_SESSION_TIMEOUT_MS: env.int(30_000, 6000, 300_000, 'milliseconds (the broker allows 6000..300000); lower means faster failover after a crash, higher tolerates longer pauses'),
  CONSUMER_STALL_TIMEOUT_MS: env.int(
    120_000,
    1000,
    3_600_000,
    'milliseconds a partition may make no progress before the worker reports not ready, and not healthy (restarted) unless a dependency outage explains it; keep it above the slowest handler call, including one that fails because Redis is down (up to about 3 s)',
  ),
  EVENT_MAX_FUTURE_SKEW_MS: env.int(
    DEFAULT_MAX_FUTURE_SKEW_MS,
    0,
    365 * 24 * 3600 * 1000,
    'milliseconds a product’s updatedAt or an interaction’s ts may be ahead of the receiving clock (API ingest and consumers); later ones are rejected, since a time in the future would win over every real update. Past times are always accepted',
  ),
  ...kafkaSecurityEnv,
  INSTANCE_ID: env.string(process.env.HOSTNAME ?? `pid-${process.pid}`, 'a name unique among running instances (the pod name in Kubernetes)'),
} satisfies EnvSchema;

/** Redis settings shared by every service that keeps state there. */
export const redisEnv = {
  // Not a secret setting (deployments set it in plain config); a password in it is masked in errors.
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((u) => URL.canParse(u) && /^rediss?:$/.test(new URL(u).protocol), 'expected a redis:// or rediss:// URL')
    .describe('a redis:// URL, e.g. redis://redis:6379, or rediss:// for TLS (see REDIS_TLS_CA_FILE); credentials go in REDIS_USERNAME and REDIS_PASSWORD_FILE (or in the URL, rediss://user:password@host:6380, which then must not be logged)'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._{}-]+$/, 'letters, digits and . _ - { } only')
    .default('affinity')
    .describe('the prefix of every Redis key; all services of one deployment must share it'),
  ...redisSecurityEnv,
  INDEX_REGISTRY_NAMESPACE: env.optionalString('the Redis key prefix of the vector-index shard registry (default: REDIS_PREFIX:index); indexers, recommender and API must agree'),
} satisfies EnvSchema;

/** The shard registry namespace: explicit, or derived from the Redis prefix. */
export function registryNamespace(config: { REDIS_PREFIX: string; INDEX_REGISTRY_NAMESPACE?: string | undefined }): string {
  return config.INDEX_REGISTRY_NAMESPACE ?? `${config.REDIS_PREFIX}:index`;
}
