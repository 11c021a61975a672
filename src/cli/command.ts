import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type Config } from '../config.js';

/** One subcommand of `npm run cli -- <command>`. */
export interface CliCommand {
  name: string;
  summary: string;
  /** Lines printed by `--help` after the usage line. */
  help: string;
  run(argv: string[], config: Config): Promise<void>;
}

/** A mistake in the command line: printed with the command's help, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with strict checking; unknown flags become a UsageError. */
export function parseFlags<T extends Options>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function requireFlag(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required`);
  return value;
}

export function integerFlag(value: string | undefined, flag: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min)
    throw new UsageError(`--${flag} must be an integer >= ${min}, got ${value}`);
  return parsed;
}
