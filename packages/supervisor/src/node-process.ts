import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface NodeProcessOptions {
  /** Environment on top of this process's own. */
  env?: Readonly<Record<string, string>>;
  /** The working directory; `--import tsx` is resolved from it. @defaultValue process.cwd() */
  cwd?: string;
  /**
   * Its own process group, so a Ctrl-C in the terminal reaches only the supervisor, which stops
   * the services in order; such a process ends itself (SIGTERM, a normal drain) when the process
   * that started it dies without stopping it. @defaultValue false
   */
  detached?: boolean;
}

const ORPHAN_GUARD = pathToFileURL(resolve(import.meta.dirname, 'internal/orphan-guard.ts')).href;

/**
 * Starts a TypeScript entry point as its own Node process, as in production (`node --import tsx`),
 * with stdout and stderr piped. `AFFINITY_NODE_ARGS` (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
 * passes Node flags that NODE_OPTIONS refuses.
 */
export function startNodeProcess(entry: string, options: NodeProcessOptions = {}): ChildProcess {
  const cwd = options.cwd ?? process.cwd();
  const env = { ...process.env, ...options.env };
  const nodeArgs = (env.AFFINITY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const guard = options.detached ? ['--import', ORPHAN_GUARD] : [];
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...guard, resolve(cwd, entry)], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
}

/** The exit of a child as one number: its code, or -1 when a signal ended it. */
export function exitCode(code: number | null, signal: NodeJS.Signals | null): number | null {
  return code ?? (signal ? -1 : null);
}
