import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface ChildWorker {
  proc: ChildProcess;
  exited: Promise<number | null>;
  logFile: string;
}

const live = new Set<ChildProcess>();
// A test runner that dies must not leave services consuming behind it.
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** Starts a TypeScript entry point as its own Node process (as in production), logging to a file. */
export function spawnTs(entry: string, env: Record<string, string>, logFile: string): ChildWorker {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  // AFFINITY_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") passes Node flags that NODE_OPTIONS refuses.
  const nodeArgs = (env.AFFINITY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', resolve(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.pipe(log, { end: false });
  proc.stderr?.pipe(log, { end: false });
  live.add(proc);
  const exited = new Promise<number | null>((r) =>
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      r(code ?? (signal ? -1 : null));
    }),
  );
  return { proc, exited, logFile };
}

export async function stopChild(w: ChildWorker, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill(signal);
  return w.exited;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}
