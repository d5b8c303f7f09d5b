import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '@affinity/contracts';
import type { SASLOptions } from 'kafkajs';
import type { z } from 'zod';
import type { kafkaSecurityEnv, redisSecurityEnv } from './config';

type Settings<S extends Record<string, z.ZodType>> = { [K in keyof S]?: z.output<S[K]> };

/** What kafkajs needs beyond brokers and client id: pass both to `createKafka`. */
export interface KafkaSecurity {
  ssl?: ConnectionOptions | true;
  sasl?: SASLOptions;
}

/** What ioredis needs to connect: pass it to `createRedis` (packages/store). */
export interface RedisConnection {
  url: string;
  username?: string;
  password?: string;
  tls?: ConnectionOptions;
}

export type ReadFile = (path: string) => string;
const readUtf8: ReadFile = (path) => readFileSync(path, 'utf8');

/** Reads a file named by a variable; problems name the variable and path, never content. */
function fileOf(name: string, path: string | undefined, problems: string[], read: ReadFile, pem: boolean): string | undefined {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    problems.push(`${name}=${JSON.stringify(path)} cannot be read (${code}). Fix: point it at a readable file`);
    return undefined;
  }
  if (pem && !text.includes('-----BEGIN ')) {
    problems.push(`${name}=${JSON.stringify(path)} is not a PEM file (no "-----BEGIN" line). Fix: convert it with openssl (e.g. openssl x509 -inform der -in x.der -out x.pem)`);
    return undefined;
  }
  if (!pem) {
    // A password file usually ends with one newline; anything else is part of the password.
    text = text.replace(/\r?\n$/, '');
    if (text.length === 0) problems.push(`${name}=${JSON.stringify(path)} is empty. Fix: write the password into it`);
  }
  return text;
}

function passwordOf(prefix: string, value: string | undefined, file: string | undefined, problems: string[], read: ReadFile): string | undefined {
  if (value !== undefined && file !== undefined) {
    problems.push(`${prefix}_PASSWORD and ${prefix}_PASSWORD_FILE are both set. Fix: set only one`);
    return undefined;
  }
  return value ?? fileOf(`${prefix}_PASSWORD_FILE`, file, problems, read, false);
}

function fail(problems: string[]): void {
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
}

/**
 * The kafkajs `ssl` and `sasl` options from parsed settings. Throws a {@link ConfigError} listing
 * every problem: SASL without user or password, credentials without a mechanism, TLS files
 * without KAFKA_SSL, a certificate without its key, an unreadable or non-PEM file.
 */
