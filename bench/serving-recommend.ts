/**
 * `recommend` (catalog only) over HTTP, against a trivial resolver (`{ __typename }`) on the same server in
 * the same run. The gateway runs as its own process (`node --import tsx src/main.ts serve`, what
 * `npm start` runs); the load comes from a third process (bench/serving-load.ts driving autocannon), so
 * neither the load generator nor this script shares an event loop with the server.
 *
 *   npx tsx bench/serving-recommend.ts --model ART [--database-url URL] [--port 4100] [--reps 3]
 *     [--duration 10] [--connections 8] [--sequential 200] [--first 20]
 *   npx tsx bench/serving-recommend.ts --model ART --profile DIR   # one --cpu-prof'd load run, summarised
 *   npx tsx bench/serving-recommend.ts --model ART --breakdown     # the request's stages, in this process
 *
 * Preparation (catalog, ratings, model): bench/README-serving.md.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
import { inArray } from 'drizzle-orm';
import { openDatabase } from '../src/db/client.js';
import { findItemsByExternalIds, getCatalogDim, loadCatalogRows } from '../src/db/queries/items.js';
import { listUserRatedItems } from '../src/db/queries/ratings.js';
import { findUsersByExternalIds } from '../src/db/queries/users.js';
import { items } from '../src/db/schema.js';
import { CatalogIndex, loadModel } from '../src/ml/index.js';

const RECOMMEND = `query($u: ID!, $n: Int!) { recommend(user: $u, first: $n) { fallback items { rank score source item { ... on Item { id } } } } }`;
const TRIVIAL = `{ __typename }`;

interface LoadSummary {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  durationS: number;
  rps: number;
  latency: { average: number; p50: number; p90: number; p99: number; max: number };
}

interface LoadRun extends LoadSummary {
  /** Server CPU time per request (user + system, ms). */
  serverCpuMsPerRequest: number;
}

interface Manifest {
  embeddingDim: number;
  preset?: string;
  verifier: { dim: number; users: string[] };
}

const modelDir = flag('model') ?? process.env.MODEL_DIR;
if (modelDir === undefined) {
  console.error('--model ART (or MODEL_DIR) is required: see bench/README-serving.md');
  process.exit(2);
}
const databaseUrl =
  flag('database-url') ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_serving';
const port = flagNumber('port', 4100);
const reps = flagNumber('reps', 3);
const duration = flagNumber('duration', 10);
const connections = flagNumber('connections', 8);
const sequential = flagNumber('sequential', 200);
const first = flagNumber('first', 20);
const profileDir = flag('profile');
const breakdown = process.argv.includes('--breakdown');

const manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')) as Manifest;
const users = flag('users')?.split(',') ?? manifest.verifier.users;
const recommendBodies = users.map((u) => JSON.stringify({ query: RECOMMEND, variables: { u, n: first } }));
const trivialBodies = [JSON.stringify({ query: TRIVIAL })];

/** One autocannon run from its own process. */
function load(server: ServerProcess, bodies: string[], expect: string, seconds: number): Promise<LoadRun> {
  const config = JSON.stringify({ url: server.url, connections, duration: seconds, bodies, expect });
  return new Promise((resolvePromise, reject) => {
    const cpuBefore = server.cpuMs();
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/serving-load.ts', config], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${String(code)}`));
      const summary = JSON.parse(out.trim().split('\n').pop() as string) as LoadSummary;
      const cpu = server.cpuMs() - cpuBefore;
      resolvePromise({ ...summary, serverCpuMsPerRequest: cpu / Math.max(1, summary.requests) });
    });
  });
}

async function post(url: string, body: string): Promise<string> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  if (res.status !== 200 || text.includes('"errors"')) throw new Error(`HTTP ${res.status}: ${text}`);
  return text;
}

