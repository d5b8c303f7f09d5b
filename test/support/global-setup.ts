import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { StackInfo } from './stack-info';

const ROOT = resolve(import.meta.dirname, '../..');

function dockerAnswers(): boolean {
  const r = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000, encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}

function parseEndpoints(out: string): Record<string, string> {
  return Object.fromEntries(
    out
      .split('\n')
      .map((l) => l.trim().match(/^([A-Z_]+)=(.*)$/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

async function startContainers(): Promise<{ info: StackInfo; stop: () => Promise<void> }> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const kafkaPort = 19092;
  // apache/kafka runs a combined KRaft broker+controller; the advertised listener must be the
  // host-mapped port, so the container binds a fixed host port.
  const kafka = await new GenericContainer('apache/kafka:3.9.1')
    .withExposedPorts({ container: kafkaPort, host: kafkaPort })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${kafkaPort},CONTROLLER://0.0.0.0:9093`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  const redis = await new GenericContainer('redis:7.2')
    .withCommand(['redis-server', '--appendonly', 'yes', '--appendfsync', 'always'])
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start();
  return {
    info: {
      brokers: [`127.0.0.1:${kafkaPort}`],
      redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
      mode: 'testcontainers',
      kafkaContainerId: kafka.getId(),
      redisContainerId: redis.getId(),
    },
    stop: async () => {
      await kafka.stop();
      await redis.stop();
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const brokers = process.env.KAFKA_BROKERS;
  const redisUrl = process.env.REDIS_URL;
  if (brokers && redisUrl) {
    // The scripts' state dir tells us whether these endpoints are the local stack (restartable).
    const status = spawnSync(resolve(ROOT, 'infra/scripts/stack.sh'), ['status'], { encoding: 'utf8' });
    project.provide('stack', { brokers: brokers.split(','), redisUrl, mode: status.status === 0 ? 'scripts' : 'env' });
    return async () => undefined;
  }
  if (dockerAnswers()) {
    const { info, stop } = await startContainers();
    project.provide('stack', info);
    return stop;
  }
  const wasUp = spawnSync(resolve(ROOT, 'infra/scripts/stack.sh'), ['status']).status === 0;
  const out = execFileSync(resolve(ROOT, 'infra/scripts/stack.sh'), ['up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const endpoints = parseEndpoints(out);
  project.provide('stack', { brokers: endpoints.KAFKA_BROKERS!.split(','), redisUrl: endpoints.REDIS_URL!, mode: 'scripts' });
  // Stop only what this run started.
  return async () => {
    if (!wasUp) execFileSync(resolve(ROOT, 'infra/scripts/stack.sh'), ['down'], { stdio: 'inherit' });
  };
}
