import { ConfigError } from '@affinity/contracts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { backoffDelay, commonEnv, compileRetryPolicy, env, parseEnv, secretSettings } from '../src';

describe('parseEnv', () => {
  it('applies defaults and coerces types', () => {
    const cfg = parseEnv(commonEnv, {});
    expect(cfg.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(cfg.HTTP_PORT).toBe(8080);
    expect(cfg.AFFINITY_TOPIC_PREFIX).toBe('');
    const custom = parseEnv({ ...commonEnv, FLAG: env.bool(false, 'true or false') }, { KAFKA_BROKERS: 'a:1, b:2', HTTP_PORT: '9000', FLAG: 'yes' });
    expect(custom.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect(custom.HTTP_PORT).toBe(9000);
    expect(custom.FLAG).toBe(true);
  });

  it('reports every bad variable with its value and the fix', () => {
    let err: unknown;
    try {
      parseEnv(commonEnv, { HTTP_PORT: 'eighty', LOG_LEVEL: 'loud', SHUTDOWN_GRACE_MS: '5' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/HTTP_PORT="eighty" is invalid: .*Fix: the port for/);
    expect(msg).toMatch(/LOG_LEVEL="loud" is invalid/);
    expect(msg).toMatch(/SHUTDOWN_GRACE_MS="5" is invalid: .*Kubernetes terminationGracePeriodSeconds/);
  });

  it('never shows a secret value, not even inside a validator message', () => {
    const schema = {
      SERVICE_TOKEN: env.secret(z.string().superRefine((v, ctx) => ctx.addIssue({ code: 'custom', message: `token ${v} is revoked; tokens hunter2-a and hunter2-b are too` })).describe('a live token')),
      LOG_LEVEL: commonEnv.LOG_LEVEL,
    };
    expect(() => parseEnv(schema, { SERVICE_TOKEN: 'hunter2-a,hunter2-b', LOG_LEVEL: 'loud' })).toThrow(
      /SERVICE_TOKEN=\(secret, not shown\) is invalid: token \*\*\* is revoked; tokens \*\*\* and \*\*\* are too\. Fix: a live token\n {2}- LOG_LEVEL="loud" is invalid/,
    );
    expect(secretSettings(parseEnv({ SERVICE_TOKEN: env.secret(z.string()), ...commonEnv }, { SERVICE_TOKEN: 'x' }))).toEqual(['SERVICE_TOKEN', 'METRICS_TOKEN', 'KAFKA_SASL_PASSWORD']);
  });

  it('names a required variable that is missing', () => {
    expect(() => parseEnv({ TOPIC: env.string(undefined, 'the topic to read') }, {})).toThrow(/TOPIC=\(unset\) is invalid.*Fix: the topic to read/);
  });
});

describe('backoff', () => {
  it('grows exponentially within [cap/2, cap] and respects the ceiling', () => {
    const p = compileRetryPolicy({ initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2 });
    expect(backoffDelay(1, p, () => 0)).toBe(50);
    expect(backoffDelay(1, p, () => 1)).toBe(100);
    expect(backoffDelay(3, p, () => 1)).toBe(400);
    expect(backoffDelay(10, p, () => 1)).toBe(1000);
    expect(backoffDelay(10, p, () => 0)).toBe(500);
  });
  it('rejects impossible policies', () => {
    expect(() => compileRetryPolicy({ maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => compileRetryPolicy({ initialDelayMs: 10, maxDelayMs: 5 })).toThrow(/initialDelayMs/);
  });
});
