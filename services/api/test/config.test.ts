import { ConfigError } from '@affinity/contracts';
import { createLogger, isSecret, secretSettings } from '@affinity/stream';
import { describe, expect, it } from 'vitest';
import { SERVICE_ENVS } from '../../../scripts/config-reference';
import { loadApiConfig } from '../src/config';

const VALID = 'write-key-0123456789abcdef';
const READ = 'read-key-0123456789abcdef';
const METRICS = 'metrics-token-0123456789abcdef';

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadApiConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('secret settings', () => {
  it('a bad API key list names the variable, the problem and the fix, but never shows a key', () => {
    const msg = configError({ API_WRITE_KEYS: `${VALID},short`, API_READ_KEYS: 'tiny', HTTP_PORT: 'eighty' });
    expect(msg).toMatch(/API_WRITE_KEYS=\(secret, not shown\) is invalid: item 2: API keys must be at least 16 characters\. Fix: comma-separated keys allowed to POST events/);
    expect(msg).toMatch(/API_READ_KEYS=\(secret, not shown\) is invalid: item 1: API keys/);
    expect(msg).not.toContain(VALID);
    expect(msg).not.toContain('short');
    expect(msg).not.toContain('tiny');
    // Settings that are not secret still show their value.
    expect(msg).toContain('HTTP_PORT="eighty" is invalid');
  });

  it('secret settings are logged as [redacted], at the top level and one level down, and so are auth headers', () => {
    const config = loadApiConfig({ API_WRITE_KEYS: VALID, API_READ_KEYS: READ, METRICS_TOKEN: METRICS });
    expect(secretSettings(config)).toEqual(['METRICS_TOKEN', 'KAFKA_SASL_PASSWORD', 'REDIS_PASSWORD', 'API_WRITE_KEYS', 'API_READ_KEYS']);
    const lines: string[] = [];
    const logger = createLogger('api-test', 'info', { secrets: secretSettings(config), destination: { write: (s: string) => void lines.push(s) } });
    logger.info({ config }, 'configuration');
    logger.warn({ API_WRITE_KEYS: config.API_WRITE_KEYS }, 'keys');
    logger.error({ req: { headers: { authorization: `Bearer ${READ}`, 'x-api-key': VALID } } }, 'request');
    const out = lines.join('');
    expect(out).not.toContain(VALID);
    expect(out).not.toContain(READ);
    expect(out).not.toContain(METRICS);
    expect(out.match(/\[redacted\]/g)).toHaveLength(8); // five in config, one key list, two headers
    expect(JSON.parse(lines[0]!).config.HTTP_PORT).toBe(8080);
  });

  it('every setting that holds a credential is declared secret', () => {
    const credential = /KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL/;
    // A *_FILE setting is the path of a credential, not the credential.
    const names = Object.values(SERVICE_ENVS).flatMap((schema) => Object.entries(schema).filter(([name]) => credential.test(name) && !name.endsWith('_FILE')));
    expect(names.map(([name]) => name)).toEqual(expect.arrayContaining(['API_WRITE_KEYS', 'KAFKA_SASL_PASSWORD', 'REDIS_PASSWORD']));
    for (const [name, type] of names) expect(isSecret(type), name).toBe(true);
  });
});
