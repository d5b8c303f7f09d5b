import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Supervisor, compileSupervisorOptions, type ProcessSpec, type SupervisorEvent, type SupervisorOptions } from '../src/supervisor';

const CHILD = resolve(import.meta.dirname, 'fixtures/child.ts');
let dir: string;
let running: Supervisor[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'affinity-supervisor-'));
});
afterEach(async () => {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}

function child(name: string, env: Record<string, string> = {}, port?: number): ProcessSpec {
  return {
    name,
    entry: CHILD,
    env: { CHILD_NAME: name, CHILD_RECORD: join(dir, 'record'), ...env, ...(port ? { HTTP_PORT: String(port) } : {}) },
    ...(port ? { readyUrl: `http://127.0.0.1:${port}/readyz` } : {}),
  };
}

function supervise(options: Omit<SupervisorOptions, 'logDir'>): { supervisor: Supervisor; events: SupervisorEvent[]; messages: string[] } {
  const events: SupervisorEvent[] = [];
  const messages: string[] = [];
  const supervisor = new Supervisor({
    logDir: join(dir, 'logs'),
    ...options,
    onEvent: (e, m) => {
      events.push(e);
      messages.push(m);
    },
  });
  running.push(supervisor);
  supervisor.start();
  return { supervisor, events, messages };
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The record fixtures append to: [name, what, ms] in the order written. */
function record(): [string, string, number][] {
  const file = join(dir, 'record');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
    .map(([n, w, t]) => [n!, w!, Number(t)]);
}

describe('Supervisor', () => {
  it('restarts a process that keeps dying after a delay that doubles up to the maximum, and says so each time', async () => {
    const { supervisor, events, messages } = supervise({ processes: [child('flaky', { CHILD_MODE: 'crash' })], restart: { initialDelayMs: 100, maxDelayMs: 400, resetAfterMs: 60_000 } });
    await until('four restarts', () => supervisor.restarts('flaky') >= 4);
    const exits = events.filter((e) => e.type === 'exited');
    expect(exits.slice(0, 4).map((e) => e.restartInMs)).toEqual([100, 200, 400, 400]);
    expect(exits.every((e) => e.code === 3)).toBe(true);
    expect(messages.filter((m) => /^flaky exited with code 3 after [\d.]+ s; restarting it in 0\.1 s$/.test(m))).toHaveLength(1);
    const starts = events.filter((e) => e.type === 'started');
    expect(new Set(starts.map((e) => e.pid)).size).toBe(starts.length);
    expect(starts.map((e) => e.restarts).slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
  });

  it('goes back to the initial delay once a process ran for resetAfterMs', async () => {
    const { supervisor, events } = supervise({ processes: [child('steady-then-dies', { CHILD_MODE: 'crash', CHILD_CRASH_AFTER_MS: '300' })], restart: { initialDelayMs: 100, maxDelayMs: 5000, resetAfterMs: 200 } });
    await until('three restarts', () => supervisor.restarts('steady-then-dies') >= 3);
    expect(events.filter((e) => e.type === 'exited').map((e) => e.restartInMs)).toEqual([100, 100, 100]);
  });

  it('restarts a process killed with SIGKILL, and reports the signal', async () => {
    const port = await freePort();
    const { supervisor, events } = supervise({ processes: [child('victim', {}, port)], restart: { initialDelayMs: 50 } });
    await supervisor.waitReady(30_000);
    const first = supervisor.pid('victim');
    expect(supervisor.kill('victim', 'SIGKILL')).toBe(true);
    await until('the restart', () => supervisor.restarts('victim') === 1 && supervisor.pid('victim') !== undefined);
    expect(supervisor.pid('victim')).not.toBe(first);
    expect(events.find((e) => e.type === 'exited')).toMatchObject({ name: 'victim', signal: 'SIGKILL', code: null, restartInMs: 50 });
    await supervisor.waitReady(30_000);
    expect((await supervisor.stop()).victim).toBe(0);
  });

  it('stops in reverse start order, each drained before the next gets SIGTERM, with every exit code', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const names = ['first', 'second', 'last'];
    const { supervisor, events } = supervise({ processes: names.map((n, i) => child(n, { CHILD_DRAIN_MS: '300' }, ports[i])) });
    await supervisor.waitReady(30_000);
    expect(await supervisor.stop()).toEqual({ last: 0, second: 0, first: 0 });
    const stops = record().filter(([, what]) => what !== 'start');
    expect(stops.map(([n, w]) => `${n} ${w}`)).toEqual(['last sigterm', 'last exit', 'second sigterm', 'second exit', 'first sigterm', 'first exit']);
    expect(events.filter((e) => e.type === 'stopping').map((e) => e.name)).toEqual(['last', 'second', 'first']);
    // Stopping is not dying: nothing was restarted.
    expect(events.filter((e) => e.type === 'started')).toHaveLength(3);
  });

  it('kills a process that does not drain within stopTimeoutMs', async () => {
    const port = await freePort();
    const { supervisor, events, messages } = supervise({ processes: [child('stubborn', { CHILD_MODE: 'ignore-term' }, port)], stopTimeoutMs: 500 });
    await supervisor.waitReady(30_000);
    expect(await supervisor.stop()).toEqual({ stubborn: -1 });
    expect(events.map((e) => e.type)).toEqual(['started', 'stopping', 'killed', 'stopped']);
    expect(messages).toContain('stubborn did not stop within 0.5 s; killed it (SIGKILL)');
  });

  it('without restarts, a process that exits fails waitReady naming its log, stays down, and stop reports its exit code', async () => {
    const port = await freePort();
    // It never answers its readiness URL: it dies first.
    const { supervisor, events } = supervise({ processes: [{ ...child('crasher', { CHILD_MODE: 'crash' }), readyUrl: `http://127.0.0.1:${port}/readyz` }], restart: false });
    await expect(supervisor.waitReady(30_000)).rejects.toThrow(/crasher exited with 3; see .*crasher\.log/);
    await new Promise((r) => setTimeout(r, 300));
    expect(supervisor.restarts('crasher')).toBe(0);
    expect(events.find((e) => e.type === 'exited')).toMatchObject({ restartInMs: null });
    expect(await supervisor.stop()).toEqual({ crasher: 3 });
  });

  it('keeps each process output in <name>.log across restarts and its own events in supervisor.log', async () => {
    const lines: string[] = [];
    const { supervisor } = supervise({ processes: [child('chatty', { CHILD_MODE: 'crash' })], restart: { initialDelayMs: 50 }, onLine: (name, line) => lines.push(`${name}: ${line}`) });
    await until('the restarted process to speak', () => lines.filter((l) => l.includes('hello from chatty')).length >= 2);
    await supervisor.stop();
    const log = readFileSync(join(dir, 'logs/chatty.log'), 'utf8');
    expect(log.match(/hello from chatty/g)?.length).toBeGreaterThanOrEqual(2);
    expect(log).toContain('a plain line on stderr');
    expect(lines).toContain('chatty: a plain line on stderr');
    const own = readFileSync(join(dir, 'logs/supervisor.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; name: string; msg: string });
    expect(own[0]).toMatchObject({ event: 'started', name: 'chatty' });
    expect(own.some((e) => e.event === 'exited' && /exited with code 3/.test(e.msg))).toBe(true);
  });

  it('a service whose supervisor was SIGKILLed drains itself instead of running on as an orphan', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'fixtures/supervise.ts'), join(dir, 'logs'), join(dir, 'record')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await until('the child', () => /child \d+/.test(out) && record().length > 0);
    const pid = Number(/child (\d+)/.exec(out)![1]);
    proc.kill('SIGKILL');
    await until('the orphan to drain', () => record().some(([n, w]) => n === 'orphan' && w === 'exit'), 15_000);
    await until('the orphan to be gone', () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
  });
});

describe('compileSupervisorOptions', () => {
  const base = { logDir: '/tmp/x' };
  it('fills in the restart defaults', () => {
    expect(compileSupervisorOptions({ ...base, processes: [] }).restart).toEqual({ initialDelayMs: 1000, maxDelayMs: 30_000, resetAfterMs: 60_000 });
    expect(compileSupervisorOptions({ ...base, processes: [], restart: false }).restart).toBe(false);
  });
  it('rejects names that repeat, take the supervisor log, or are no file name, and a delay above its maximum', () => {
    const p = (name: string) => ({ name, entry: 'x.ts' });
    expect(() => compileSupervisorOptions({ ...base, processes: [p('a'), p('a')] })).toThrow(/"a" appears twice/);
    expect(() => compileSupervisorOptions({ ...base, processes: [p('supervisor')] })).toThrow(/supervisor's own log/);
    expect(() => compileSupervisorOptions({ ...base, processes: [p('../etc')] })).toThrow(/names a log file/);
    expect(() => compileSupervisorOptions({ ...base, processes: [], restart: { initialDelayMs: 10, maxDelayMs: 5 } })).toThrow(/initialDelayMs <= maxDelayMs/);
  });
});
