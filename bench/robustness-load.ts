/**
 * Robustness under load (issue 14): does the gateway stay fast, correct and flat in memory while ordinary
 * traffic, generation and hostile queries arrive together?
 *
 *   npx tsx bench/robustness-load.ts [--seconds 60] [--runs 3] [--idle-seconds 10] [--after-seconds 5]
 *       [--clients 4] [--recommend-rate 20] [--rate-item-rate 10] [--generate-rate 2] [--hostile-rate 1]
 *       [--probe-rate 20] [--subscribers 2] [--watch-every 2] [--port N] [--out FILE] [--profile DIR]
 *
 * Each run starts a fresh gateway as its own process (`node --import tsx src/main.ts serve`, LOG_LEVEL
 * warn, its stderr read here and its warnings counted) on a temporary DATA_DIR that it fills with the demo
 * world at start and serves models/demo (as bench/serving-generate.ts does; without models/demo, the
 * tiny fixture model on the tiny dataset). Then, in this order:
 *
 * 1. idle: cheap probes only, from this process at a fixed rate (open loop, so a slow answer never delays
 *    the next probe): `{ user(id) { id ratingCount } }` and `GET /healthz`.
 * 2. load: the same probes, while a second process (this file, `--role load`) drives `recommend(first:
 *    20)` and `rateItem` from several paced clients (random users and items), `generate` jobs (DDIM 10-20
 *    steps, count 1-2) with graphql-ws subscribers on every k-th of them, and one hostile query per second
 *    rotating among six kinds that the query limits must refuse.
 * 3. drain: the load process waits (at most 30 s) for its generation jobs to end and reads their state.
 * 4. after: the probes alone again, to see that latency comes back.
 *
 * Every second this process reads the gateway's RSS and CPU time (/proc) and scrapes its /metrics
 * (event-loop lag since the previous scrape, denoising steps, error counters). Any error on an ordinary
 * operation counts: a GraphQL error of any code, an HTTP status other than 200, a socket error, a client
 * timeout (30 s), a generation job that failed, a subscription error or a WebSocket that closed. Hostile
 * queries are counted apart, by answer code.
 *
 * Prints markdown tables (median (min–max) of the runs when --runs > 1) and writes the raw results to
 * bench/results/robustness-load-<date>.json.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  flag,
  flagNumber,
  fmt,
  machineLine,
  percentile,
  processCpuMs,
  sleep,
  spread,
  table,
} from './lib/serving-common.js';
import { monotonicMicros, summariseProfile } from './lib/serving-profile.js';

// ---------------------------------------------------------------------------------------------------
// Shared: HTTP GraphQL calls that classify every outcome.

const EXPECTED_HOSTILE_CODES = new Set([
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_USER_INPUT',
]);
const CLIENT_TIMEOUT_MS = 30_000;

interface GqlError {
  message: string;
  extensions?: { code?: string; limit?: string };
}

interface Outcome<T> {
  ms: number;
  status: number;
  data?: T | null;
  errors: GqlError[];
  /** Why the call failed at the transport: 'client-timeout' or 'socket:<code>'. */
  transport?: string;
}

function transportFailure(error: unknown): string {
  const e = error as { name?: string; cause?: { code?: string; name?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'client-timeout';
  return `socket:${e.cause?.code ?? e.cause?.name ?? e.name ?? 'unknown'}`;
}

async function post<T>(url: string, query: string, variables?: Record<string, unknown>): Promise<Outcome<T>> {
  const started = performance.now();
  try {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(variables === undefined ? { query } : { query, variables }),
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    let body: { data?: T | null; errors?: GqlError[] } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return {
        ms,
        status: res.status,
        errors: [{ message: text.slice(0, 200), extensions: { code: 'NOT_JSON' } }],
      };
    }
    return { ms, status: res.status, data: body.data, errors: body.errors ?? [] };
  } catch (error) {
    return { ms: performance.now() - started, status: 0, errors: [], transport: transportFailure(error) };
  }
}

/** Error codes of an ordinary operation's outcome (empty: it succeeded). */
function errorCodes(outcome: Outcome<unknown>): string[] {
  if (outcome.transport !== undefined) return [outcome.transport];
  const codes = outcome.errors.map((e) => e.extensions?.code ?? 'NO_CODE');
  if (outcome.status !== 200) codes.push(`HTTP_${outcome.status}`);
  if (codes.length === 0 && (outcome.data === undefined || outcome.data === null)) codes.push('NO_DATA');
  return codes;
}

/** Latencies and error codes of one kind of operation. */
class OpStats {
  readonly latencies: number[] = [];
  /** When each one was sent, s after the stats began. */
  readonly sentAt: number[] = [];
  readonly errors: Record<string, number> = {};
  readonly began = performance.now();
  count = 0;
  ok = 0;
  record(ms: number, codes: readonly string[]): void {
    this.count += 1;
    this.latencies.push(Math.round(ms * 100) / 100);
    this.sentAt.push(Math.round(performance.now() - ms - this.began) / 1000);
    if (codes.length === 0) this.ok += 1;
    for (const code of new Set(codes)) this.errors[code] = (this.errors[code] ?? 0) + 1;
  }
}

interface OpSummary {
  count: number;
  ok: number;
  failed: number;
  perS: number;
  p50: number;
  p99: number;
  max: number;
  errors: Record<string, number>;
}

function summarise(stats: OpStats, seconds: number): OpSummary {
  return {
    count: stats.count,
    ok: stats.ok,
    failed: stats.count - stats.ok,
    perS: stats.count / seconds,
    p50: percentile(stats.latencies, 50),
    p99: percentile(stats.latencies, 99),
    max: stats.latencies.length === 0 ? Number.NaN : Math.max(...stats.latencies),
    errors: stats.errors,
  };
}

/** `clients` sequential loops sharing `ratePerS`; a loop that falls behind goes on at once (no bursts). */
async function paced(
  ratePerS: number,
  clients: number,
  endAt: number,
  step: () => Promise<void>,
): Promise<void> {
  if (ratePerS <= 0) return;
  const interval = (1000 * clients) / ratePerS;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      let next = performance.now() + (c * interval) / clients;
      while (next < endAt) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        await step();
        next = Math.max(next + interval, performance.now());
      }
    }),
  );
}

/** Requests started at a fixed rate whether or not the previous ones answered (no coordinated omission). */
async function openLoop(ratePerS: number, isDone: () => boolean, step: () => Promise<void>): Promise<void> {
  const interval = 1000 / ratePerS;
  const pending: Promise<void>[] = [];
  let next = performance.now();
  while (!isDone()) {
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    if (isDone()) break;
    pending.push(step());
    next += interval;
    if (next < performance.now() - 1000) next = performance.now(); // this process was stalled: skip, not burst
  }
  await Promise.all(pending);
}

const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)] as T;
const randomInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

// ---------------------------------------------------------------------------------------------------
// The load process (`--role load`): ordinary operations, generation with subscribers, hostile queries.