/** One client, one request at a time, the two queries interleaved; sub-ms wall times. */
async function sequentialRun(server: ServerProcess, n: number) {
  const times = { trivial: [] as number[], recommend: [] as number[] };
  for (let i = 0; i < n; i += 1) {
    for (const kind of ['trivial', 'recommend'] as const) {
      const body =
        kind === 'trivial'
          ? (trivialBodies[0] as string)
          : (recommendBodies[i % recommendBodies.length] as string);
      const started = performance.now();
      await post(server.url, body);
      times[kind].push(performance.now() - started);
    }
  }
  return { times };
}

async function sanity(server: ServerProcess): Promise<{ items: number; catalog: number }> {
  type Answer = {
    recommend: { fallback: string | null; items: { source: string; item: { id?: string } }[] };
    items: { totalCount: number };
  };
  const answer = await graphql<Answer>(
    server.url,
    `
      query ($u: ID!, $n: Int!) {
        items(first: 1) {
          totalCount
        }
        recommend(user: $u, first: $n) {
          fallback
          items {
            source
            item {
              ... on Item {
                id
              }
            }
          }
        }
      }
    `,
    { u: users[0], n: first },
  );
  const list = answer.recommend;
  if (
    list.items.length !== first ||
    list.items.some((e) => e.source !== 'CATALOG' || e.item.id === undefined)
  ) {
    throw new Error(`unexpected recommend answer: ${JSON.stringify(list).slice(0, 300)}`);
  }
  if (list.fallback !== null) throw new Error(`recommend fell back (${list.fallback}): not personalised`);
  return { items: list.items.length, catalog: answer.items.totalCount };
}

function serverEnv(): Record<string, string | undefined> {
  return {
    MODEL_DIR: resolve(modelDir as string),
    DATABASE_URL: databaseUrl,
    DATA_DIR: undefined,
    DEMO_WORLD: '0',
    IMAGE_DECODER: 'none',
    REDIS_URL: undefined,
  };
}

async function profileRun(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  let window: { from: number; to: number } | undefined;
  const server = await startServer({
    port,
    env: serverEnv(),
    nodeFlags: ['--cpu-prof', '--cpu-prof-dir', resolve(dir)],
    label: 'gateway',
  });
  try {
    await sanity(server);
    await load(server, recommendBodies, '"items"', 3); // warm-up, inside the profile too
    const from = monotonicMicros();
    const run = await load(server, recommendBodies, '"items"', duration);
    window = { from, to: monotonicMicros() };
    console.log(
      `profiled load: ${run.requests} recommend requests in ${fmt(run.durationS, 0)} s, ` +
        `${fmt(run.rps, 1)} req/s, server CPU ${fmt(run.serverCpuMsPerRequest, 2)} ms/request\n`,
    );
  } finally {
    await server.stop();
  }
  const written = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile') && !before.has(name));
  if (written.length === 0) throw new Error('no .cpuprofile written');
  console.log('profile samples of the measured load run only (start-up and warm-up left out):\n');
  console.log(summariseProfile(join(dir, written[0] as string), window));
}

/**
 * The stages of one catalog-only `recommend`, called the way RecommendationService calls them, in this
 * process against the same database and model (no HTTP, no GraphQL): wall time and this process's CPU
 * time, median over the users. "items, lean columns" is the same lookup without the embedding column,
 * which `recommend { items { item { ... on Item { id } } } }` never reads.
 */
