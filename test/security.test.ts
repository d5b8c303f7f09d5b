/**
 * Secure connections (docs/operations.md "Secure connections"): a private Kafka broker in KRaft
 * mode whose only client listener is SASL_SSL (PLAIN and SCRAM-SHA-512), and a private Redis that
 * speaks TLS only, with an ACL user and requirepass, both with certificates from a CA this test
 * makes. The services' own configuration path (parseEnv → kafkaSecurity/redisConnection →
 * createWorkerKit/createRedis) must get through; a wrong password, a client without TLS and a
 * client that does not trust the CA must not.
 *
 * It does not use the shared stack: it starts its own broker and Redis on free ports, from the
 * Kafka jars the project installs (infra/scripts/kafka-install.sh) and the redis-server on PATH.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRedis, type Redis } from '@affinity/store';
import { commonEnv, createWorkerKit, kafkaSecurity, parseEnv, redisConnection, redisEnv, type WorkerKit } from '@affinity/stream';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, freePort } from './support/processes';

const missing = ['java', 'openssl', 'redis-server'].filter((bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0);
if (missing.length > 0) console.warn(`security.test.ts skipped: ${missing.join(', ')} not installed (./dev setup installs them)`);

const KAFKA_USERS = { plain: ['alice', 'alice-secret'], scram: ['bob', 'bob-secret'] } as const;
const REDIS_ACL = ['carol', 'carol-secret'] as const;
const REDIS_REQUIREPASS = 'default-secret';

let dir = '';
let kafkaPort = 0;
let redisPort = 0;
const children: ChildProcess[] = [];
// A test runner that dies must not leave a broker or a Redis behind it.
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
const redisClients: Redis[] = [];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA and a server certificate for 127.0.0.1/localhost signed by it, PEM; plus an unrelated CA. */
function makeCertificates(): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=affinity-test-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
  // Kafka's PEM keystore: the (PKCS#8) private key followed by the certificate.
  writeFileSync(join(dir, 'server-keystore.pem'), readFileSync(join(dir, 'server.key'), 'utf8') + readFileSync(join(dir, 'server.pem'), 'utf8'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '2', '-subj', '/CN=someone-else');
  writeFileSync(join(dir, 'bob.password'), `${KAFKA_USERS.scram[1]}\n`);
  writeFileSync(join(dir, 'alice.password'), KAFKA_USERS.plain[1]);
  writeFileSync(join(dir, 'carol.password'), `${REDIS_ACL[1]}\n`);
}

function startLogged(cmd: string, args: string[], log: string): ChildProcess {
  const out = createWriteStream(join(dir, log));
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  children.push(child);
  return child;
}