interface LoadConfig {
  url: string;
  users: string[];
  items: string[];
  seconds: number;
  clients: number;
  recommendRate: number;
  rateItemRate: number;
  generateRate: number;
  hostileRate: number;
  subscribers: number;
  watchEvery: number;
  drainMs: number;
}

interface HostileRecord {
  kind: string;
  ms: number;
  status: number;
  codes: string[];
  limits: string[];
  refused: boolean;
  detail?: string;
}

interface JobRecord {
  id: string;
  user: string;
  count: number;
  steps: number;
  watched: boolean;
  status: string;
  errorCode?: string | null;
  queuedMs?: number;
  runMs?: number;
  /** Watched jobs: from sending the mutation to the terminal event, and events received. */
  completionMs?: number;
  events?: number;
  /** Watched jobs whose subscription ended before a terminal event: how. */
  subscriptionEnd?: string;
}

export interface LoadResult {
  seconds: number;
  ops: Record<string, OpSummary>;
  hostile: HostileRecord[];
  jobs: JobRecord[];
  wsClosedUnexpectedly: number;
  wsCloses: { atS: number; code: number; reason: string }[];
  loadProcessLoopDelayP99Ms: number;
  drainMs: number;
}

const HOSTILE_KINDS = [
  'nested-lists',
  '40-aliases',
  'deep',
  '1MiB-id-variable',
  '1MiB-id-literal',
  'tokens-2100',
];

function hostileBody(kind: string, user: string): { query: string; variables?: Record<string, unknown> } {
  switch (kind) {
    case 'nested-lists':
      return {
        query:
          '{ users(first: 500) { edges { node { ratings(first: 500) { edges { node { user { ratings(first: 500) { totalCount } } } } } } } } }',
      };
    case '40-aliases':
      return {
        query: `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: recommend(user: ${JSON.stringify(user)}, first: 200) { items { rank score } }`).join(' ')} }`,
      };
    case 'deep': {
      let selection = 'id';
      for (let level = 0; level < 20; level += 1)
        selection = `ratings(first: 1) { edges { node { user { ${selection} } } } }`;
      return { query: `{ user(id: ${JSON.stringify(user)}) { ${selection} } }` };
    }
    case '1MiB-id-variable':
      return {
        query: 'query($id: ID!) { user(id: $id) { id ratingCount } }',
        variables: { id: 'x'.repeat(2 ** 20) },
      };
    case '1MiB-id-literal':
      return { query: `{ user(id: "${'y'.repeat(2 ** 20)}") { id ratingCount } }` };
    default:
      // 2,100 fields without aliases: over the 2,000-token limit of the parser.
      return { query: `{ ${'__typename '.repeat(2_100)}}` };
  }
}

async function runLoad(config: LoadConfig, send: (message: unknown) => void): Promise<LoadResult> {
  const { url } = config;
  const stats = {
    recommend: new OpStats(),
    rateItem: new OpStats(),
    generate: new OpStats(),
    subscription: new OpStats(),
  };
  const hostile: HostileRecord[] = [];
  const jobs: JobRecord[] = [];
  const watchers: Promise<void>[] = [];
  let closing = false;
  let wsClosedUnexpectedly = 0;
  const wsCloses: { atS: number; code: number; reason: string }[] = [];
  let loadStarted = performance.now();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();

  const wsClients = Array.from({ length: config.subscribers }, () =>
    createClient({
      url: `${url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      on: {
        closed: (event) => {
          if (closing) return;
          wsClosedUnexpectedly += 1;
          const { code, reason } = event as { code?: number; reason?: string };
          wsCloses.push({
            atS: (performance.now() - loadStarted) / 1000,
            code: code ?? -1,
            reason: String(reason ?? ''),
          });
        },
      },
    }),
  );
  // Wait until every socket is open (a trivial subscription-less round trip is not possible: ping once).
  await Promise.all(
    wsClients.map(
      (client) =>
        new Promise<void>((resolvePromise, reject) => {
          const timer = setTimeout(() => reject(new Error('WebSocket did not connect in 10 s')), 10_000);
          const off = client.on('connected', () => {
            off();
            clearTimeout(timer);
            resolvePromise();
          });
        }),
    ),
  );

  /**
   * Follows one job to its end. The subscription is left to the server to complete after the terminal
   * event: unsubscribing from inside `next` makes graphql-ws 6.4's client release the operation twice
   * when the server's `complete` arrives in the same read (its lock count then drops to zero and it
   * closes the socket with 1000 "Normal Closure" under the other subscriptions). Unsubscribed only on
   * the timeout.
   */
  const watch = (job: JobRecord, sentAt: number, client: ReturnType<typeof createClient>) =>
    new Promise<void>((resolvePromise) => {
      let events = 0;
      let last = 'none';
      let recorded = false;
      let ended = false;
      const record = (codes: string[]) => {
        if (recorded) return;
        recorded = true;
        const ms = performance.now() - sentAt;
        job.completionMs = ms;
        job.events = events;
        stats.subscription.record(ms, codes);
      };
      const end = () => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        resolvePromise();
      };
      const timer = setTimeout(
        () => {
          if (!recorded) job.subscriptionEnd = `no terminal event after ${events} events (last ${last})`;
          else job.subscriptionEnd = `terminal event, but the server never completed the subscription`;
          record(['subscription-unfinished']);
          unsubscribe();
          end();
        },
        config.seconds * 1000 + config.drainMs + 5_000,
      );
      const unsubscribe = client.subscribe<{ generationProgress: { status: string; step: number } }>(
        {
          query: 'subscription($j: ID!) { generationProgress(job: $j) { status step totalSteps } }',
          variables: { j: job.id },
        },
        {
          next: (result) => {
            if (result.errors !== undefined && result.errors.length > 0) {
              job.subscriptionEnd = `errors after ${events} events: ${JSON.stringify(result.errors).slice(0, 200)}`;
              record(result.errors.map((e) => String(e.extensions?.code ?? 'NO_CODE')));
              return;
            }
            const event = result.data?.generationProgress;
            if (event === undefined) return;
            events += 1;
            last = `${event.status} ${event.step}`;
            if (event.status === 'SUCCEEDED') record([]);
            else if (event.status === 'FAILED' || event.status === 'CANCELLED')
              record([`job-${event.status}`]);
          },
          error: (error) => {
            if (!recorded) {
              const e = error as { message?: string; code?: number; reason?: string };
              job.subscriptionEnd = `error after ${events} events (last ${last}): ${e.message ?? `close ${e.code} ${e.reason}`}`;
              record(['subscription-error']);
            }
            end();
          },
          complete: () => {
            if (!recorded) {
              job.subscriptionEnd = `completed by the server after ${events} events (last ${last})`;
              record([events === 0 ? 'subscription-ended-without-events' : 'subscription-ended-early']);
            }
            end();
          },
        },
      );
    });

  const startedAt = performance.now();
  loadStarted = startedAt;
  const endAt = startedAt + config.seconds * 1000;
  send({ type: 'started' });
  let generated = 0;
  let hostileIndex = 0;

  await Promise.all([
    paced(config.recommendRate, config.clients, endAt, async () => {
      const outcome = await post<{ recommend: { items: unknown[] } }>(
        url,
        'query($u: ID!) { recommend(user: $u, first: 20) { items { rank score item { ... on Item { id } } } } }',
        { u: pick(config.users) },
      );
      const codes = errorCodes(outcome);
      if (codes.length === 0 && outcome.data?.recommend.items.length !== 20) codes.push('SHORT_ANSWER');
      stats.recommend.record(outcome.ms, codes);
    }),
    paced(config.rateItemRate, config.clients, endAt, async () => {
      const outcome = await post(
        url,
        'mutation($u: ID!, $i: ID!, $s: Int!) { rateItem(user: $u, item: $i, score: $s) { score liked } }',
        { u: pick(config.users), i: pick(config.items), s: randomInt(1, 5) },
      );
      stats.rateItem.record(outcome.ms, errorCodes(outcome));
    }),
    paced(config.generateRate, 1, endAt, async () => {
      const user = pick(config.users);
      const count = randomInt(1, 2);
      const steps = randomInt(10, 20);
      const sentAt = performance.now();
      const outcome = await post<{ generate: { id: string } }>(
        url,
        'mutation($u: ID!, $c: Int!, $s: Int!) { generate(user: $u, count: $c, steps: $s, sampler: DDIM) { id } }',
        { u: user, c: count, s: steps },
      );
      const codes = errorCodes(outcome);
      stats.generate.record(outcome.ms, codes);
      const id = outcome.data?.generate.id;
      if (codes.length > 0 || id === undefined) return;
      const watched = config.subscribers > 0 && generated % config.watchEvery === 0;
      const job: JobRecord = { id, user, count, steps, watched, status: 'UNKNOWN' };
      jobs.push(job);
      if (watched)
        watchers.push(watch(job, sentAt, wsClients[generated % wsClients.length] as (typeof wsClients)[0]));
      generated += 1;
    }),
    paced(config.hostileRate, 1, endAt, async () => {
      const kind = HOSTILE_KINDS[hostileIndex % HOSTILE_KINDS.length] as string;
      hostileIndex += 1;
      const body = hostileBody(kind, pick(config.users));
      const outcome = await post<Record<string, unknown>>(url, body.query, body.variables);
      const codes =
        outcome.transport !== undefined
          ? [outcome.transport]
          : outcome.errors.map((e) => e.extensions?.code ?? 'NO_CODE');
      const dataEmpty =
        outcome.data === undefined ||
        outcome.data === null ||
        Object.values(outcome.data).every((value) => value === null);
      const refused =
        outcome.transport === undefined &&
        (outcome.status === 200 || outcome.status === 400) &&
        codes.length > 0 &&
        codes.every((code) => EXPECTED_HOSTILE_CODES.has(code)) &&
        dataEmpty;
      hostile.push({
        kind,
        ms: Math.round(outcome.ms * 100) / 100,
        status: outcome.status,
        codes,
        limits: outcome.errors.map((e) => e.extensions?.limit).filter((l): l is string => l !== undefined),
        refused,
        ...(refused
          ? {}
          : { detail: JSON.stringify({ data: outcome.data, errors: outcome.errors }).slice(0, 300) }),
      });
    }),
  ]);
  const loadSeconds = (performance.now() - startedAt) / 1000;
  send({ type: 'loadEnded' });

  // Drain: wait for watched jobs' terminal events, and poll the others until they end.
  const drainStarted = performance.now();
  const drainDeadline = drainStarted + config.drainMs;
  const JOB_QUERY =
    'query($id: ID!) { generationJob(id: $id) { status errorCode createdAt startedAt finishedAt } }';
  for (;;) {
    let open = 0;
    for (const job of jobs) {
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) continue;
      const outcome = await post<{
        generationJob: {
          status: string;
          errorCode: string | null;
          createdAt: string;
          startedAt: string | null;
          finishedAt: string | null;
        } | null;
      }>(url, JOB_QUERY, { id: job.id });
      const state = outcome.data?.generationJob;
      if (state === undefined || state === null) {
        job.status = `LOOKUP_FAILED ${errorCodes(outcome).join(',')}`;
        open += 1;
        continue;
      }
      job.status = state.status;
      job.errorCode = state.errorCode;
      if (state.startedAt !== null) job.queuedMs = Date.parse(state.startedAt) - Date.parse(state.createdAt);
      if (state.startedAt !== null && state.finishedAt !== null)
        job.runMs = Date.parse(state.finishedAt) - Date.parse(state.startedAt);
      if (!['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) open += 1;
    }
    if (open === 0 || performance.now() > drainDeadline) break;
    await sleep(250);
  }
  await Promise.race([Promise.all(watchers), sleep(Math.max(0, drainDeadline - performance.now()) + 1000)]);
  const drainMs = performance.now() - drainStarted;
  closing = true;
  await Promise.all(wsClients.map((client) => client.dispose()));
  loop.disable();

  const ops: Record<string, OpSummary> = {};
  for (const [name, s] of Object.entries(stats)) ops[name] = summarise(s, loadSeconds);
  return {
    seconds: loadSeconds,
    ops,
    hostile,
    jobs,
    wsClosedUnexpectedly,
    wsCloses,
    loadProcessLoopDelayP99Ms: loop.percentile(99) / 1e6,
    drainMs,
  };
}

