/**
 * `./dev run` (scripts/run.ts) against real Kafka and Redis: real services under the supervisor,
 * one SIGKILLed and restarted, then a Ctrl-C that stops them in order, and `./dev logs`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type TestEnv, openTestEnv, waitFor } from './support/harness';

let t: TestEnv;
let dir: string;
let run: ChildProcess;
let output = '';
let base: number;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const canListen = (port: number) =>
  new Promise<boolean>((done) => {
    const srv = createServer();
    srv.once('error', () => done(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => done(true)));
  });
const ready = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) })).status;
/** The pids the supervisor announced for a service, in order. */
const pids = (name: string) => [...output.matchAll(new RegExp(`^supervisor +\\| ${name} (?:started|restarted) \\(pid (\\d+)`, 'gm'))].map((m) => Number(m[1]));
const lineIndex = (text: string) => {
  const i = output.indexOf(text);
  expect(i, `output has "${text}"`).toBeGreaterThanOrEqual(0);
  return i;
};

beforeAll(async () => {
  t = await openTestEnv('devrun');
  dir = mkdtempSync(join(tmpdir(), 'affinity-dev-run-'));
  // Six consecutive free ports from a random base (api = base, graph = base + 4, jobs = base + 5).
  for (;;) {
    base = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await Promise.all([0, 4, 5].map((o) => canListen(base + o)))).every(Boolean)) break;
  }
  // The services' environment as a user's shell would hold it; ports come from --port-base.
  const { HTTP_PORT: _perService, ...env } = t.serviceEnv({ CONSUMER_SESSION_TIMEOUT_MS: '6000', ATTRIBUTES_WORD_VECTORS: 'false' });
  run = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'scripts/run.ts'), 'api', 'graph', 'jobs', '--port-base', String(base), '--dir', dir], {
    cwd: ROOT,
    env: { ...process.env, ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  run.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  run.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  await waitFor(async () => output, (o) => o.includes('all services ready'), 240_000, `./dev run to report every service ready; output:\n${output.slice(-3000)}`);
}, 300_000);

afterAll(async () => {
  if (run && run.exitCode === null) {
    run.kill('SIGKILL');
  }
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('./dev run', () => {
  it('shows every service’s lines under its name and says where the API is', () => {
    for (const name of ['api', 'graph', 'jobs']) expect(output).toMatch(new RegExp(`^${name} +\\| \\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  started`, 'm'));
    expect(output).toContain(`all services ready; API on http://127.0.0.1:${base} (OpenAPI at /openapi.json)`);
  });

  it('restarts a service killed with SIGKILL, says so, and the new process becomes ready', async () => {
    const [first] = pids('graph');
    expect(first).toBeGreaterThan(0);
    process.kill(first!, 'SIGKILL');
    await waitFor(async () => pids('graph'), (p) => p.length === 2, 30_000, 'the graph to be restarted');
    expect(output).toMatch(/^supervisor +\| graph was killed by SIGKILL after [\d.]+ s; restarting it in 1 s$/m);
    expect(output).toMatch(/^supervisor +\| graph restarted \(pid \d+, restart 1\)$/m);
    const second = pids('graph')[1]!;
    expect(second).not.toBe(first);
    expect(alive(first!)).toBe(false);
    // Same INSTANCE_ID, so it takes its own leader lease back; ready once the group let it in.
    await waitFor(() => ready(base + 4), (s) => s === 200, 90_000, 'the restarted graph to be ready');
    expect(pids('api')).toHaveLength(1);
    expect(pids('jobs')).toHaveLength(1);
  });

  it('./dev logs prints a service’s log of both lives and the supervisor’s account while the run goes on', () => {
    const logs = execFileSync(process.execPath, ['--import', 'tsx', resolve(ROOT, 'scripts/logs.ts'), 'graph', 'supervisor', '--dir', dir, '--no-follow'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(logs.match(/^graph +\| .* acquired the graph leader lease$/gm)).toHaveLength(2);
    expect(logs).toMatch(/^supervisor +\| .* WARN  graph was killed by SIGKILL/m);
    expect(logs).not.toMatch(/^api /m);
  });

  it('Ctrl-C stops the API first, then the workers, each drained, and exits 0', async () => {
    const live = [...pids('api'), pids('graph').at(-1)!, ...pids('jobs')];
    const exited = new Promise<number | null>((r) => run.once('exit', (code) => r(code)));
    run.kill('SIGINT');
    expect(await exited).toBe(0);
    const order = ['stopping api', 'api stopped (exit code 0)', 'stopping jobs', 'jobs stopped (exit code 0)', 'stopping graph', 'graph stopped (exit code 0)', 'every service stopped cleanly'].map(lineIndex);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // Each drained (its own "stopped exit=0"), none outlived the run, and nothing was restarted while stopping.
    for (const name of ['api', 'graph', 'jobs']) expect(output).toMatch(new RegExp(`^${name} +\\| .* INFO  stopped exit=0$`, 'm'));
    expect(live.filter(alive)).toEqual([]);
    expect(pids('graph')).toHaveLength(2);
    expect(await Promise.all([0, 4, 5].map((o) => canListen(base + o)))).toEqual([true, true, true]);
  });

  it('./dev logs afterwards prints the last run and says when it stopped', () => {
    const r = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'scripts/logs.ts'), '-n', '3', '--dir', dir], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    r.stdout.on('data', (b: Buffer) => (out += b.toString()));
    r.stderr.on('data', (b: Buffer) => (err += b.toString()));
    return new Promise<void>((done) =>
      r.once('exit', (code) => {
        expect(code).toBe(0);
        expect(out.trim().split('\n')).toHaveLength(3);
        expect(out.trim().split('\n').at(-1)).toMatch(/^supervisor +\| .* every service stopped cleanly$/);
        expect(err).toMatch(/\(run of .*, stopped .*\)/);
        done();
      }),
    );
  });
});
