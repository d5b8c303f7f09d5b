import { pino, type Logger, type LoggerOptions } from 'pino';
import { logLevel, type logCreator } from 'kafkajs';

export type { Logger } from 'pino';

/** Structured JSON logs on stdout; `name` is the service or component. */
export function createLogger(name: string, level: LoggerOptions['level'] = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid, service: name }, timestamp: pino.stdTimeFunctions.isoTime });
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
