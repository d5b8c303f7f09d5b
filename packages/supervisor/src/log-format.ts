/**
 * How a supervisor shows its services' logs: each line prefixed by the service's name and, when
 * it is a pino JSON line (what every service writes), as `time LEVEL message key=value…`. The
 * log files keep the raw lines.
 */

/** The name of a supervisor's own log and of its lines' prefix. */
export const SUPERVISOR_LOG_NAME = 'supervisor';

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line of a service carries, which the prefix already says. */
const IMPLIED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'service', 'instance', 'timestamp', 'logger']);
const COLORS = [36, 32, 35, 34, 33, 96, 92, 95, 94];

export interface LogFormatOptions {
  /** ANSI colours for warnings, errors and the prefix. @defaultValue false */
  color?: boolean;
  /** `false`: the message only, without the line's other fields (for lines whose message says it all). @defaultValue true */
  fields?: boolean;
}

type Entry = Record<string, unknown>;

function parse(line: string): Entry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Entry) : undefined;
  } catch {
    return undefined;
  }
}

/** The line's time as an ISO string (pino lines and the supervisor's own), or undefined for any other line. */
export function logLineTime(line: string): string | undefined {
  const time = parse(line)?.time;
  if (typeof time === 'string') return time;
  return typeof time === 'number' ? new Date(time).toISOString() : undefined;
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (value !== null && typeof value === 'object' && 'message' in value) {
    const err = value as { type?: unknown; message?: unknown; code?: unknown };
    return JSON.stringify(`${typeof err.type === 'string' ? `${err.type}: ` : ''}${String(err.message)}${err.code !== undefined ? ` (${String(err.code)})` : ''}`);
  }
  return JSON.stringify(value) ?? String(value);
}

/**
 * A pino JSON line as `12:01:02.345 INFO  message key=value…` (an error's stack below it, indented);
 * any other line as it is.
 */
export function formatLogLine(line: string, options: LogFormatOptions = {}): string {
  const entry = parse(line);
  if (!entry || !('msg' in entry || 'level' in entry)) return line;
  const time = logLineTime(line)?.slice(11, 23) ?? '';
  const levelNumber = typeof entry.level === 'number' ? entry.level : 30;
  let level = (LEVELS[levelNumber] ?? String(entry.level)).padEnd(5);
  if (options.color && levelNumber >= 50) level = `\x1b[31m${level}\x1b[0m`;
  else if (options.color && levelNumber >= 40) level = `\x1b[33m${level}\x1b[0m`;
  const fields = Object.entries(entry)
    .filter(([k]) => options.fields !== false && !IMPLIED.has(k))
    .map(([k, v]) => `${k}=${fieldText(v)}`);
  const text = [time, level, typeof entry.msg === 'string' ? entry.msg : '', ...fields].filter((s) => s !== '').join(' ');
  const stack = levelNumber >= 50 ? (entry.err as { stack?: unknown } | undefined)?.stack : undefined;
  return typeof stack === 'string' ? `${text}\n${stack.split('\n').slice(1).map((l) => `    ${l.trim()}`).join('\n')}` : text;
}

/**
 * Writes `name | text` with the names aligned, each name in its own colour; multi-line text keeps
 * the prefix on every line. The supervisor's own lines show their message only.
 */
export class LinePrefixer {
  private readonly width: number;

  constructor(
    private readonly names: readonly string[],
    private readonly options: LogFormatOptions = {},
  ) {
    this.width = Math.max(...names.map((n) => n.length));
  }

  prefix(name: string): string {
    const padded = name.padEnd(this.width);
    if (!this.options.color) return `${padded} | `;
    const i = this.names.indexOf(name);
    return `\x1b[${COLORS[(i < 0 ? this.names.length : i) % COLORS.length]}m${padded}\x1b[0m | `;
  }

  /** The service's line, formatted and prefixed. */
  line(name: string, rawLine: string): string {
    const p = this.prefix(name);
    return formatLogLine(rawLine, name === SUPERVISOR_LOG_NAME ? { ...this.options, fields: false } : this.options)
      .split('\n')
      .map((l) => p + l)
      .join('\n');
  }
}
