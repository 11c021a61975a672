/**
 * From the `generate` mutation to the first progress event and to completion, as a client sees them:
 * the mutation over HTTP, then at once a `generationProgress` subscription over graphql-ws. The gateway
 * runs as its own process (`node --import tsx src/main.ts serve`); jobs run one after another.
 *
 *   npx tsx bench/serving-generate.ts [--jobs 7] [--count 10] [--steps 50] [--port 4101]
 *       default: models/demo on the demo world (a fresh embedded database the server fills at start);
 *       without a committed models/demo: tests/fixtures/tiny-model on tests/fixtures/tiny-dataset
 *   npx tsx bench/serving-generate.ts --model ART --database-url URL --user u-000
 *       another model on a prepared database (e.g. the 40,000-item catalog of bench/README-serving.md)
 *   add --profile DIR to run the server under --cpu-prof and summarise where its CPU time went
 *   add --probe to time `{ __typename }` round trips idle and while jobs run back to back (event-loop stalls)
 *
 * "First progress" is the first RUNNING event with step >= 1 (the first event is the stored state);
 * "completion" is SUCCEEDED.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  flag,
  flagNumber,
  fmt,
  fmtSpread,
  graphql,
  machineLine,
  percentile,
  type ServerProcess,
  spread,
  startServer,
  table,
} from './lib/serving-common.js';
import { monotonicMicros, summariseProfile } from './lib/serving-profile.js';

const GENERATE = `mutation($u: ID!, $c: Int!, $s: Int!) { generate(user: $u, count: $c, steps: $s, sampler: DDIM) { id } }`;
const PROGRESS = `subscription($j: ID!) { generationProgress(job: $j) { status step totalSteps } }`;

interface Manifest {
  embeddingDim: number;
  preset?: string;
  users: string[];
  schedule: { timesteps: number };
  architecture?: { dModel?: number; layers?: number; parameters?: number };
}

interface JobTiming {
  mutationMs: number;
  firstEventMs: number;
  firstProgressMs: number;
  firstProgressStep: number;
  completionMs: number;
  events: number;
  /** Status and step of the first event (the stored state when subscribing). */
  firstEvent: string;
}

const jobs = flagNumber('jobs', 7);
const count = flagNumber('count', 10);
const steps = flagNumber('steps', 50);
const port = flagNumber('port', 4101);
const profileDir = flag('profile');
const probe = process.argv.includes('--probe');

