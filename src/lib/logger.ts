import { pino } from 'pino';
import { type LogLevel } from '../config.js';
import { MAX_LOGGED_CHARS } from '../limits.js';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Entries of a logged array at most; the rest are counted. */
const MAX_LOGGED_ENTRIES = 20;
/** Nesting of a logged value at most. */
const MAX_LOGGED_DEPTH = 4;

function truncateText(text: string): string {
  return text.length > MAX_LOGGED_CHARS
    ? `${text.slice(0, MAX_LOGGED_CHARS)}… (${text.length - MAX_LOGGED_CHARS} more characters)`
    : text;
}

/**
 * A field as it may be logged: strings cut at MAX_LOGGED_CHARS, arrays at 20 entries, nesting at 4, and
 * errors as name, message, code, stack and the cause's message (never a driver's query parameters). One
 * request with fifty bad aliases must not write a hundred megabytes of log.
 */
export function loggable(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return truncateText(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    const cause = value.cause instanceof Error ? value.cause.message : undefined;
    return {
      name: value.name,
      message: truncateText(value.message),
      ...(typeof code === 'string' ? { code } : {}),
      ...(value.stack === undefined ? {} : { stack: truncateText(value.stack) }),
      ...(cause === undefined ? {} : { cause: truncateText(cause) }),
    };
  }
  if (depth >= MAX_LOGGED_DEPTH) return '[nested]';
  if (Array.isArray(value)) {
    const shown = value.slice(0, MAX_LOGGED_ENTRIES).map((entry) => loggable(entry, depth + 1));
    if (value.length > MAX_LOGGED_ENTRIES) shown.push(`… ${value.length - MAX_LOGGED_ENTRIES} more`);
    return shown;
  }
  if (ArrayBuffer.isView(value)) return `[${value.constructor.name} of ${value.byteLength} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value).slice(0, MAX_LOGGED_ENTRIES * 2))
    out[key] = loggable(entry, depth + 1);
  return out;
}

/**
 * pino, one JSON object per line on stderr (stdout stays for commands' output): `time`, `level`,
 * `message` and the fields, each made {@link loggable}.
 */
export function createLogger(level: LogLevel, stream: NodeJS.WritableStream = process.stderr): Logger {
  const base = pino(
    {
      level,
      base: null,
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  const write =
    (at: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) => {
      if (!base.isLevelEnabled(at)) return;
      if (fields === undefined) base[at](truncateText(message));
      else base[at](loggable(fields) as Record<string, unknown>, truncateText(message));
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
