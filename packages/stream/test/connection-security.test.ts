import { ConfigError } from '@affinity/contracts';
import { describe, expect, it } from 'vitest';
import { commonEnv, createLogger, kafkaSecurity, parseEnv, redactUrl, redisConnection, redisEnv, secretSettings } from '../src';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const FILES: Record<string, string> = {
  '/s/ca.pem': PEM,
  '/s/client.pem': PEM,
  '/s/client.key': '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n',
  '/s/password': 'hunter2-file\n',
  '/s/empty': '',
  '/s/ca.der': '0\x82\x01\x0a',
};
const read = (path: string): string => {
  const text = FILES[path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
  return text;
};

const kafka = (vars: Record<string, string>) => kafkaSecurity(parseEnv(commonEnv, vars), read);
const redis = (vars: Record<string, string>) => redisConnection(parseEnv(redisEnv, vars), read);

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('kafkaSecurity', () => {
  it('is plaintext without SASL by default', () => {
    expect(kafka({})).toEqual({});
  });

  it('KAFKA_SSL alone trusts the system CAs', () => {
    expect(kafka({ KAFKA_SSL: 'true' })).toEqual({ ssl: true });
  });

  it('reads a private CA and a client certificate', () => {
    const s = kafka({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/s/ca.pem', KAFKA_SSL_CERT_FILE: '/s/client.pem', KAFKA_SSL_KEY_FILE: '/s/client.key' });
    expect(s.ssl).toEqual({ rejectUnauthorized: true, ca: [PEM], cert: PEM, key: FILES['/s/client.key'] });
    expect(s.sasl).toBeUndefined();
  });

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'] as const)('SASL %s with a password or a password file', (mechanism) => {
    expect(kafka({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'hunter2' }).sasl).toEqual({ mechanism, username: 'svc', password: 'hunter2' });
    // One trailing newline of the file is not part of the password.
    expect(kafka({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD_FILE: '/s/password' }).sasl).toEqual({ mechanism, username: 'svc', password: 'hunter2-file' });
  });

  it('refuses an unknown mechanism, naming the choices', () => {
    expect(problemOf(() => kafka({ KAFKA_SASL_MECHANISM: 'gssapi' }))).toMatch(/KAFKA_SASL_MECHANISM="gssapi" is invalid: expected plain, scram-sha-256 or scram-sha-512/);
  });

  it('refuses SASL without a user name or password, and credentials without a mechanism', () => {
    const msg = problemOf(() => kafka({ KAFKA_SASL_MECHANISM: 'scram-sha-512' }));
    expect(msg).toMatch(/KAFKA_SASL_MECHANISM=scram-sha-512 needs KAFKA_SASL_USERNAME/);
    expect(msg).toMatch(/KAFKA_SASL_MECHANISM=scram-sha-512 needs a password/);
    expect(problemOf(() => kafka({ KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'hunter2' }))).toMatch(/KAFKA_SASL_MECHANISM is not/);
  });

  it('refuses both a password and a password file, an unreadable file and an empty one', () => {
    const base = { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'svc' };
    expect(problemOf(() => kafka({ ...base, KAFKA_SASL_PASSWORD: 'hunter2', KAFKA_SASL_PASSWORD_FILE: '/s/password' }))).toMatch(/both set/);
    expect(problemOf(() => kafka({ ...base, KAFKA_SASL_PASSWORD_FILE: '/s/missing' }))).toMatch(/KAFKA_SASL_PASSWORD_FILE="\/s\/missing" cannot be read \(ENOENT\)/);
    expect(problemOf(() => kafka({ ...base, KAFKA_SASL_PASSWORD_FILE: '/s/empty' }))).toMatch(/is empty/);
  });

  it('refuses TLS files without KAFKA_SSL, a certificate without its key, and files that are not PEM', () => {
    expect(problemOf(() => kafka({ KAFKA_SSL_CA_FILE: '/s/ca.pem' }))).toMatch(/KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true/);
    expect(problemOf(() => kafka({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: '/s/client.pem' }))).toMatch(/KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together/);
    expect(problemOf(() => kafka({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/s/ca.der' }))).toMatch(/KAFKA_SSL_CA_FILE="\/s\/ca.der" is not a PEM file/);
    expect(problemOf(() => kafka({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/s/nope.pem' }))).toMatch(/cannot be read \(ENOENT\)/);
  });

  it('reports every problem at once and never the password', () => {
    const msg = problemOf(() => kafka({ KAFKA_SSL_CA_FILE: '/s/ca.pem', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'hunter2' }));
    expect(msg).toMatch(/KAFKA_SSL_CA_FILE is set/);
    expect(msg).toMatch(/KAFKA_SASL_MECHANISM is not/);
    expect(msg).not.toContain('hunter2');
  });
});

describe('redisConnection', () => {
  it('passes a plain URL through', () => {
    expect(redis({})).toEqual({ url: 'redis://127.0.0.1:6379' });
  });

  it('keeps credentials in a rediss:// URL and turns TLS on with a private CA', () => {
    expect(redis({ REDIS_URL: 'rediss://svc:hunter2@redis:6380', REDIS_TLS_CA_FILE: '/s/ca.pem' })).toEqual({
      url: 'rediss://svc:hunter2@redis:6380',
      tls: { rejectUnauthorized: true, ca: [PEM] },
    });
    expect(redis({ REDIS_URL: 'rediss://redis:6380' }).tls).toEqual({ rejectUnauthorized: true });
  });

  it('takes an ACL user and a password (file), or requirepass without a user', () => {
    expect(redis({ REDIS_USERNAME: 'svc', REDIS_PASSWORD_FILE: '/s/password' })).toEqual({ url: 'redis://127.0.0.1:6379', username: 'svc', password: 'hunter2-file' });
    expect(redis({ REDIS_PASSWORD: 'hunter2' })).toEqual({ url: 'redis://127.0.0.1:6379', password: 'hunter2' });
  });

  it('refuses TLS files with redis://, credentials in two places, a user without a password, a bad URL', () => {
    expect(problemOf(() => redis({ REDIS_TLS_CA_FILE: '/s/ca.pem' }))).toMatch(/REDIS_TLS_CA_FILE is set but REDIS_URL is not rediss:\/\//);
    expect(problemOf(() => redis({ REDIS_URL: 'redis://u:hunter2@h:6379', REDIS_PASSWORD: 'other' }))).toMatch(/credentials in one place/);
    expect(problemOf(() => redis({ REDIS_USERNAME: 'svc' }))).toMatch(/REDIS_USERNAME needs a password/);
    expect(problemOf(() => redis({ REDIS_URL: 'rediss://h', REDIS_TLS_KEY_FILE: '/s/client.key' }))).toMatch(/go together/);
    // The URL may carry a password: it is masked.
    const bad = problemOf(() => redis({ REDIS_URL: 'http://u:hunter2@h' }));
    expect(bad).toMatch(/REDIS_URL="http:\/\/u:\*\*\*@h\/" is invalid: expected a redis:\/\/ or rediss:\/\/ URL/);
    expect(bad).not.toContain('hunter2');
  });
});

describe('secrets stay out of logs', () => {
  it('the passwords are secret settings, redacted by the logger', () => {
    const config = parseEnv({ ...commonEnv, ...redisEnv }, { KAFKA_SASL_PASSWORD: 'hunter2', REDIS_PASSWORD: 'hunter3' });
    expect(secretSettings(config)).toEqual(expect.arrayContaining(['KAFKA_SASL_PASSWORD', 'REDIS_PASSWORD']));
    const lines: string[] = [];
    const logger = createLogger('t', 'info', { secrets: secretSettings(config), destination: { write: (s: string) => void lines.push(s) } });
    logger.info({ config }, 'config');
    expect(lines.join('')).not.toMatch(/hunter[23]/);
  });

  it('redactUrl masks a URL’s password', () => {
    expect(redactUrl('rediss://svc:hunter2@redis:6380/0')).toBe('rediss://svc:***@redis:6380/0');
    expect(redactUrl('redis://redis:6379')).toBe('redis://redis:6379');
  });
});