export function kafkaSecurity(config: Settings<typeof kafkaSecurityEnv>, read: ReadFile = readUtf8): KafkaSecurity {
  const problems: string[] = [];
  const out: KafkaSecurity = {};
  const files = { KAFKA_SSL_CA_FILE: config.KAFKA_SSL_CA_FILE, KAFKA_SSL_CERT_FILE: config.KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE: config.KAFKA_SSL_KEY_FILE };
  if (config.KAFKA_SSL === true) {
    if ((files.KAFKA_SSL_CERT_FILE === undefined) !== (files.KAFKA_SSL_KEY_FILE === undefined)) {
      problems.push('KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together. Fix: set both (client certificate and its key) or neither');
    }
    const ca = fileOf('KAFKA_SSL_CA_FILE', files.KAFKA_SSL_CA_FILE, problems, read, true);
    const cert = fileOf('KAFKA_SSL_CERT_FILE', files.KAFKA_SSL_CERT_FILE, problems, read, true);
    const key = fileOf('KAFKA_SSL_KEY_FILE', files.KAFKA_SSL_KEY_FILE, problems, read, true);
    out.ssl = ca === undefined && cert === undefined ? true : { rejectUnauthorized: true, ...(ca !== undefined && { ca: [ca] }), ...(cert !== undefined && { cert }), ...(key !== undefined && { key }) };
  } else {
    for (const [name, value] of Object.entries(files)) {
      if (value !== undefined) problems.push(`${name} is set but KAFKA_SSL is not true. Fix: set KAFKA_SSL=true, or unset ${name}`);
    }
  }
  const mechanism = config.KAFKA_SASL_MECHANISM;
  const hasPassword = config.KAFKA_SASL_PASSWORD !== undefined || config.KAFKA_SASL_PASSWORD_FILE !== undefined;
  if (mechanism === undefined) {
    if (config.KAFKA_SASL_USERNAME !== undefined || hasPassword) {
      problems.push('KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but KAFKA_SASL_MECHANISM is not. Fix: set KAFKA_SASL_MECHANISM to plain, scram-sha-256 or scram-sha-512');
    }
  } else {
    const username = config.KAFKA_SASL_USERNAME;
    if (username === undefined) problems.push(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_USERNAME. Fix: set the SASL user name`);
    if (!hasPassword) problems.push(`KAFKA_SASL_MECHANISM=${mechanism} needs a password. Fix: set KAFKA_SASL_PASSWORD_FILE (or KAFKA_SASL_PASSWORD)`);
    const password = passwordOf('KAFKA_SASL', config.KAFKA_SASL_PASSWORD, config.KAFKA_SASL_PASSWORD_FILE, problems, read);
    if (username !== undefined && password !== undefined) out.sasl = { mechanism, username, password } as SASLOptions;
  }
  fail(problems);
  return out;
}

/**
 * The ioredis connection from parsed settings: REDIS_URL plus credentials and TLS files.
 * Throws a {@link ConfigError} for TLS files with a redis:// URL, credentials both in the URL
 * and in REDIS_USERNAME/REDIS_PASSWORD, an unreadable or non-PEM file.
 */
export function redisConnection(config: { REDIS_URL: string } & Settings<typeof redisSecurityEnv>, read: ReadFile = readUtf8): RedisConnection {
  const problems: string[] = [];
  const url = new URL(config.REDIS_URL); // validated by redisEnv.REDIS_URL
  const tls = url.protocol === 'rediss:';
  const out: RedisConnection = { url: config.REDIS_URL };
  const files = { REDIS_TLS_CA_FILE: config.REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE: config.REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE: config.REDIS_TLS_KEY_FILE };
  if (tls) {
    if ((files.REDIS_TLS_CERT_FILE === undefined) !== (files.REDIS_TLS_KEY_FILE === undefined)) {
      problems.push('REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE go together. Fix: set both (client certificate and its key) or neither');
    }
    const ca = fileOf('REDIS_TLS_CA_FILE', files.REDIS_TLS_CA_FILE, problems, read, true);
    const cert = fileOf('REDIS_TLS_CERT_FILE', files.REDIS_TLS_CERT_FILE, problems, read, true);
    const key = fileOf('REDIS_TLS_KEY_FILE', files.REDIS_TLS_KEY_FILE, problems, read, true);
    out.tls = { rejectUnauthorized: true, ...(ca !== undefined && { ca: [ca] }), ...(cert !== undefined && { cert }), ...(key !== undefined && { key }) };
  } else {
    for (const [name, value] of Object.entries(files)) {
      if (value !== undefined) problems.push(`${name} is set but REDIS_URL is not rediss://. Fix: use a rediss:// URL (TLS), or unset ${name}`);
    }
  }
  const inUrl = url.username !== '' || url.password !== '';
  const hasPassword = config.REDIS_PASSWORD !== undefined || config.REDIS_PASSWORD_FILE !== undefined;
  if (inUrl && (hasPassword || config.REDIS_USERNAME !== undefined)) {
    problems.push('REDIS_URL carries credentials and REDIS_USERNAME/REDIS_PASSWORD(_FILE) are set too. Fix: keep the credentials in one place (preferably REDIS_PASSWORD_FILE)');
  } else {
    if (config.REDIS_USERNAME !== undefined && !hasPassword) problems.push('REDIS_USERNAME needs a password. Fix: set REDIS_PASSWORD_FILE (or REDIS_PASSWORD)');
    const password = passwordOf('REDIS', config.REDIS_PASSWORD, config.REDIS_PASSWORD_FILE, problems, read);
    if (password !== undefined) {
      out.password = password;
      if (config.REDIS_USERNAME !== undefined) out.username = config.REDIS_USERNAME;
    }
  }
  fail(problems);
  return out;
}

/** A URL fit for logs: the password (if any) replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
