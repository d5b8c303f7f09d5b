import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { logLevel, type logCreator } from 'kafkajs';

export type { Logger } from 'pino';

/** Credentials a request may carry, wherever a request or its headers are logged. */
const AUTH_HEADER_PATHS = ['headers.authorization', 'headers["x-api-key"]', '*.headers.authorization', '*.headers["x-api-key"]'];

export interface CreateLoggerOptions {
  /** Names of secret settings (see `secretSettings`): logged as "[redacted]" at the top level of a log object or one level down (e.g. `config.API_WRITE_KEYS`). */
  secrets?: readonly string[];
  /** Where lines go. @defaultValue stdout */
  destination?: DestinationStream;
}

/** Structured JSON logs on stdout; `name` is the service or component. Secret settings and auth headers are redacted. */
export function createLogger(name: string, level: LoggerOptions['level'] = process.env.LOG_LEVEL ?? 'info', options: CreateLoggerOptions = {}): Logger {
  const paths = [...(options.secrets ?? []).flatMap((n) => [n, `*.${n}`]), ...AUTH_HEADER_PATHS];
  const config: LoggerOptions = { name, level, base: { pid: process.pid, service: name }, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths, censor: '[redacted]' } };
  return options.destination ? pino(config, options.destination) : pino(config);
}

/** Routes kafkajs' own logging into pino at matching levels. */
export function kafkaLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      if (level === logLevel.ERROR) child.error(extra, message);
      else if (level === logLevel.WARN) child.warn(extra, message);
      else if (level === logLevel.INFO) child.debug(extra, message);
      else child.trace(extra, message);
    };
}