/** Which model and data: an explicit pair, the demo model + demo world, or the tiny fixtures. */
function setup(): {
  label: string;
  modelDir: string;
  env: Record<string, string | undefined>;
  user: string;
  cleanup: () => void;
} {
  const base = { IMAGE_DECODER: 'none', REDIS_URL: undefined };
  const explicitModel = flag('model');
  if (explicitModel !== undefined) {
    const manifest = readManifest(explicitModel);
    const databaseUrl = flag('database-url') ?? process.env.DATABASE_URL;
    return {
      label: `${explicitModel} on ${databaseUrl ?? `PGlite in ${flag('data-dir') ?? '?'}`}`,
      modelDir: explicitModel,
      env: {
        ...base,
        MODEL_DIR: resolve(explicitModel),
        DATABASE_URL: databaseUrl,
        DATA_DIR: databaseUrl === undefined ? flag('data-dir') : undefined,
        DEMO_WORLD: '0',
      },
      user: flag('user') ?? (manifest.users[0] as string),
      cleanup: () => undefined,
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'serving-generate-'));
  const cleanup = () => rmSync(dataDir, { recursive: true, force: true });
  if (existsSync('models/demo/manifest.json')) {
    // An empty embedded database: the server imports the demo world itself and serves models/demo.
    return {
      label: 'models/demo on the demo world (embedded PGlite, imported by the server at start)',
      modelDir: 'models/demo',
      env: { ...base, MODEL_DIR: undefined, DATABASE_URL: undefined, DATA_DIR: dataDir, DEMO_WORLD: '1' },
      user: flag('user') ?? 'u-000',
      cleanup,
    };
  }
  // Fallback: the tiny fixture model on its own dataset (the demo world's users are not in it).
  const modelDir = 'tests/fixtures/tiny-model';
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  execFileSync(
    process.execPath,
    ['--import', 'tsx', 'src/main.ts', 'import', '--dir', 'tests/fixtures/tiny-dataset'],
    { env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return {
    label: 'FALLBACK tests/fixtures/tiny-model on tests/fixtures/tiny-dataset (models/demo is not committed)',
    modelDir,
    env: {
      ...base,
      MODEL_DIR: resolve(modelDir),
      DATABASE_URL: undefined,
      DATA_DIR: dataDir,
      DEMO_WORLD: '0',
    },
    user: flag('user') ?? (readManifest(modelDir).users[0] as string),
    cleanup,
  };
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

async function runJob(server: ServerProcess, client: ReturnType<typeof createClient>, user: string) {
  const started = performance.now();
  const { generate } = await graphql<{ generate: { id: string } }>(server.url, GENERATE, {
    u: user,
    c: count,
    s: steps,
  });
  const mutationMs = performance.now() - started;
  const timing: JobTiming = {
    mutationMs,
    firstEventMs: Number.NaN,
    firstProgressMs: Number.NaN,
    firstProgressStep: 0,
    completionMs: Number.NaN,
    events: 0,
    firstEvent: '',
  };
  const events = client.iterate<{ generationProgress: { status: string; step: number; totalSteps: number } }>(
    {
      query: PROGRESS,
      variables: { j: generate.id },
    },
  );
  for await (const result of events) {
    const at = performance.now() - started;
    if (result.errors !== undefined) throw new Error(`subscription error: ${JSON.stringify(result.errors)}`);
    const event = result.data?.generationProgress;
    if (event === undefined) continue;
    timing.events += 1;
    if (timing.events === 1) {
      timing.firstEventMs = at;
      timing.firstEvent = `${event.status} ${event.step}`;
    }
    if (event.status === 'RUNNING' && event.step >= 1 && Number.isNaN(timing.firstProgressMs)) {
      timing.firstProgressMs = at;
      timing.firstProgressStep = event.step;
    }
    if (event.status === 'SUCCEEDED') {
      timing.completionMs = at;
      break;
    }
    if (event.status === 'FAILED' || event.status === 'CANCELLED') throw new Error(`job ${event.status}`);
  }
  return timing;
}

/** Sequential `{ __typename }` round trips for `ms`, from this process. */
async function pingFor(server: ServerProcess, ms: number): Promise<number[]> {
  const times: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const started = performance.now();
    await graphql(server.url, '{ __typename }');
    times.push(performance.now() - started);
  }
  return times;
}

/** How long a trivial query waits while generation jobs run (the sampler shares the event loop). */
async function probeWhileGenerating(
  server: ServerProcess,
  client: ReturnType<typeof createClient>,
  user: string,
): Promise<string> {
  const seconds = flagNumber('probe-seconds', 6);
  await pingFor(server, 1000);
  const idle = await pingFor(server, seconds * 1000);
  let running = true;
  const generating = (async () => {
    while (running) await runJob(server, client, user);
  })();
  await new Promise((resolvePromise) => setTimeout(resolvePromise, 300));
  const busy = await pingFor(server, seconds * 1000);
  running = false;
  await generating;
  const row = (name: string, t: number[]) => [
    name,
    String(t.length),
    fmt(percentile(t, 50), 2),
    fmt(percentile(t, 90), 2),
    fmt(percentile(t, 99), 2),
    fmt(Math.max(...t), 1),
  ];
  return (
    `### \`{ __typename }\` round trips, one client, ${seconds} s each (ms)\n\n` +
    table(
      ['gateway', 'requests', 'p50', 'p90', 'p99', 'max'],
      [row('idle', idle), row(`running generate(count: ${count}, steps: ${steps}) jobs back to back`, busy)],
    )
  );
}

async function main(): Promise<void> {
  console.log(machineLine());
  const chosen = setup();
  const manifest = readManifest(chosen.modelDir);
  const arch = manifest.architecture ?? {};
  console.log(
    `model: ${chosen.label}\n  preset ${manifest.preset ?? '?'}, D = ${manifest.embeddingDim}, ` +
      `T = ${manifest.schedule.timesteps}, d_model = ${String(arch.dModel)}, layers = ${String(arch.layers)}, ` +
      `${String(arch.parameters)} parameters; user ${chosen.user}; ${count} embeddings, DDIM ${steps} steps, ` +
      `${jobs} jobs one after another (+1 warm-up)`,
  );
  let before = new Set<string>();
  if (profileDir !== undefined) {
    mkdirSync(profileDir, { recursive: true });
    before = new Set(readdirSync(profileDir));
  }
  const server = await startServer({
    port,
    env: chosen.env,
    label: 'gateway',
    ...(profileDir === undefined ? {} : { nodeFlags: ['--cpu-prof', '--cpu-prof-dir', resolve(profileDir)] }),
  });
  const client = createClient({
    url: `ws://127.0.0.1:${port}/graphql`,
    webSocketImpl: WebSocket,
    lazy: false,
  });
  const timings: JobTiming[] = [];
  let window: { from: number; to: number } | undefined;
  let probeResult = '';
  try {
    const { items } = await graphql<{ items: { totalCount: number } }>(
      server.url,
      '{ items(first: 1) { totalCount } }',
    );
    console.log(`gateway ready in ${fmt(server.readyMs / 1000, 1)} s; catalog: ${items.totalCount} items\n`);
    await runJob(server, client, chosen.user); // warm-up
    const from = monotonicMicros();
    for (let j = 0; j < jobs; j += 1) timings.push(await runJob(server, client, chosen.user));
    window = { from, to: monotonicMicros() };
    if (probe) probeResult = await probeWhileGenerating(server, client, chosen.user);
  } finally {
    await client.dispose();
    await server.stop();
    chosen.cleanup();
  }

  const perStep = (t: JobTiming) =>
    (t.completionMs - t.firstProgressMs) / Math.max(1, steps - t.firstProgressStep);
  const rows = timings.map((t, j) => [
    String(j + 1),
    fmt(t.mutationMs, 1),
    fmt(t.firstEventMs, 1),
    fmt(t.firstProgressMs, 1),
    fmt(t.completionMs, 1),
    fmt(perStep(t), 2),
    `${t.events} (first: ${t.firstEvent})`,
  ]);
  const pick = (f: (t: JobTiming) => number) => spread(timings.map(f));
  rows.push([
    '**median (min–max)**',
    fmtSpread(pick((t) => t.mutationMs)),
    fmtSpread(pick((t) => t.firstEventMs)),
    fmtSpread(pick((t) => t.firstProgressMs)),
    fmtSpread(pick((t) => t.completionMs)),
    fmtSpread(pick(perStep), 2),
    '',
  ]);
  console.log(
    `### generate(count: ${count}, steps: ${steps}, sampler: DDIM): ms from sending the mutation\n\n` +
      table(
        [
          'job',
          'mutation answered',
          'first event (stored state)',
          'first progress (RUNNING, step >= 1)',
          'completion (SUCCEEDED)',
          'ms / step after first progress',
          'events received',
        ],
        rows,
      ),
  );
  if (probeResult !== '') console.log(`\n${probeResult}`);
  console.log(`\n${machineLine()}`);
  if (profileDir !== undefined) {
    const written = readdirSync(profileDir).filter((n) => n.endsWith('.cpuprofile') && !before.has(n));
    if (written.length === 0) throw new Error('no .cpuprofile written');
    console.log('\nprofile samples of the measured jobs only (start-up and warm-up left out):\n');
    console.log(summariseProfile(join(profileDir, written[0] as string), window));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