async function breakdownRun(): Promise<void> {
  const handle = await openDatabase({ url: databaseUrl, dataDir: null, maxConnections: 2 });
  const db = handle.db;
  try {
    const model = await loadModel(modelDir as string);
    const dim = (await getCatalogDim(db)) as number;
    const rows = await loadCatalogRows(db, dim);
    const index = await CatalogIndex.build(
      { ids: rows.ids, embeddings: rows.embeddings, dim },
      model.verifier,
    );
    const stages = [
      'user lookup',
      'rated items (listUserRatedItems)',
      'excluded rows (index.rowOf per rating)',
      `catalog topK (${index.size} x d ${index.rank})`,
      `items by id, all columns (findItemsByExternalIds)`,
      'items by id, lean columns (no embedding)',
    ];
    const wall = stages.map(() => [] as number[]);
    const cpu = stages.map(() => [] as number[]);
    let ratedCount = 0;
    async function stage<T>(i: number, fn: () => Promise<T> | T): Promise<T> {
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const result = await fn();
      wall[i]?.push(performance.now() - started);
      const used = process.cpuUsage(cpuBefore);
      cpu[i]?.push((used.user + used.system) / 1000);
      return result;
    }
    const sample = users.slice(0, 60);
    for (let pass = 0; pass < 2; pass += 1) {
      if (pass === 1) wall.forEach((w, i) => ((w.length = 0), ((cpu[i] as number[]).length = 0)));
      for (const u of sample) {
        const [user] = await stage(0, () => findUsersByExternalIds(db, [u]));
        if (user === undefined) throw new Error(`user ${u} is not in the database`);
        const rated = await stage(1, () => listUserRatedItems(db, user.id));
        ratedCount += rated.length;
        const excluded = await stage(2, () => {
          const set = new Set<number>();
          for (const r of rated) {
            const row = index.rowOf(r.itemExternalId);
            if (row !== undefined) set.add(row);
          }
          return set;
        });
        const vrow = model.verifier.userRow(u);
        if (vrow === undefined) throw new Error(`user ${u} has no verifier row`);
        const hits = await stage(3, () => index.topK(model.verifier.userFactors(vrow), first, excluded));
        const ids = hits.map((h) => h.id);
        await stage(4, () => findItemsByExternalIds(db, ids));
        await stage(5, () =>
          db
            .select({
              id: items.id,
              externalId: items.externalId,
              title: items.title,
              imageUrl: items.imageUrl,
            })
            .from(items)
            .where(inArray(items.externalId, ids)),
        );
      }
    }
    await model.dispose();
    console.log(
      `\n### Where a recommend's time goes (stages run in this process, ${sample.length} users, ` +
        `${fmt(ratedCount / (2 * sample.length), 0)} ratings per user on average; median ms (min–max))\n`,
    );
    console.log(
      table(
        ['stage', 'wall ms', 'CPU ms (this process)'],
        stages.map((name, i) => [
          name,
          fmtSpread(spread(wall[i] as number[]), 2),
          fmtSpread(spread(cpu[i] as number[]), 2),
        ]),
      ),
    );
  } finally {
    await handle.close();
  }
}