/** One broker+controller; the only client listener is SASL_SSL (PLAIN and SCRAM-SHA-512). */
function startKafka(controllerPort: number): void {
  // The jars ./dev setup fetched (verified against the lock); prints their directory.
  const libs = execFileSync(resolve(ROOT, 'infra/scripts/kafka-install.sh'), { encoding: 'utf8' }).trim().split('\n').pop()!;
  const [admin, adminPassword] = ['admin', 'admin-secret'];
  const properties = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=SASL_SSL://127.0.0.1:${kafkaPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${kafkaPort}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=SASL_SSL',
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=PLAIN',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${admin}" password="${adminPassword}" user_${admin}="${adminPassword}" user_${KAFKA_USERS.plain[0]}="${KAFKA_USERS.plain[1]}";`,
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${join(dir, 'server-keystore.pem')}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${join(dir, 'ca.pem')}`,
    `log.dirs=${join(dir, 'kafka-data')}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
  ];
  writeFileSync(join(dir, 'server.properties'), `${properties.join('\n')}\n`);
  const log4j = `-Dlog4j.configuration=file:${resolve(ROOT, 'infra/kafka/log4j.properties')}`;
  const cp = `${libs}/*`;
  const clusterId = execFileSync('java', ['-cp', cp, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop()!;
  // SCRAM credentials exist before the first start only if the format step writes them.
  execFileSync('java', [log4j, '-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', join(dir, 'server.properties'), '--add-scram', `SCRAM-SHA-512=[name=${KAFKA_USERS.scram[0]},password=${KAFKA_USERS.scram[1]}]`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  startLogged('java', ['-Xms128m', '-Xmx512m', '-XX:+UseG1GC', '-Djava.awt.headless=true', log4j, '-cp', cp, 'kafka.Kafka', join(dir, 'server.properties')], 'kafka.log');
}

/** TLS only (no plain port), an ACL user, and requirepass for the default user. */
function startRedis(): void {
  const conf = [
    'bind 127.0.0.1',
    'port 0',
    `tls-port ${redisPort}`,
    `tls-cert-file ${join(dir, 'server.pem')}`,
    `tls-key-file ${join(dir, 'server.key')}`,
    `tls-ca-cert-file ${join(dir, 'ca.pem')}`,
    'tls-auth-clients no',
    'save ""',
    'appendonly no',
    `dir ${dir}`,
    `requirepass ${REDIS_REQUIREPASS}`,
    `user ${REDIS_ACL[0]} on >${REDIS_ACL[1]} ~* &* +@all`,
  ];
  writeFileSync(join(dir, 'redis.conf'), `${conf.join('\n')}\n`);
  startLogged('redis-server', [join(dir, 'redis.conf')], 'redis.log');
}

function logTail(name: string): string {
  try {
    return readFileSync(join(dir, name), 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Retries `probe` until it succeeds; a child that exits fails at once with its log. */
async function waitFor(what: string, log: string, child: ChildProcess, probe: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited during start-up:\n${logTail(log)}`);
    try {
      await probe();
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  throw new Error(`${what} not ready within ${timeoutMs / 1000}s (last error: ${String(last)}):\n${logTail(log)}`);
}

/** The services' own path: environment → parseEnv → createWorkerKit (kafkaSecurity inside). */
function workerKit(vars: Record<string, string>): WorkerKit {
  return createWorkerKit('security-test', parseEnv(commonEnv, { KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`, LOG_LEVEL: 'silent', ...vars }));
}

/** Like a service's client, but gives up at once: for connections that must be refused. */
function oneShotKafka(vars: Record<string, string>): Kafka {
  const config = parseEnv(commonEnv, { KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`, ...vars });
  return new Kafka({ clientId: 'security-refused', brokers: config.KAFKA_BROKERS, logLevel: logLevel.NOTHING, connectionTimeout: 5000, retry: { retries: 0 }, ...kafkaSecurity(config) });
}

/** The services' own path: environment → parseEnv → redisConnection → createRedis. */
function redisFrom(vars: Record<string, string>, maxRetriesPerRequest = 2, onError?: (err: Error) => void): Redis {
  const client = createRedis({ ...redisConnection(parseEnv(redisEnv, vars)), name: 'security-test', maxRetriesPerRequest, ...(onError && { onError }) });
  redisClients.push(client);
  return client;
}

const scram = () => ({
  KAFKA_SSL: 'true',
  KAFKA_SSL_CA_FILE: join(dir, 'ca.pem'),
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: KAFKA_USERS.scram[0],
  KAFKA_SASL_PASSWORD_FILE: join(dir, 'bob.password'),
});

describe.skipIf(missing.length > 0)('secure connections', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'affinity-security-'));
    mkdirSync(join(dir, 'kafka-data'));
    makeCertificates();
    const controllerPort = await freePort();
    kafkaPort = await freePort();
    redisPort = await freePort();
    startRedis();
    startKafka(controllerPort);
    const redisProbe = redisFrom({ REDIS_URL: `rediss://127.0.0.1:${redisPort}`, REDIS_TLS_CA_FILE: join(dir, 'ca.pem'), REDIS_PASSWORD: REDIS_REQUIREPASS }, 0);
    await waitFor('redis-server (TLS)', 'redis.log', children[0]!, () => redisProbe.ping(), 60_000);
    const admin = workerKit(scram()).kafka.admin();
    // A loaded 2-core machine can take a minute to start a JVM broker.
    await waitFor('Kafka (SASL_SSL)', 'kafka.log', children[1]!, async () => {
      await admin.connect();
      await admin.listTopics();
    }, 240_000);
    await admin.disconnect();
  }, 300_000);

  afterAll(async () => {
    await Promise.allSettled(redisClients.map((c) => c.quit().catch(() => c.disconnect())));
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 30_000))]);
      if (!stopped) child.kill('SIGKILL');
    }
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('a worker configured with SCRAM-SHA-512 over TLS (private CA, password file) creates its topics, produces and consumes', async () => {
    const kit = workerKit({ ...scram(), AFFINITY_TOPIC_PREFIX: 'sec.' });
    await kit.ensureTopics();
    const topic = kit.topic('catalog');
    const producer = kit.kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'p1', value: 'over SASL_SSL' }] });
    await producer.disconnect();
    const consumer = kit.kafka.consumer({ groupId: kit.group('security') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = await new Promise<string>((resolveValue, reject) => {
      const timer = setTimeout(() => reject(new Error('no record within 120s')), 120_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolveValue(message.value!.toString());
        },
      });
    });
    await consumer.disconnect();
    expect(got).toBe('over SASL_SSL');
  });

  it('SASL PLAIN over TLS authenticates too', async () => {
    const admin = workerKit({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'ca.pem'), KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: KAFKA_USERS.plain[0], KAFKA_SASL_PASSWORD_FILE: join(dir, 'alice.password') }).kafka.admin();
    await admin.connect();
    expect(await admin.listTopics()).toEqual(expect.any(Array));
    await admin.disconnect();
  });

  it('Kafka refuses a wrong password, a client without TLS and a client that does not trust the CA', async () => {
    const wrong = oneShotKafka({ ...scram(), KAFKA_SASL_PASSWORD_FILE: join(dir, 'alice.password') }).admin();
    await expect(wrong.connect()).rejects.toThrow(/SASL SCRAM SHA512 authentication failed|authentication/i);
    const wrongPlain = oneShotKafka({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'ca.pem'), KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: KAFKA_USERS.plain[0], KAFKA_SASL_PASSWORD: 'not-it' }).admin();
    await expect(wrongPlain.connect()).rejects.toThrow(/authentication/i);
    const { KAFKA_SSL: _ssl, KAFKA_SSL_CA_FILE: _ca, ...noTls } = scram();
    // The TLS listener closes a connection that does not start with a TLS handshake.
    await expect(oneShotKafka(noTls).admin().connect()).rejects.toThrow(/connection/i);
    const otherCa = oneShotKafka({ ...scram(), KAFKA_SSL_CA_FILE: join(dir, 'other-ca.pem') }).admin();
    await expect(otherCa.connect()).rejects.toThrow(/certificate/i);
  });

  it('Redis over TLS: an ACL user (password file), credentials in a rediss:// URL, and requirepass', async () => {
    const ca = join(dir, 'ca.pem');
    const acl = redisFrom({ REDIS_URL: `rediss://127.0.0.1:${redisPort}`, REDIS_TLS_CA_FILE: ca, REDIS_USERNAME: REDIS_ACL[0], REDIS_PASSWORD_FILE: join(dir, 'carol.password') });
    await acl.set('security:k', 'v over TLS');
    expect(await acl.get('security:k')).toBe('v over TLS');
    expect(await acl.call('ACL', 'WHOAMI')).toBe(REDIS_ACL[0]);
    const inUrl = redisFrom({ REDIS_URL: `rediss://${REDIS_ACL[0]}:${REDIS_ACL[1]}@127.0.0.1:${redisPort}`, REDIS_TLS_CA_FILE: ca });
    expect(await inUrl.call('ACL', 'WHOAMI')).toBe(REDIS_ACL[0]);
    const requirepass = redisFrom({ REDIS_URL: `rediss://127.0.0.1:${redisPort}`, REDIS_TLS_CA_FILE: ca, REDIS_PASSWORD: REDIS_REQUIREPASS });
    expect(await requirepass.get('security:k')).toBe('v over TLS');
  });

  it('Redis refuses a wrong password, no password, a client without TLS and a client that does not trust the CA', async () => {
    const ca = join(dir, 'ca.pem');
    const url = `rediss://127.0.0.1:${redisPort}`;
    await expect(redisFrom({ REDIS_URL: url, REDIS_TLS_CA_FILE: ca, REDIS_USERNAME: REDIS_ACL[0], REDIS_PASSWORD: 'not-it' }, 0).get('security:k')).rejects.toThrow(/WRONGPASS|NOAUTH/);
    await expect(redisFrom({ REDIS_URL: url, REDIS_TLS_CA_FILE: ca }, 0).get('security:k')).rejects.toThrow(/NOAUTH/);
    // Plain TCP to the TLS port never gets a Redis reply.
    const plain = redisFrom({ REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_PASSWORD: REDIS_REQUIREPASS }, 0);
    await expect(plain.get('security:k')).rejects.toThrow();
    expect(plain.status).not.toBe('ready');
    const errors: Error[] = [];
    const untrusting = redisFrom({ REDIS_URL: url, REDIS_TLS_CA_FILE: join(dir, 'other-ca.pem'), REDIS_PASSWORD: REDIS_REQUIREPASS }, 0, (err) => errors.push(err));
    await expect(untrusting.get('security:k')).rejects.toThrow();
    expect(untrusting.status).not.toBe('ready');
    expect(errors.map(String).join('\n')).toMatch(/certificate/i);
  });
});