// ---------------------------------------------------------------------------------------------------
// The main process: the gateway, the probes, RSS and /metrics every second, the report.

interface Gateway {
  url: string;
  pid: number;
  readyMs: number;
  logs: { warn: number; error: number; other: number; samples: string[] };
  stop(): Promise<number | null>;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

/** Like startServer (lib/serving-common.ts), but reads the gateway's stderr to count its warnings. */
async function startGateway(env: Record<string, string | undefined>, nodeFlags: string[]): Promise<Gateway> {
  const port = flag('port') !== undefined ? flagNumber('port', 0) : await freePort();
  const started = performance.now();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_LEVEL: 'warn' };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  const args = [...nodeFlags, '--import', 'tsx', 'src/main.ts', 'serve', '--host', '127.0.0.1'];
  const child = spawn(process.execPath, args, {
    env: childEnv,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const logs = { warn: 0, error: 0, other: 0, samples: [] as string[] };
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
    let level = 'other';
    try {
      level = String((JSON.parse(line) as { level?: unknown }).level ?? 'other');
    } catch {
      // not a log line (a stack trace, a warning of node itself)
    }
    if (level === 'warn' || level === '40') logs.warn += 1;
    else if (level === 'error' || level === 'fatal' || level === '50' || level === '60') logs.error += 1;
    else logs.other += 1;
    if (logs.samples.length < 20) logs.samples.push(line.slice(0, 500));
  });
  let exitCode: number | null = null;
  let exited = false;
  const exitPromise = new Promise<void>((resolvePromise) =>
    child.once('exit', (code) => {
      exited = true;
      exitCode = code;
      resolvePromise();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 600_000;
  for (;;) {
    if (exited) throw new Error(`gateway exited before it was ready: ${logs.samples.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('gateway not ready in 10 minutes');
    }
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  return {
    url,
    pid: child.pid as number,
    readyMs: performance.now() - started,
    logs,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exitPromise;
        clearTimeout(timer);
      }
      return exitCode;
    },
  };
}

/** The model and data, as bench/serving-generate.ts chooses them. */
function setup(): { label: string; env: Record<string, string | undefined>; cleanup: () => void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'robustness-load-'));
  const cleanup = () => rmSync(dataDir, { recursive: true, force: true });
  // --database-url: an empty PostgreSQL database instead of embedded PGlite (the gateway imports the demo
  // world into it at start).
  const databaseUrl = flag('database-url');
  const base = { IMAGE_DECODER: 'none', REDIS_URL: undefined, DATABASE_URL: databaseUrl, DATA_DIR: dataDir };
  if (existsSync('models/demo/manifest.json')) {
    return {
      label:
        databaseUrl === undefined
          ? 'models/demo on the demo world (PGlite in a temporary DATA_DIR, imported by the gateway at start)'
          : 'models/demo on the demo world (PostgreSQL --database-url, imported by the gateway at start)',
      env: { ...base, MODEL_DIR: undefined, DEMO_WORLD: '1' },
      cleanup,
    };
  }
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  execFileSync(
    process.execPath,
    ['--import', 'tsx', 'src/main.ts', 'import', '--dir', 'tests/fixtures/tiny-dataset'],
    { env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return {
    label: 'FALLBACK tests/fixtures/tiny-model on tests/fixtures/tiny-dataset (models/demo is absent)',
    env: { ...base, MODEL_DIR: resolve('tests/fixtures/tiny-model'), DEMO_WORLD: '0' },
    cleanup,
  };
}

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? Number.NaN : Number(match[1]) / 1024;
}

/** Prometheus text: every sample as `name{labels}` -> value. */
async function scrape(url: string): Promise<Map<string, number> | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const samples = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const at = line.lastIndexOf(' ');
      samples.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
    return samples;
  } catch {
    return undefined;
  }
}

function sumMatching(samples: Map<string, number> | undefined, prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, value] of samples ?? []) if (key.startsWith(prefix)) out.set(key, value);
  return out;
}

type Phase = 'warm-up' | 'idle' | 'load' | 'drain' | 'after';

interface Sample {
  t: number;
  phase: Phase;
  rssMiB: number;
  cpuMs: number;
  /** Gateway event-loop lag over the second before (prom-client resets it at each scrape), ms. */
  lagP99Ms?: number;
  lagMaxMs?: number;
  heapUsedMiB?: number;
  denoisingSteps?: number;
}

interface PhaseProbes {
  seconds: number;
  user: OpSummary;
  healthz: OpSummary;
  /** After the first STEADY_AFTER_S seconds of the phase (start-up transients left out). */
  userSteady: OpSummary;
  healthzSteady: OpSummary;
  /** Raw latencies (ms) and when each probe was sent (s into the phase). */
  userMs: number[];
  userSentAt: number[];
  healthzMs: number[];
  healthzSentAt: number[];
  /** Event-loop delay of this (the probing) process during the phase, ms: a stalled client inflates latencies. */
  clientLagP99Ms: number;
  clientLagMaxMs: number;
}

/** A probe slower than this is listed with the second it was sent in (stalls). */
const SLOW_PROBE_MS = 1_000;

/** Seconds into the phase in which probes slower than SLOW_PROBE_MS were sent, as "3, 17–18". */
function slowSeconds(p: PhaseProbes): string {
  const seconds = new Set<number>();
  const add = (ms: number[], at: number[]) =>
    ms.forEach((m, i) => {
      if (m > SLOW_PROBE_MS) seconds.add(Math.floor(at[i] as number));
    });
  add(p.userMs, p.userSentAt);
  add(p.healthzMs, p.healthzSentAt);
  const sorted = [...seconds].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j += 1;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(', ');
}

/** The part of a phase left out of its "steady" figures. */
const STEADY_AFTER_S = 5;

function steady(stats: OpStats, seconds: number): OpSummary {
  const kept = new OpStats();
  stats.latencies.forEach((ms, i) => {
    if ((stats.sentAt[i] as number) >= STEADY_AFTER_S) kept.record(ms, []);
  });
  return summarise(kept, Math.max(1e-9, seconds - STEADY_AFTER_S));
}

interface RunResult {
  run: number;
  startedAt: string;
  loadAverageAtStart: number[];
  gateway: { readyMs: number; exitCode: number | null; logs: Gateway['logs'] };
  data: string;
  users: number;
  items: number;
  probes: Partial<Record<Phase, PhaseProbes>>;
  load: LoadResult;
  samples: Sample[];
  serverErrorCounters: Record<string, number>;
  figures: Record<string, number>;
  /** With --profile: where the gateway's CPU time went during the load. */
  profile?: string;
}

/** Least-squares slope of y over t (per second). */
function slope(points: readonly { t: number; y: number }[]): number {
  const n = points.length;
  if (n < 3) return Number.NaN;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

async function runOnce(run: number, options: Options): Promise<RunResult> {
  const chosen = setup();
  const startedAt = new Date().toISOString();
  const loadAverageAtStart = loadavg();
  const profileDir = flag('profile');
  let profilesBefore = new Set<string>();
  if (profileDir !== undefined) {
    mkdirSync(profileDir, { recursive: true });
    profilesBefore = new Set(readdirSync(profileDir));
  }
  const gateway = await startGateway(
    chosen.env,
    profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', resolve(profileDir)],
  ).catch((error: unknown) => {
    chosen.cleanup();
    throw error;
  });
  const samples: Sample[] = [];
  const probes: Partial<Record<Phase, PhaseProbes>> = {};
  let phase: Phase = 'warm-up';
  const t0 = performance.now();
  let sampling = true;
  let sampler: Promise<void> = Promise.resolve();
  let child: ChildProcess | undefined;
  try {
    const { users } = (
      await post<{ users: { edges: { node: { id: string } }[] } }>(
        gateway.url,
        '{ users(first: 500) { edges { node { id } } } }',
      )
    ).data ?? { users: { edges: [] } };
    const userIds = users.edges.map((e) => e.node.id);
    const itemIds: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Outcome<{
        items: {
          edges: { node: { id: string } }[];
          pageInfo: { endCursor: string | null; hasNextPage: boolean };
        };
      }> = await post(
        gateway.url,
        'query($a: String) { items(first: 500, after: $a) { edges { node { id } } pageInfo { endCursor hasNextPage } } }',
        { a: after },
      );
      const items = page.data?.items;
      if (items === undefined) throw new Error(`items: ${JSON.stringify(page.errors)}`);
      itemIds.push(...items.edges.map((e) => e.node.id));
      if (!items.pageInfo.hasNextPage || itemIds.length >= 5_000) break;
      after = items.pageInfo.endCursor;
    }
    if (userIds.length === 0 || itemIds.length === 0) throw new Error('no users or items to load with');
    console.log(
      `run ${run}: gateway ready in ${fmt(gateway.readyMs / 1000, 1)} s (pid ${gateway.pid}); ` +
        `${userIds.length} users, ${itemIds.length} items`,
    );

    // Warm-up: every user's recommendation once (user vectors, caches), one generation job, probes.
    for (const user of userIds)
      await post(gateway.url, '{ recommend(user: "' + user + '", first: 20) { items { rank } } }');
    await post(
      gateway.url,
      `mutation { generate(user: "${userIds[0]}", count: 1, steps: 10, sampler: DDIM) { id } }`,
    );

    // Every second: RSS, CPU, /metrics.
    let lastScrape = await scrape(gateway.url);
    const errorCountersBefore = sumMatching(lastScrape, 'gateway_operation_errors_total');
    sampler = (async () => {
      while (sampling) {
        await sleep(1000);
        const metrics = await scrape(gateway.url);
        let cpuMs = Number.NaN;
        let rss = Number.NaN;
        try {
          cpuMs = processCpuMs(gateway.pid);
          rss = rssMiB(gateway.pid);
        } catch {
          // the gateway exited
        }
        const sample: Sample = { t: (performance.now() - t0) / 1000, phase, rssMiB: rss, cpuMs };
        if (metrics !== undefined) {
          sample.lagP99Ms = (metrics.get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000;
          sample.lagMaxMs = (metrics.get('nodejs_eventloop_lag_max_seconds') ?? Number.NaN) * 1000;
          sample.heapUsedMiB = (metrics.get('nodejs_heap_size_used_bytes') ?? Number.NaN) / 2 ** 20;
          sample.denoisingSteps = metrics.get('generation_denoising_steps_total') ?? Number.NaN;
          lastScrape = metrics;
        }
        samples.push(sample);
      }
    })();

    const probePhase = async (name: Phase, isDone: () => boolean) => {
      const user = new OpStats();
      const healthz = new OpStats();
      const began = performance.now();
      const clientLag = monitorEventLoopDelay({ resolution: 10 });
      clientLag.enable();
      await Promise.all([
        openLoop(options.probeRate, isDone, async () => {
          const u = pick(userIds);
          const outcome = await post<{ user: { id: string; ratingCount: number } | null }>(
            gateway.url,
            'query($u: ID!) { user(id: $u) { id ratingCount } }',
            { u },
          );
          const codes = errorCodes(outcome);
          if (codes.length === 0 && outcome.data?.user?.id !== u) codes.push('WRONG_ANSWER');
          user.record(outcome.ms, codes);
        }),
        openLoop(options.probeRate, isDone, async () => {
          const started = performance.now();
          try {
            const res = await fetch(`${gateway.url}/healthz`, {
              signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
            });
            await res.text();
            healthz.record(performance.now() - started, res.status === 200 ? [] : [`HTTP_${res.status}`]);
          } catch (error) {
            healthz.record(performance.now() - started, [transportFailure(error)]);
          }
        }),
      ]);
      const seconds = (performance.now() - began) / 1000;
      clientLag.disable();
      probes[name] = {
        seconds,
        user: summarise(user, seconds),
        healthz: summarise(healthz, seconds),
        userSteady: steady(user, seconds),
        healthzSteady: steady(healthz, seconds),
        userMs: user.latencies,
        userSentAt: user.sentAt,
        healthzMs: healthz.latencies,
        healthzSentAt: healthz.sentAt,
        clientLagP99Ms: clientLag.percentile(99) / 1e6,
        clientLagMaxMs: clientLag.max / 1e6,
      };
    };
    const timed = (seconds: number) => {
      const end = performance.now() + seconds * 1000;
      return () => performance.now() >= end;
    };

    await probePhase('warm-up', timed(2));
    phase = 'idle';
    await probePhase('idle', timed(options.idleSeconds));

    // Load: a second process drives it; the probes run from its 'started' to its 'loadEnded'.
    const loadProcess = fork(fileURLToPath(import.meta.url), ['--role', 'load'], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child = loadProcess;
    let loadEnded = false;
    let resolveStarted: () => void = () => undefined;
    const started = new Promise<void>((r) => {
      resolveStarted = r;
    });
    const result = new Promise<LoadResult>((resolvePromise, reject) => {
      loadProcess.on('message', (message: { type: string; result?: LoadResult; error?: string }) => {
        if (message.type === 'started') resolveStarted();
        else if (message.type === 'loadEnded') {
          loadEnded = true;
          phase = 'drain';
        } else if (message.type === 'result') resolvePromise(message.result as LoadResult);
        else if (message.type === 'error') reject(new Error(`load process: ${message.error}`));
      });
      loadProcess.once('exit', (code) => reject(new Error(`load process exited (${code}) without a result`)));
    });
    const config: LoadConfig = {
      url: gateway.url,
      users: userIds,
      items: itemIds,
      seconds: options.seconds,
      clients: options.clients,
      recommendRate: options.recommendRate,
      rateItemRate: options.rateItemRate,
      generateRate: options.generateRate,
      hostileRate: options.hostileRate,
      subscribers: options.subscribers,
      watchEvery: options.watchEvery,
      drainMs: 30_000,
    };
    loadProcess.send({ type: 'config', config });
    await Promise.race([started, result]);
    phase = 'load';
    const loadFrom = monotonicMicros();
    await probePhase('load', () => loadEnded);
    const loadWindow = { from: loadFrom, to: monotonicMicros() };
    const load = await result;
    phase = 'after';
    await probePhase('after', timed(options.afterSeconds));
    const errorCountersAfter = sumMatching(await scrape(gateway.url), 'gateway_operation_errors_total');
    sampling = false;
    await sampler;

    const serverErrorCounters: Record<string, number> = {};
    for (const [key, value] of errorCountersAfter) {
      const delta = value - (errorCountersBefore.get(key) ?? 0);
      if (delta > 0) serverErrorCounters[key.replace('gateway_operation_errors_total', '')] = delta;
    }
    const exitCode = await gateway.stop();
    let profile: string | undefined;
    if (profileDir !== undefined) {
      const written = readdirSync(profileDir).filter(
        (n) => n.endsWith('.cpuprofile') && !profilesBefore.has(n),
      );
      profile =
        written[0] === undefined
          ? 'no .cpuprofile written'
          : `gateway CPU profile, the load phase only:\n\n${summariseProfile(join(profileDir, written[0]), loadWindow)}`;
      console.log(`\n${profile}\n`);
    }
    return {
      ...(profile === undefined ? {} : { profile }),
      run,
      startedAt,
      loadAverageAtStart,
      gateway: { readyMs: gateway.readyMs, exitCode, logs: gateway.logs },
      data: chosen.label,
      users: userIds.length,
      items: itemIds.length,
      probes,
      load,
      samples,
      serverErrorCounters,
      figures: figuresOf(probes, load, samples, serverErrorCounters),
    };
  } finally {
    sampling = false;
    await sampler.catch(() => undefined);
    if (child !== undefined && child.exitCode === null) child.kill('SIGTERM');
    await gateway.stop();
    chosen.cleanup();
  }
}

/** One number per figure of the report, so that runs can be summarised by their median. */
function figuresOf(
  probes: Partial<Record<Phase, PhaseProbes>>,
  load: LoadResult,
  samples: readonly Sample[],
  serverErrorCounters: Record<string, number>,
): Record<string, number> {
  const f: Record<string, number> = {};
  for (const phase of ['idle', 'load', 'after'] as const) {
    const p = probes[phase];
    if (p === undefined) continue;
    for (const probe of ['user', 'healthz'] as const) {
      const s = p[probe];
      f[`${phase}.${probe}.p50`] = s.p50;
      f[`${phase}.${probe}.p99`] = s.p99;
      f[`${phase}.${probe}.max`] = s.max;
      f[`${phase}.${probe}.perS`] = s.perS;
      f[`${phase}.${probe}.errors`] = s.failed;
      const st = p[probe === 'user' ? 'userSteady' : 'healthzSteady'];
      f[`${phase}.${probe}.steady.p50`] = st.p50;
      f[`${phase}.${probe}.steady.p99`] = st.p99;
    }
    f[`${phase}.slowProbes`] = [...p.userMs, ...p.healthzMs].filter((ms) => ms > SLOW_PROBE_MS).length;
    f[`${phase}.clientLag.p99`] = p.clientLagP99Ms;
    f[`${phase}.clientLag.max`] = p.clientLagMaxMs;
  }
  for (const probe of ['user', 'healthz'] as const) {
    for (const q of ['p50', 'p99'] as const) {
      f[`ratio.${probe}.${q}`] = (f[`load.${probe}.${q}`] as number) / (f[`idle.${probe}.${q}`] as number);
      f[`ratio.${probe}.steady.${q}`] =
        (f[`load.${probe}.steady.${q}`] as number) / (f[`idle.${probe}.${q}`] as number);
    }
  }
  f['load.loadProcessLag.p99'] = load.loadProcessLoopDelayP99Ms;
  for (const [name, s] of Object.entries(load.ops)) {
    f[`op.${name}.perS`] = s.perS;
    f[`op.${name}.p50`] = s.p50;
    f[`op.${name}.p99`] = s.p99;
    f[`op.${name}.errors`] = s.failed;
  }
  // Errors of the load: every ordinary operation, the probes under load, closed sockets, failed jobs.
  const jobsFailed = load.jobs.filter((j) => j.status !== 'SUCCEEDED').length;
  f['errors.total'] =
    Object.values(load.ops).reduce((s, o) => s + o.failed, 0) +
    (probes.load?.user.failed ?? 0) +
    (probes.load?.healthz.failed ?? 0) +
    load.wsClosedUnexpectedly +
    jobsFailed;
  f['errors.serverInternal'] = Object.entries(serverErrorCounters)
    .filter(([key]) => key.includes('INTERNAL_SERVER_ERROR'))
    .reduce((s, [, v]) => s + v, 0);
  // Generation.
  const succeeded = load.jobs.filter((j) => j.status === 'SUCCEEDED');
  f['gen.started'] = load.jobs.length;
  f['gen.succeeded'] = succeeded.length;
  f['gen.notSucceeded'] = jobsFailed;
  f['gen.stepsPerSPerJob'] = spread(
    succeeded.filter((j) => (j.runMs ?? 0) > 0).map((j) => (1000 * j.steps) / (j.runMs as number)),
  ).median;
  f['gen.queuedMsP50'] = percentile(
    succeeded.map((j) => j.queuedMs ?? Number.NaN).filter(Number.isFinite),
    50,
  );
  f['gen.runMsP50'] = percentile(succeeded.map((j) => j.runMs ?? Number.NaN).filter(Number.isFinite), 50);
  const watched = succeeded.filter((j) => j.completionMs !== undefined);
  f['gen.watched'] = watched.length;
  f['gen.completionMsP50'] = percentile(
    watched.map((j) => j.completionMs as number),
    50,
  );
  f['gen.completionMsP99'] = percentile(
    watched.map((j) => j.completionMs as number),
    99,
  );
  const loadSamples = samples.filter((s) => s.phase === 'load');
  const steps = loadSamples.map((s) => s.denoisingSteps ?? Number.NaN).filter(Number.isFinite);
  const firstLoad = loadSamples[0];
  const lastLoad = loadSamples[loadSamples.length - 1];
  f['gen.serverStepsPerS'] =
    steps.length >= 2 && firstLoad !== undefined && lastLoad !== undefined
      ? ((steps[steps.length - 1] as number) - (steps[0] as number)) / (lastLoad.t - firstLoad.t)
      : Number.NaN;
  f['gen.sumStepsPerS'] = succeeded.reduce((s, j) => s + j.steps, 0) / load.seconds;
  // Hostile queries.
  f['hostile.sent'] = load.hostile.length;
  f['hostile.refused'] = load.hostile.filter((h) => h.refused).length;
  f['hostile.unexpected'] = load.hostile.length - f['hostile.refused'];
  f['hostile.p50'] = percentile(
    load.hostile.map((h) => h.ms),
    50,
  );
  f['hostile.p99'] = percentile(
    load.hostile.map((h) => h.ms),
    99,
  );
  f['hostile.max'] = load.hostile.length === 0 ? Number.NaN : Math.max(...load.hostile.map((h) => h.ms));
  for (const kind of HOSTILE_KINDS) {
    const of = load.hostile.filter((h) => h.kind === kind).map((h) => h.ms);
    f[`hostile.${kind}.p99`] = percentile(of, 99);
  }
  // Server: RSS, CPU, event-loop lag, per phase.
  for (const phase of ['idle', 'load', 'drain', 'after'] as const) {
    const of = samples.filter((s) => s.phase === phase);
    if (of.length === 0) continue;
    const rss = of.map((s) => s.rssMiB);
    f[`rss.${phase}.start`] = rss[0] as number;
    f[`rss.${phase}.max`] = Math.max(...rss);
    f[`rss.${phase}.end`] = rss[rss.length - 1] as number;
    const first = of[0] as Sample;
    const last = of[of.length - 1] as Sample;
    f[`cpu.${phase}.percent`] =
      last.t > first.t ? (100 * (last.cpuMs - first.cpuMs)) / ((last.t - first.t) * 1000) : Number.NaN;
    const lagMax = of.map((s) => s.lagMaxMs ?? Number.NaN).filter(Number.isFinite);
    const lagP99 = of.map((s) => s.lagP99Ms ?? Number.NaN).filter(Number.isFinite);
    f[`lag.${phase}.max`] = lagMax.length === 0 ? Number.NaN : Math.max(...lagMax);
    f[`lag.${phase}.p99median`] = spread(lagP99).median;
    f[`heap.${phase}.end`] = last.heapUsedMiB ?? Number.NaN;
  }
  // RSS trend over the second half of the load phase: fitted growth (MiB/min) and a verdict.
  const half = loadSamples.slice(Math.floor(loadSamples.length / 2));
  const perS = slope(half.map((s) => ({ t: s.t, y: s.rssMiB })));
  f['rss.load.secondHalfMiBPerMin'] = perS * 60;
  const halfSpan = half.length >= 2 ? (half[half.length - 1] as Sample).t - (half[0] as Sample).t : 0;
  const growth = perS * halfSpan;
  const meanRss = half.reduce((s, x) => s + x.rssMiB, 0) / Math.max(1, half.length);
  f['rss.load.secondHalfGrowthMiB'] = growth;
  f['rss.load.flat'] = Number.isFinite(growth) && growth < Math.max(10, 0.02 * meanRss) ? 1 : 0;
  const heapHalf = half.filter((s) => s.heapUsedMiB !== undefined);
  f['heap.load.secondHalfMiBPerMin'] =
    slope(heapHalf.map((s) => ({ t: s.t, y: s.heapUsedMiB as number }))) * 60;
  return f;
}

// ---------------------------------------------------------------------------------------------------
// Report.

interface Options {
  seconds: number;
  runs: number;
  idleSeconds: number;
  afterSeconds: number;
  clients: number;
  recommendRate: number;
  rateItemRate: number;
  generateRate: number;
  hostileRate: number;
  probeRate: number;
  subscribers: number;
  watchEvery: number;
}

function report(results: readonly RunResult[], options: Options): string {
  const values = (key: string) => results.map((r) => r.figures[key] ?? Number.NaN).filter(Number.isFinite);
  const cell = (key: string, digits = 1, suffix = '') => {
    const v = values(key);
    if (v.length === 0) return 'n/a';
    const s = spread(v);
    return s.n <= 1 || s.min === s.max
      ? `${fmt(s.median, digits)}${suffix}`
      : `${fmt(s.median, digits)}${suffix} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
  };
  const sumCodes = (get: (r: RunResult) => Record<string, number>) => {
    const all: Record<string, number> = {};
    for (const r of results) for (const [code, n] of Object.entries(get(r))) all[code] = (all[code] ?? 0) + n;
    const text = Object.entries(all)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    return text === '' ? 'none' : text;
  };
  const runsNote = results.length > 1 ? ` (median (min–max) of ${results.length} runs; codes summed)` : '';
  const out: string[] = [];

  out.push(`### Cheap queries, idle and under load (ms)${runsNote}\n`);
  const probeRows: string[][] = [];
  for (const [probe, label] of [
    ['user', '`{ user(id) { id ratingCount } }`'],
    ['healthz', '`GET /healthz`'],
  ] as const) {
    for (const q of ['p50', 'p99'] as const) {
      probeRows.push([
        `${label} ${q}`,
        cell(`idle.${probe}.${q}`, 2),
        cell(`load.${probe}.${q}`, 2),
        cell(`ratio.${probe}.${q}`, 2, 'x'),
        cell(`load.${probe}.steady.${q}`, 2),
        cell(`ratio.${probe}.steady.${q}`, 2, 'x'),
        cell(`after.${probe}.${q}`, 2),
      ]);
    }
    probeRows.push([
      `${label} max`,
      cell(`idle.${probe}.max`, 1),
      cell(`load.${probe}.max`, 1),
      '',
      '',
      '',
      cell(`after.${probe}.max`, 1),
    ]);
  }
  out.push(
    table(
      [
        'probe',
        `idle (${options.idleSeconds} s)`,
        `under load (${options.seconds} s)`,
        'load / idle (target <= 2x)',
        `under load after its first ${STEADY_AFTER_S} s`,
        'that / idle',
        `after the load (${options.afterSeconds} s)`,
      ],
      probeRows,
    ),
  );
  out.push(
    `\nThe probing process's own event-loop delay p99 / max (ms): idle ${cell('idle.clientLag.p99', 1)} / ` +
      `${cell('idle.clientLag.max', 1)}, under load ${cell('load.clientLag.p99', 1)} / ${cell('load.clientLag.max', 1)}; ` +
      `the load process's p99: ${cell('load.loadProcessLag.p99', 1)}. Probes slower than ${SLOW_PROBE_MS} ms ` +
      `under load: ${cell('load.slowProbes', 0)}` +
      results
        .map((r) => (r.probes.load === undefined ? '' : slowSeconds(r.probes.load)))
        .map((text, i) => (text === '' ? '' : `; run ${i + 1}: sent in seconds ${text} of the load`))
        .join('') +
      '.',
  );

  out.push(`\n### Operations under load${runsNote}\n`);
  const opRows: string[][] = [
    [
      '`recommend(user, first: 20)`',
      `${options.recommendRate}`,
      cell('op.recommend.perS', 1),
      cell('op.recommend.p50', 1),
      cell('op.recommend.p99', 1),
      cell('op.recommend.errors', 0),
      sumCodes((r) => r.load.ops.recommend?.errors ?? {}),
    ],
    [
      '`rateItem`',
      `${options.rateItemRate}`,
      cell('op.rateItem.perS', 1),
      cell('op.rateItem.p50', 1),
      cell('op.rateItem.p99', 1),
      cell('op.rateItem.errors', 0),
      sumCodes((r) => r.load.ops.rateItem?.errors ?? {}),
    ],
    [
      '`generate` (mutation)',
      `${options.generateRate}`,
      cell('op.generate.perS', 2),
      cell('op.generate.p50', 1),
      cell('op.generate.p99', 1),
      cell('op.generate.errors', 0),
      sumCodes((r) => r.load.ops.generate?.errors ?? {}),
    ],
    [
      '`generationProgress` (watched job, to its end)',
      `every ${options.watchEvery}. job`,
      cell('op.subscription.perS', 2),
      cell('op.subscription.p50', 1),
      cell('op.subscription.p99', 1),
      cell('op.subscription.errors', 0),
      sumCodes((r) => r.load.ops.subscription?.errors ?? {}),
    ],
    [
      'probe `user(id)`',
      `${options.probeRate}`,
      cell('load.user.perS', 1),
      cell('load.user.p50', 2),
      cell('load.user.p99', 2),
      cell('load.user.errors', 0),
      sumCodes((r) => r.probes.load?.user.errors ?? {}),
    ],
    [
      'probe `/healthz`',
      `${options.probeRate}`,
      cell('load.healthz.perS', 1),
      cell('load.healthz.p50', 2),
      cell('load.healthz.p99', 2),
      cell('load.healthz.errors', 0),
      sumCodes((r) => r.probes.load?.healthz.errors ?? {}),
    ],
  ];
  out.push(table(['operation', 'target /s', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'error codes'], opRows));
  out.push(
    `\nErrors of the load in all (expected 0): ${cell('errors.total', 0)}; WebSockets closed under the subscribers: ` +
      `${results.map((r) => r.load.wsClosedUnexpectedly).join(', ')}; INTERNAL_SERVER_ERROR counted by the gateway's ` +
      `/metrics over the run: ${cell('errors.serverInternal', 0)}; gateway log lines at warn / error: ` +
      `${results.map((r) => `${r.gateway.logs.warn} / ${r.gateway.logs.error}`).join(', ')}.`,
  );

  out.push(`\n### Generation under load${runsNote}\n`);
  out.push(
    table(
      [
        'jobs started',
        'succeeded',
        'not succeeded',
        'steps/s per job (median)',
        'steps/s, all jobs (server counter)',
        'queued ms p50',
        'run ms p50',
        'watched: mutation to end p50 / p99 ms',
      ],
      [
        [
          cell('gen.started', 0),
          cell('gen.succeeded', 0),
          cell('gen.notSucceeded', 0),
          cell('gen.stepsPerSPerJob', 0),
          cell('gen.serverStepsPerS', 1),
          cell('gen.queuedMsP50', 0),
          cell('gen.runMsP50', 0),
          `${cell('gen.completionMsP50', 0)} / ${cell('gen.completionMsP99', 0)}`,
        ],
      ],
    ),
  );

  out.push(`\n### Hostile queries (one every ${fmt(1 / options.hostileRate, 1)} s, rotating)${runsNote}\n`);
  const hostileRows = HOSTILE_KINDS.map((kind) => {
    const codes: Record<string, number> = {};
    let sent = 0;
    let refused = 0;
    for (const r of results) {
      for (const h of r.load.hostile.filter((x) => x.kind === kind)) {
        sent += 1;
        if (h.refused) refused += 1;
        const key = `${h.status} ${[...new Set(h.codes)].join('+')}${h.limits.length > 0 ? ` (${[...new Set(h.limits)].join(', ')})` : ''}`;
        codes[key] = (codes[key] ?? 0) + 1;
      }
    }
    const text = Object.entries(codes)
      .map(([code, n]) => `${code} x${n}`)
      .join('; ');
    return [kind, String(sent), String(refused), text === '' ? 'n/a' : text, cell(`hostile.${kind}.p99`, 1)];
  });
  hostileRows.push([
    '**all**',
    cell('hostile.sent', 0),
    cell('hostile.refused', 0),
    `unexpected: ${cell('hostile.unexpected', 0)}`,
    cell('hostile.p99', 1),
  ]);
  out.push(table(['kind', 'sent', 'refused', 'HTTP status, codes (limit) x count', 'p99 ms'], hostileRows));

  out.push(`\n### Gateway process${runsNote}\n`);
  const serverRows = (['idle', 'load', 'drain', 'after'] as const)
    .filter((phase) => values(`rss.${phase}.start`).length > 0)
    .map((phase) => [
      phase,
      cell(`rss.${phase}.start`, 0),
      cell(`rss.${phase}.max`, 0),
      cell(`rss.${phase}.end`, 0),
      cell(`heap.${phase}.end`, 0),
      cell(`cpu.${phase}.percent`, 0),
      cell(`lag.${phase}.p99median`, 1),
      cell(`lag.${phase}.max`, 1),
    ]);
  out.push(
    table(
      [
        'phase',
        'RSS start MiB',
        'RSS max MiB',
        'RSS end MiB',
        'JS heap used at end MiB',
        'CPU % (of one core)',
        'event-loop lag p99 ms (median of 1 s windows)',
        'event-loop lag max ms',
      ],
      serverRows,
    ),
  );
  const flat = values('rss.load.flat');
  out.push(
    `\nRSS over the second half of the load: ${cell('rss.load.secondHalfMiBPerMin', 1)} MiB/min fitted ` +
      `(${cell('rss.load.secondHalfGrowthMiB', 1)} MiB over the half-window; flat = under max(10 MiB, 2%)): ` +
      `${flat.every((x) => x === 1) ? '**flat**' : `**growing** in ${flat.filter((x) => x === 0).length} of ${flat.length} runs`}; ` +
      `JS heap ${cell('heap.load.secondHalfMiBPerMin', 1)} MiB/min.`,
  );
  return out.join('\n');
}

function resultsPath(): string {
  const explicit = flag('out');
  if (explicit !== undefined) return explicit;
  mkdirSync('bench/results', { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  let path = `bench/results/robustness-load-${date}.json`;
  for (let n = 2; existsSync(path); n += 1) path = `bench/results/robustness-load-${date}-${n}.json`;
  return path;
}

async function main(): Promise<void> {
  const options: Options = {
    seconds: flagNumber('seconds', 60),
    runs: flagNumber('runs', 3),
    idleSeconds: flagNumber('idle-seconds', 10),
    afterSeconds: flagNumber('after-seconds', 5),
    clients: flagNumber('clients', 4),
    recommendRate: flagNumber('recommend-rate', 20),
    rateItemRate: flagNumber('rate-item-rate', 10),
    generateRate: flagNumber('generate-rate', 2),
    hostileRate: flagNumber('hostile-rate', 1),
    probeRate: flagNumber('probe-rate', 20),
    subscribers: flagNumber('subscribers', 2),
    watchEvery: Math.max(1, flagNumber('watch-every', 2)),
  };
  const machine = machineLine();
  console.log(machine);
  console.log(`options: ${JSON.stringify(options)}`);
  const results: RunResult[] = [];
  for (let run = 1; run <= options.runs; run += 1) {
    const result = await runOnce(run, options);
    results.push(result);
    if (options.runs > 1) console.log(`\n#### run ${run}\n\n${report([result], options)}\n`);
  }
  const text = report(results, options);
  const machineAfter = machineLine();
  console.log(`\n${results[0]?.data ?? ''}\n\n${text}\n\n${machineAfter}`);
  for (const r of results) {
    const unexpected = r.load.hostile.filter((h) => !h.refused);
    if (unexpected.length > 0)
      console.log(
        `run ${r.run}: hostile queries not refused as expected:\n${unexpected.map((h) => `  ${h.kind}: ${h.detail}`).join('\n')}`,
      );
    for (const close of r.load.wsCloses)
      console.log(
        `run ${r.run}: a subscriber's WebSocket closed ${fmt(close.atS, 1)} s into the load: ${close.code} ${close.reason}`,
      );
    for (const job of r.load.jobs.filter((j) => j.subscriptionEnd !== undefined))
      console.log(`run ${r.run}: job ${job.id} (${job.status}): subscription ended: ${job.subscriptionEnd}`);
    if (r.gateway.logs.warn + r.gateway.logs.error > 0)
      console.log(
        `run ${r.run}: gateway log lines (first ${r.gateway.logs.samples.length}):\n${r.gateway.logs.samples.map((l) => `  ${l}`).join('\n')}`,
      );
  }
  const path = resultsPath();
  const medians: Record<string, number> = {};
  for (const key of Object.keys(results[0]?.figures ?? {}))
    medians[key] = spread(results.map((r) => r.figures[key] ?? Number.NaN).filter(Number.isFinite)).median;
  writeFileSync(
    path,
    `${JSON.stringify({ command: process.argv.slice(2), machine, machineAfter, cpus: cpus().length, options, medians, runs: results }, null, 1)}\n`,
  );
  console.log(`\nraw results: ${path}`);
}

if (flag('role') === 'load') {
  const send = (message: unknown, then?: () => void) =>
    process.send?.(message, undefined, {}, () => then?.());
  process.once('message', (message: { type: string; config: LoadConfig }) => {
    runLoad(message.config, send)
      .then((result) => send({ type: 'result', result }, () => process.exit(0)))
      .catch((error: unknown) =>
        send({ type: 'error', error: String((error as Error).stack ?? error) }, () => process.exit(1)),
      );
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
