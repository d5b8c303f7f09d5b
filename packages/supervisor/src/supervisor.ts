import type { ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { SUPERVISOR_LOG_NAME } from './log-format';
import { exitCode, startNodeProcess } from './node-process';

/** One process a supervisor runs. */
export interface ProcessSpec {
  /** Unique; names its log file (`<logDir>/<name>.log`) and prefixes its lines. */
  readonly name: string;
  /** The TypeScript entry point, run as `node --import tsx <entry>`; relative paths are from `cwd`. */
  readonly entry: string;
  /** Environment on top of the supervisor's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** Polled by `waitReady` until it answers 200 (e.g. `http://127.0.0.1:8081/readyz`); without one a process is ready once started. */
  readonly readyUrl?: string;
}

/** When a process that exited is started again: after a delay that doubles while it keeps dying. */
export interface RestartPolicy {
  /** Milliseconds before the first restart. @defaultValue 1000 */
  initialDelayMs: number;
  /** The most the delay grows to, in milliseconds. @defaultValue 30000 */
  maxDelayMs: number;
  /** A process that ran this long before it exited was healthy: its next delay is the initial one again. @defaultValue 60000 */
  resetAfterMs: number;
}

export interface SupervisorOptions {
  /** Started in this order, stopped in the reverse one (list the processes that serve others first, the API last). */
  processes: readonly ProcessSpec[];
  /** Where each process's output goes (`<name>.log`, appended, restarts included) and the supervisor's own events (`supervisor.log`), as JSON lines. */
  logDir: string;
  /** Working directory of the processes. @defaultValue process.cwd() */
  cwd?: string;
  /** `false`: a process that exits stays down (tests that must see a crash). @defaultValue the RestartPolicy defaults */
  restart?: Partial<RestartPolicy> | false;
  /** After SIGTERM, how long a process may drain before it gets SIGKILL, in milliseconds. @defaultValue 30000 */
  stopTimeoutMs?: number;
  /** Every line a process writes (stdout and stderr), as it arrives. */
  onLine?: (name: string, line: string) => void;
  /** Every start, exit, restart and stop, with a sentence saying what happened. */
  onEvent?: (event: SupervisorEvent, message: string) => void;
}

export type SupervisorEvent =
  | { type: 'started'; name: string; pid: number; restarts: number }
  | { type: 'exited'; name: string; pid: number; code: number | null; signal: NodeJS.Signals | null; uptimeMs: number; restartInMs: number | null }
  | { type: 'stopping'; name: string; pid: number }
  | { type: 'killed'; name: string; pid: number; afterMs: number }
  | { type: 'stopped'; name: string; code: number | null };

export interface CompiledSupervisorOptions {
  processes: readonly ProcessSpec[];
  logDir: string;
  cwd: string;
  restart: RestartPolicy | false;
  stopTimeoutMs: number;
  onLine: (name: string, line: string) => void;
  onEvent: (event: SupervisorEvent, message: string) => void;
}


/** Checks the options once and fills in the defaults; a bad one fails with the field it concerns. */
export function compileSupervisorOptions(options: SupervisorOptions): CompiledSupervisorOptions {
  const names = new Set<string>();
  for (const p of options.processes) {
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(p.name)) throw new Error(`processes: name "${p.name}" must be letters, digits, '.', '_' or '-' (it names a log file)`);
    if (p.name === SUPERVISOR_LOG_NAME) throw new Error(`processes: "${SUPERVISOR_LOG_NAME}" names the supervisor's own log; call the process something else`);
    if (names.has(p.name)) throw new Error(`processes: "${p.name}" appears twice`);
    names.add(p.name);
  }
  let restart: RestartPolicy | false = false;
  if (options.restart !== false) {
    restart = { initialDelayMs: 1000, maxDelayMs: 30_000, resetAfterMs: 60_000, ...options.restart };
    if (!(restart.initialDelayMs >= 0 && restart.initialDelayMs <= restart.maxDelayMs)) throw new Error('restart: need 0 <= initialDelayMs <= maxDelayMs');
    if (!(restart.resetAfterMs >= 0)) throw new Error('restart: resetAfterMs must be >= 0');
  }
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  if (!(stopTimeoutMs > 0)) throw new Error('stopTimeoutMs must be > 0');
  return {
    processes: options.processes,
    logDir: options.logDir,
    cwd: options.cwd ?? process.cwd(),
    restart,
    stopTimeoutMs,
    onLine: options.onLine ?? (() => undefined),
    onEvent: options.onEvent ?? (() => undefined),
  };
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/** The sentence a supervisor logs for an event, and its pino level (30 info, 40 warn, 50 error). */
export function describeEvent(e: SupervisorEvent): { level: number; message: string } {
  switch (e.type) {
    case 'started':
      return { level: 30, message: e.restarts === 0 ? `${e.name} started (pid ${e.pid})` : `${e.name} restarted (pid ${e.pid}, restart ${e.restarts})` };
    case 'exited': {
      const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
      const next = e.restartInMs === null ? '; restarts are off, it stays down' : `; restarting it in ${seconds(e.restartInMs)}`;
      return { level: 40, message: `${e.name} ${how} after ${seconds(e.uptimeMs)}${next}` };
    }
    case 'stopping':
      return { level: 30, message: `stopping ${e.name} (SIGTERM to pid ${e.pid})` };
    case 'killed':
      return { level: 50, message: `${e.name} did not stop within ${seconds(e.afterMs)}; killed it (SIGKILL)` };
    case 'stopped':
      return { level: e.code === 0 ? 30 : 40, message: `${e.name} stopped (exit code ${e.code})` };
  }
}

interface Managed {
  readonly spec: ProcessSpec;
  readonly logFile: string;
  log?: WriteStream;
  child?: ChildProcess;
  /** Resolves with the exit code of the current child once it exited and its output was read. */
  exited: Promise<number | null>;
  startedAt: number;
  restarts: number;
  nextDelayMs: number;
  lastCode: number | null;
  timer?: NodeJS.Timeout;
}

const live = new Set<ChildProcess>();
// A supervisor that exits without stop() (a test runner that dies) must not leave services behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Runs processes the way an orchestrator would on one machine: each its own Node process, a
 * process that dies restarted after a growing delay (and said so), all stopped in reverse order
 * on `stop()`, each given its drain time before SIGKILL. Processes live in their own process
 * groups, so the terminal's Ctrl-C reaches only whoever owns the supervisor, which then calls
 * `stop()`; signals are that owner's business, not the supervisor's.
 */
export class Supervisor {
  readonly options: CompiledSupervisorOptions;
  private readonly managed: Managed[];
  private started = false;
  private stopping = false;
  private stopped?: Promise<Record<string, number | null>>;

  constructor(options: SupervisorOptions) {
    this.options = compileSupervisorOptions(options);
    this.managed = this.options.processes.map((spec) => ({
      spec,
      logFile: resolve(this.options.logDir, `${spec.name}.log`),
      exited: Promise.resolve(null),
      startedAt: 0,
      restarts: 0,
      nextDelayMs: this.options.restart === false ? 0 : this.options.restart.initialDelayMs,
      lastCode: null,
    }));
  }

  /** Starts every process (without waiting for any to be ready). */
  start(): void {
    if (this.started) throw new Error('the supervisor was started already');
    this.started = true;
    mkdirSync(this.options.logDir, { recursive: true });
    for (const m of this.managed) {
      m.log = createWriteStream(m.logFile, { flags: 'a' });
      this.spawn(m);
    }
  }

  /** The log file of a process. */
  logFile(name: string): string {
    return this.get(name).logFile;
  }

  /** The pid of the process running now under that name (undefined while it is down). */
  pid(name: string): number | undefined {
    return this.get(name).child?.pid;
  }

  /** How often the process was restarted. */
  restarts(name: string): number {
    return this.get(name).restarts;
  }

  /** Sends a signal to the process running now under that name (a fault drill, a test); false when it is down. */
  kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): boolean {
    return this.get(name).child?.kill(signal) ?? false;
  }

  /**
   * Waits until every process with a `readyUrl` answers it with 200. Without restarts a process
   * that exits fails the wait at once, naming its log; with them, only the timeout does.
   */
  async waitReady(timeoutMs = 180_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (const m of this.managed) {
      if (!m.spec.readyUrl) continue;
      for (;;) {
        if (this.stopping) throw new Error('the supervisor is stopping');
        if (!m.child && this.options.restart === false) throw new Error(`${m.spec.name} exited with ${m.lastCode}; see ${m.logFile}`);
        if (m.child && (await answers(m.spec.readyUrl))) break;
        if (Date.now() > until) throw new Error(`${m.spec.name} not ready after ${timeoutMs} ms; see ${m.logFile}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /**
   * Stops every process in reverse start order, one after the other: SIGTERM, then SIGKILL after
   * `stopTimeoutMs`. Pending restarts are cancelled. Resolves with each process's exit code (-1:
   * ended by a signal; a process that was down: the code it last exited with). Idempotent.
   */
  stop(): Promise<Record<string, number | null>> {
    this.stopped ??= this.stopAll();
    return this.stopped;
  }

  /** SIGKILL to every process still running (a second Ctrl-C); `stop()` then resolves at once. */
  killAll(): void {
    this.stopping = true;
    for (const m of this.managed) {
      clearTimeout(m.timer);
      m.child?.kill('SIGKILL');
    }
  }

  private get(name: string): Managed {
    const m = this.managed.find((x) => x.spec.name === name);
    if (!m) throw new Error(`no process named ${name}`);
    return m;
  }

  /** Writes a line of the supervisor's owner (a signal it got, a summary) to `supervisor.log`, beside the events. */
  note(message: string, level = 30, fields: Record<string, unknown> = {}): void {
    // Synchronous: few lines, and the last ones are written just before the owner exits.
    mkdirSync(this.options.logDir, { recursive: true });
    appendFileSync(resolve(this.options.logDir, `${SUPERVISOR_LOG_NAME}.log`), `${JSON.stringify({ level, time: new Date().toISOString(), service: SUPERVISOR_LOG_NAME, msg: message, ...fields })}\n`);
  }

  private event(e: SupervisorEvent): void {
    const { level, message } = describeEvent(e);
    const { type, ...fields } = e;
    this.note(message, level, { event: type, ...fields });
    this.options.onEvent(e, message);
  }

  private spawn(m: Managed): void {
    const child = startNodeProcess(m.spec.entry, { env: m.spec.env, cwd: this.options.cwd, detached: true });
    m.child = child;
    m.startedAt = Date.now();
    live.add(child);
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        m.log?.write(`${line}\n`);
        this.options.onLine(m.spec.name, line);
      });
    }
    // 'close', not 'exit': the process has ended and everything it wrote has been read.
    m.exited = new Promise((done) => {
      child.once('close', (code, signal) => {
        live.delete(child);
        done(exitCode(code, signal));
        this.exited(m, child, code, signal);
      });
    });
    this.event({ type: 'started', name: m.spec.name, pid: child.pid ?? -1, restarts: m.restarts });
  }

  private exited(m: Managed, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (m.child !== child) return;
    m.child = undefined;
    m.lastCode = exitCode(code, signal);
    if (this.stopping) return; // stop() reports it
    const uptimeMs = Date.now() - m.startedAt;
    const policy = this.options.restart;
    if (policy === false) {
      this.event({ type: 'exited', name: m.spec.name, pid: child.pid ?? -1, code, signal, uptimeMs, restartInMs: null });
      return;
    }
    if (uptimeMs >= policy.resetAfterMs) m.nextDelayMs = policy.initialDelayMs;
    const delay = m.nextDelayMs;
    m.nextDelayMs = Math.min(policy.maxDelayMs, Math.max(1, delay) * 2);
    this.event({ type: 'exited', name: m.spec.name, pid: child.pid ?? -1, code, signal, uptimeMs, restartInMs: delay });
    m.timer = setTimeout(() => {
      m.timer = undefined;
      if (this.stopping) return;
      m.restarts += 1;
      this.spawn(m);
    }, delay);
  }

  private async stopAll(): Promise<Record<string, number | null>> {
    this.stopping = true;
    for (const m of this.managed) clearTimeout(m.timer);
    const codes: Record<string, number | null> = {};
    for (const m of [...this.managed].reverse()) codes[m.spec.name] = await this.stopOne(m);
    const streams = this.managed.map((m) => m.log).filter((s): s is WriteStream => s !== undefined);
    await Promise.all(streams.map((s) => new Promise<void>((r) => s.end(r))));
    return codes;
  }

  private async stopOne(m: Managed): Promise<number | null> {
    const child = m.child;
    if (!child) return m.lastCode;
    const pid = child.pid ?? -1;
    this.event({ type: 'stopping', name: m.spec.name, pid });
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), this.options.stopTimeoutMs)));
    let code = await Promise.race([m.exited, timeout]);
    clearTimeout(timer);
    if (code === 'timeout') {
      child.kill('SIGKILL');
      this.event({ type: 'killed', name: m.spec.name, pid, afterMs: this.options.stopTimeoutMs });
      code = await m.exited;
    }
    this.event({ type: 'stopped', name: m.spec.name, code });
    return code;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
