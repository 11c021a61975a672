import { type LogLevel } from '../config.js';

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** One JSON object per line on stderr, so logs stay machine-readable and stdout stays for output. */
export function createLogger(level: LogLevel, stream: NodeJS.WritableStream = process.stderr): Logger {
  const write = (at: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>) => {
    if (order[at] < order[level]) return;
    const extra: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields ?? {})) {
      extra[key] =
        value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
    }
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level: at, message, ...extra })}\n`);
  };
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}
