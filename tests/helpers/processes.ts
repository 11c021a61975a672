import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

const root = new URL('../..', import.meta.url).pathname;

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface GatewayProcess {
  child: ChildProcess;
  /** Everything the process wrote, for failure messages. */
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A child process with its output kept; `unset` names variables of this environment it must not inherit. */
function spawnProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
  unset: string[] = [],
): GatewayProcess {
  const inherited = { ...process.env };
  for (const name of unset) delete inherited[name];
  const child = spawn(command, args, {
    cwd: root,
    env: { ...inherited, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/**
 * Run `npm run cli -- <args>` as a real child process (the CLI entry, through tsx); `unset` names
 * variables of this process's environment the child must not inherit (DATABASE_URL for embedded PGlite).
 */
export function startCli(
  args: string[],
  env: Record<string, string>,
  options: { unset?: string[] } = {},
): GatewayProcess {
  return spawnProcess(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], env, options.unset);
}

/** Run `npm start` exactly as the README says, as a real child process (npm, its shell, the server). */
export function startNpm(env: Record<string, string>, options: { unset?: string[] } = {}): GatewayProcess {
  return spawnProcess('npm', ['start'], env, options.unset);
}

/** Poll a URL until it answers 200, or fail with the process's output. */
export async function waitForReady(url: string, process: GatewayProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process.child.exitCode !== null) throw new Error(`process exited early:\n${process.output()}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms:\n${process.output()}`);
}

/** Wait until a process's output matches, or fail with the output. */
export async function waitForOutput(
  process: GatewayProcess,
  pattern: RegExp,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test(process.output())) return;
    if (process.child.exitCode !== null) throw new Error(`process exited early:\n${process.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ${pattern} after ${timeoutMs} ms:\n${process.output()}`);
}

/** Wait until a process exits by itself (or fail after `timeoutMs`, killing it); its exit code or signal. */
export async function waitForExit(
  process: GatewayProcess,
  timeoutMs = 60_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const { child } = process;
  if (child.exitCode === null && child.signalCode === null) {
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      new Promise<true>((resolve) => child.once('exit', () => resolve(true))),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!exited) {
      await process.stop('SIGKILL');
      throw new Error(`process still running after ${timeoutMs} ms:\n${process.output()}`);
    }
  }
  return { code: child.exitCode, signal: child.signalCode };
}

/** An API key as the gateway makes them: `rbk_` and 43 base64url characters. */
export const API_KEY_PATTERN = /rbk_[A-Za-z0-9_-]{43}/;

/** The distinct API keys in a process's output (a first start prints its admin key), in order. */
export function printedKeys(process: GatewayProcess): string[] {
  const matches = process.output().matchAll(new RegExp(API_KEY_PATTERN.source, 'g'));
  return [...new Set([...matches].map((match) => match[0]))];
}

/**
 * Wait for the admin key a development gateway prints on its first start (an empty database), and
 * return it; fails with the output when none comes.
 */
export async function waitForAdminKey(process: GatewayProcess, timeoutMs = 60_000): Promise<string> {
  await waitForOutput(process, API_KEY_PATTERN, timeoutMs);
  return printedKeys(process)[0] as string;
}

/** The headers of an authenticated GraphQL POST. */
export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}
