import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { logLineTime } from './log-format';

/** What `./dev run` records about itself in its directory (`run.json`). */
export interface RunRecord {
  pid: number;
  /** The supervisor's command line, so a pid reused by another program does not count as the run. */
  command: string;
  startedAt: string;
  stoppedAt?: string;
  services: string[];
  ports: Record<string, number>;
}

/** One line of a service's log, with the time it was written (a line without one takes the previous line's). */
export interface LogLine {
  name: string;
  line: string;
  time: string;
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The directory of a local run (`.affinity/run` by default): `run.json` (who runs it, since
 * when, which services on which ports) and one log per service plus `supervisor.log`. A new run
 * empties the logs of the previous one, so the directory always holds the running or the last run.
 */
export class RunDirectory {
  readonly recordFile: string;

  constructor(readonly dir: string) {
    this.recordFile = resolve(dir, 'run.json');
  }

  record(): RunRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.recordFile, 'utf8')) as RunRecord;
    } catch {
      return undefined;
    }
  }

  /** The run in progress in this directory, if any (its supervisor is alive). */
  live(): RunRecord | undefined {
    const r = this.record();
    if (!r || r.stoppedAt || !alive(r.pid)) return undefined;
    const command = commandLine(r.pid);
    return command === undefined || command === r.command ? r : undefined;
  }

  /** Takes the directory for this process's run: fails while another run is alive, empties the previous run's logs. */
  claim(services: readonly string[], ports: Record<string, number>): RunRecord {
    const other = this.live();
    if (other && other.pid !== process.pid) {
      throw new Error(`a run is already in progress in ${this.dir} (pid ${other.pid}, since ${other.startedAt}); ./dev logs follows it`);
    }
    mkdirSync(this.dir, { recursive: true });
    for (const f of this.logFiles()) rmSync(resolve(this.dir, `${f}.log`), { force: true });
    const record: RunRecord = { pid: process.pid, command: commandLine(process.pid) ?? process.argv.join(' '), startedAt: new Date().toISOString(), services: [...services], ports };
    writeFileSync(this.recordFile, `${JSON.stringify(record, null, 2)}\n`);
    return record;
  }

  /** Marks the run as over (its logs stay for `./dev logs`). */
  release(): void {
    const r = this.record();
    if (r?.pid === process.pid) writeFileSync(this.recordFile, `${JSON.stringify({ ...r, stoppedAt: new Date().toISOString() }, null, 2)}\n`);
  }

  /** The names of the logs present (services and `supervisor`), sorted. */
  logFiles(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => basename(f, '.log'))
      .sort();
  }

  /** Every line of the named logs (all when none named), merged in time order. */
  read(names: readonly string[] = this.logFiles()): LogLine[] {
    const follower = new LogFollower(this.dir, names);
    return follower.poll();
  }
}

/** Reads what was added to a set of logs since the last poll; a log that shrank (a new run) is read again from its start. */
export class LogFollower {
  private readonly offsets = new Map<string, number>();
  private readonly lastTime = new Map<string, string>();

  constructor(
    private readonly dir: string,
    private readonly names: readonly string[],
  ) {}

  /** The complete lines added since the last call, merged in time order. */
  poll(): LogLine[] {
    const out: LogLine[] = [];
    for (const name of this.names) {
      const file = resolve(this.dir, `${name}.log`);
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        continue;
      }
      let offset = this.offsets.get(name) ?? 0;
      if (size < offset) {
        offset = 0;
        this.lastTime.delete(name);
      }
      if (size === offset) continue;
      const buf = Buffer.alloc(size - offset);
      const fd = openSync(file, 'r');
      try {
        readSync(fd, buf, 0, buf.length, offset);
      } finally {
        closeSync(fd);
      }
      const end = buf.lastIndexOf(0x0a);
      if (end < 0) continue; // no complete line yet
      this.offsets.set(name, offset + end + 1);
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        const time = logLineTime(line) ?? this.lastTime.get(name) ?? '';
        this.lastTime.set(name, time);
        out.push({ name, line, time });
      }
    }
    // Stable: lines of one log keep their order; lines written at the same millisecond keep the log order.
    return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  }
}