async function main(): Promise<void> {
  console.log(machineLine());
  console.log(
    `model: ${modelDir} (preset ${manifest.preset ?? '?'}, D = ${manifest.embeddingDim}, verifier d = ${manifest.verifier.dim}, ` +
      `${manifest.verifier.users.length} verifier users); users cycled: ${users.length}; first: ${first}`,
  );
  if (profileDir !== undefined) return profileRun(profileDir);
  if (breakdown) return breakdownRun();

  const server = await startServer({ port, env: serverEnv(), label: 'gateway' });
  try {
    const check = await sanity(server);
    console.log(
      `gateway ready in ${fmt(server.readyMs / 1000, 1)} s (model load + catalog projection); catalog: ` +
        `${check.catalog} items; recommend answers ${check.items} catalog items\n`,
    );

    // Warm-up: JIT, connection pools, the catalog scorer.
    await sequentialRun(server, 30);
    await load(server, trivialBodies, '__typename', 2);
    await load(server, recommendBodies, '"items"', 2);

    const seqMedian = { trivial: [] as number[], recommend: [] as number[] };
    const seqP99 = { trivial: [] as number[], recommend: [] as number[] };
    const loadRuns = { trivial: [] as LoadRun[], recommend: [] as LoadRun[] };
    for (let rep = 0; rep < reps; rep += 1) {
      const seq = await sequentialRun(server, sequential);
      for (const kind of ['trivial', 'recommend'] as const) {
        seqMedian[kind].push(percentile(seq.times[kind], 50));
        seqP99[kind].push(percentile(seq.times[kind], 99));
      }
      loadRuns.trivial.push(await load(server, trivialBodies, '__typename', duration));
      loadRuns.recommend.push(await load(server, recommendBodies, '"items"', duration));
      const t = loadRuns.trivial.at(-1) as LoadRun;
      const r = loadRuns.recommend.at(-1) as LoadRun;
      console.log(
        `rep ${rep + 1}/${reps}: sequential median ${fmt(seqMedian.trivial.at(-1) as number, 2)} / ` +
          `${fmt(seqMedian.recommend.at(-1) as number, 2)} ms; load ${fmt(t.rps, 0)} / ${fmt(r.rps, 0)} req/s ` +
          `(trivial / recommend)`,
      );
    }
    console.log('');

    const ratio = (a: number[], b: number[]) => spread(a.map((value, i) => value / (b[i] as number)));
    console.log(
      `### One client, sequential (${sequential} requests of each per rep, interleaved; ${reps} reps; ms)\n`,
    );
    console.log(
      table(
        ['query', 'median latency', 'p99 latency'],
        [
          ['`{ __typename }`', fmtSpread(spread(seqMedian.trivial), 2), fmtSpread(spread(seqP99.trivial), 2)],
          [
            `\`recommend(first: ${first})\``,
            fmtSpread(spread(seqMedian.recommend), 2),
            fmtSpread(spread(seqP99.recommend), 2),
          ],
          [
            'ratio recommend / trivial',
            fmtSpread(ratio(seqMedian.recommend, seqMedian.trivial), 1),
            fmtSpread(ratio(seqP99.recommend, seqP99.trivial), 1),
          ],
        ],
      ),
    );
    const col = (runs: LoadRun[], pick: (run: LoadRun) => number) => runs.map(pick);
    const row = (name: string, runs: LoadRun[]) => [
      name,
      fmtSpread(spread(col(runs, (r) => r.rps)), 0),
      fmtSpread(spread(col(runs, (r) => r.latency.p50)), 0),
      fmtSpread(spread(col(runs, (r) => r.latency.p99)), 0),
      fmtSpread(spread(col(runs, (r) => r.serverCpuMsPerRequest)), 2),
      String(runs.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts + r.mismatches, 0)),
    ];
    const rr = loadRuns.recommend;
    const tr = loadRuns.trivial;
    console.log(
      `\n### Under load: autocannon, ${connections} connections, ${duration} s per run, ${reps} runs each ` +
        `(median (min–max); autocannon's latency histogram has 1 ms resolution)\n`,
    );
    console.log(
      table(
        ['query', 'req/s', 'p50 ms', 'p99 ms', 'server CPU ms / request', 'failed'],
        [
          row('`{ __typename }`', tr),
          row(`\`recommend(first: ${first})\`, ${users.length} users cycled`, rr),
          [
            'ratio recommend / trivial',
            fmtSpread(
              ratio(
                col(tr, (r) => r.rps),
                col(rr, (r) => r.rps),
              ),
              1,
            ) + ' x fewer',
            fmtSpread(
              ratio(
                col(rr, (r) => r.latency.p50),
                col(tr, (r) => r.latency.p50),
              ),
              1,
            ),
            fmtSpread(
              ratio(
                col(rr, (r) => r.latency.p99),
                col(tr, (r) => r.latency.p99),
              ),
              1,
            ),
            fmtSpread(
              ratio(
                col(rr, (r) => r.serverCpuMsPerRequest),
                col(tr, (r) => r.serverCpuMsPerRequest),
              ),
              1,
            ),
            '',
          ],
        ],
      ),
    );
    console.log(`\n${machineLine()}`);
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
