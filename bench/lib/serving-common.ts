/**
 * Shared helpers of the serving benchmarks: start the gateway as its own process, wait for readiness,
 * read its CPU time from /proc, GraphQL over HTTP, summary statistics and markdown tables.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

export function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

export function flagNumber(name: string, fallback: number): number {
  const value = Number(flag(name));
  return Number.isFinite(value) && flag(name) !== undefined ? value : fallback;
}

export function hasFlag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

import { type Spread } from './measure.js';

export { spread, type Spread } from './measure.js';

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** "median (min–max)" of a spread. */
export function fmtSpread(s: Spread, digits = 1): string {
  return s.n <= 1
    ? fmt(s.median, digits)
    : `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function machineLine(): string {
  const [one, five] = loadavg();
  return (
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}; ` +
    `load average ${fmt(one ?? 0, 2)} (1 min) / ${fmt(five ?? 0, 2)} (5 min)`
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** user + system CPU time of a process in ms, from /proc/PID/stat (Linux). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  /** ms from spawn to /readyz answering 200. */
  readyMs: number;
  cpuMs(): number;
  /** SIGTERM (graceful: the gateway drains, a --cpu-prof profile is written), SIGKILL after 20 s. */
  stop(): Promise<void>;
}

/**
 * Start `node --import tsx src/main.ts serve` (what `npm start` runs, without the npm and tsx wrapper
 * processes, so that `pid` is the gateway itself) and wait for /readyz.
 */
export async function startServer(options: {
  port: number;
  env: Record<string, string | undefined>;
  nodeFlags?: string[];
  readyTimeoutMs?: number;
  label?: string;
}): Promise<ServerProcess> {
  const started = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(options.port), LOG_LEVEL: 'warn' };
  for (const [key, value] of Object.entries(options.env)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), '--import', 'tsx', 'src/main.ts', 'serve', '--host', '127.0.0.1'],
    { env, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 600_000);
  for (;;) {
    if (exited) throw new Error(`${options.label ?? 'server'} exited before it was ready`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.label ?? 'server'} not ready in time`);
    }
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  const pid = child.pid as number;
  return {
    url,
    port: options.port,
    pid,
    readyMs: performance.now() - started,
    cpuMs: () => processCpuMs(pid),
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

export interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string }[];
}

export async function graphql<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as GraphQLResponse<T>;
  if (body.errors !== undefined && body.errors.length > 0) {
    throw new Error(`GraphQL error: ${body.errors.map((e) => e.message).join('; ')}`);
  }
  if (body.data === undefined) throw new Error(`no data (HTTP ${res.status})`);
  return body.data;
}
