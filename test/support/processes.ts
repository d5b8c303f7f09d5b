import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { REPOSITORY_ROOT, exitCode, startNodeProcess } from '@affinity/supervisor';

export const ROOT = REPOSITORY_ROOT;

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
  const proc = startNodeProcess(entry, { env, cwd: ROOT });
  proc.stdout?.pipe(log, { end: false });
  proc.stderr?.pipe(log, { end: false });
  live.add(proc);
  const exited = new Promise<number | null>((r) =>
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      r(exitCode(code, signal));
    }),
  );
  return { proc, exited, logFile };
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
