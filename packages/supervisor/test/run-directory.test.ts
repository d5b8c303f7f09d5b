import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AFFINITY_SERVICES, affinityProcesses, probeHost } from '../src/affinity-services';
import { LinePrefixer, formatLogLine, logLineTime } from '../src/log-format';
import { LogFollower, RunDirectory } from '../src/run-directory';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'affinity-run-dir-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const pino = (time: string, msg: string, extra: Record<string, unknown> = {}) => JSON.stringify({ level: 30, time, pid: 1, service: 'x', msg, ...extra });

describe('formatLogLine', () => {
  it('shows a pino line as time, level, message and the fields the prefix does not already say', () => {
    const line = JSON.stringify({ level: 40, time: '2025-01-02T03:04:05.678Z', pid: 9, hostname: 'h', service: 'graph', instance: 'graph-1', msg: 'lag is high', group: 'affinity-graph', partitions: [0, 1], note: 'two words' });
    expect(formatLogLine(line)).toBe('03:04:05.678 WARN  lag is high group=affinity-graph partitions=[0,1] note="two words"');
  });
  it('shows an error with its message and, for errors, the stack below it', () => {
    const line = JSON.stringify({ level: 50, time: '2025-01-02T03:04:05.678Z', msg: 'start failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at main (a.ts:1:1)' } });
    expect(formatLogLine(line)).toBe('03:04:05.678 ERROR start failed err="Error: boom"\n    at main (a.ts:1:1)');
  });
  it('leaves any other line as it is', () => {
    expect(formatLogLine('node: warning')).toBe('node: warning');
    expect(formatLogLine('{"not":"a log"}')).toBe('{"not":"a log"}');
    expect(formatLogLine('{broken')).toBe('{broken');
  });
  it('prefixes every line of a message with the aligned name', () => {
    const p = new LinePrefixer(['api', 'recommender']);
    expect(p.line('api', 'hello')).toBe('api         | hello');
    expect(p.line('recommender', JSON.stringify({ level: 50, time: '2025-01-02T03:04:05.678Z', msg: 'x', err: { message: 'y', stack: 'E\n at z' } }))).toBe('recommender | 03:04:05.678 ERROR x err="y"\nrecommender |     at z');
  });
  it('reads the time of pino lines (ISO or epoch milliseconds) only', () => {
    expect(logLineTime(pino('2025-01-02T03:04:05.678Z', 'a'))).toBe('2025-01-02T03:04:05.678Z');
    expect(logLineTime(JSON.stringify({ time: Date.UTC(2025, 0, 2) }))).toBe('2025-01-02T00:00:00.000Z');
    expect(logLineTime('plain')).toBeUndefined();
  });
});

describe('RunDirectory and LogFollower', () => {
  it('merges the logs in time order; a line without a time stays after the line before it', () => {
    const run = join(dir, 'run');
    mkdirSync(run);
    writeFileSync(join(run, 'api.log'), `${pino('2025-01-01T00:00:01.000Z', 'api 1')}\n  continued\n${pino('2025-01-01T00:00:03.000Z', 'api 3')}\n`);
    writeFileSync(join(run, 'graph.log'), `${pino('2025-01-01T00:00:02.000Z', 'graph 2')}\n`);
    const lines = new RunDirectory(run).read();
    expect(lines.map((l) => `${l.name}:${l.line.startsWith('{') ? (JSON.parse(l.line) as { msg: string }).msg : l.line}`)).toEqual(['api:api 1', 'api:  continued', 'graph:graph 2', 'api:api 3']);
    expect(new RunDirectory(run).read(['graph']).map((l) => l.name)).toEqual(['graph']);
  });

  it('a follower reads only complete lines added since its last poll, and a log that was emptied from its start', () => {
    const file = join(dir, 'svc.log');
    writeFileSync(file, 'one\ntw');
    const f = new LogFollower(dir, ['svc', 'absent']);
    expect(f.poll().map((l) => l.line)).toEqual(['one']);
    expect(f.poll()).toEqual([]);
    appendFileSync(file, 'o\nthree\n');
    expect(f.poll().map((l) => l.line)).toEqual(['two', 'three']);
    writeFileSync(file, 'new run\n');
    expect(f.poll().map((l) => l.line)).toEqual(['new run']);
  });

  it('claims the directory: empties the last run’s logs, refuses while another live run holds it, and records the end', async () => {
    const run = new RunDirectory(join(dir, 'run'));
    mkdirSync(run.dir);
    writeFileSync(join(run.dir, 'api.log'), 'old\n');
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      await new Promise((r) => other.once('spawn', r));
      const command = readFileSync(`/proc/${other.pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      writeFileSync(run.recordFile, JSON.stringify({ pid: other.pid, command, startedAt: 'earlier', services: [], ports: {} }));
      expect(run.live()?.pid).toBe(other.pid);
      expect(() => run.claim(['api'], { api: 8080 })).toThrow(/already in progress .*pid \d+/);
      // The same pid running another program is not the run.
      writeFileSync(run.recordFile, JSON.stringify({ pid: other.pid, command: 'something else', startedAt: 'earlier', services: [], ports: {} }));
      expect(run.live()).toBeUndefined();
    } finally {
      other.kill('SIGKILL');
    }
    const mine = run.claim(['api'], { api: 8080 });
    expect(mine.pid).toBe(process.pid);
    expect(run.logFiles()).toEqual([]);
    expect(run.live()?.pid).toBe(process.pid);
    run.release();
    expect(run.live()).toBeUndefined();
    expect(run.record()?.stoppedAt).toBeDefined();
  });
});

describe('affinityProcesses', () => {
  it('starts the workers before the API whatever order they are asked in, each with its port, a stable instance id and a readiness URL', () => {
    const specs = affinityProcesses({ services: ['api', 'graph', 'jobs'], ports: { api: 9000 }, env: { LOG_LEVEL: 'debug' }, serviceEnv: { graph: { GRAPH_EPSILON: '0.1', HTTP_PORT: '1' } } });
    expect(specs.map((s) => s.name)).toEqual(['graph', 'jobs', 'api']);
    expect(specs[0]).toEqual({
      name: 'graph',
      entry: 'services/graph/src/main.ts',
      env: { INSTANCE_ID: 'graph-1', LOG_LEVEL: 'debug', GRAPH_EPSILON: '0.1', HTTP_PORT: '8084' },
      readyUrl: 'http://127.0.0.1:8084/readyz',
    });
    expect(specs[2]!.readyUrl).toBe('http://127.0.0.1:9000/readyz');
    expect(affinityProcesses().map((s) => s.name)).toEqual([...AFFINITY_SERVICES]);
    expect(AFFINITY_SERVICES.at(-1)).toBe('api');
  });
  it('probes a service on loopback when it listens on every interface', () => {
    expect(probeHost(undefined)).toBe('127.0.0.1');
    expect(probeHost('0.0.0.0')).toBe('127.0.0.1');
    expect(probeHost('::')).toBe('127.0.0.1');
    expect(probeHost('10.1.2.3')).toBe('10.1.2.3');
    expect(probeHost('::1')).toBe('[::1]');
  });
});
