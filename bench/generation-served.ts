/**
 * Generation quality as served: a taste world imported into the gateway (PGlite in memory), a model
 * artifact served from MODEL_DIR on a real HTTP port, and every request a GraphQL operation over HTTP:
 * `generate` with the model's defaults for every user, `generationJob` until it ends, `recommend` with and
 * without generated items. Every item is judged by the world's oracle (truth.json). The Python benchmark
 * (bench/generation_quality.py) measures the same on the training side; this one measures what the
 * gateway's sampler, selection, range checks and blend put in front of users.
 *
 *   npx tsx bench/generation-served.ts --world WORLD_DIR --model ARTIFACT_DIR [--count 8] [--first 10]
 *       [--margins 0,1,2] [--drift PAIRS] [--few 5,10,20]
 *
 * Users are grouped as the model saw them: trained with the prior, below its min-likes rule (in the
 * verifier's data, not the prior's), held out of training (not in the data at all: vectors fitted now).
 * `--drift N`: N new users start with 20 ratings of held-out user A, generate, rate 10 items as held-out
 * user B did, generate again. `--few`: new users with only the first n ratings of each held-out user.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/client.js';
import { createLogger } from '../src/lib/logger.js';
import { permutationTest } from '../src/ml/index.js';
import { buildGatewaySchema } from '../src/resolvers/schema.js';
import { startGateway } from '../src/server/gateway.js';
import { importItems } from '../src/services/ingestion/import-items.js';
import { importRatings } from '../src/services/ingestion/import-ratings.js';
import { startServices } from '../src/services/index.js';
import { GENERATED_LOGIT_MARGIN } from '../src/services/recommendation.service.js';
import { likeProbability, loadWorld, readWorldRatings } from '../src/world/index.js';

const { values } = parseArgs({
  options: {
    world: { type: 'string' },
    model: { type: 'string' },
    count: { type: 'string', default: '8' },
    first: { type: 'string', default: '10' },
    margins: { type: 'string', default: '2' },
    drift: { type: 'string', default: '0' },
    few: { type: 'string', default: '' },
  },
});
if (values.world === undefined || values.model === undefined)
  throw new Error('--world and --model are required');
const count = Number(values.count);
const first = Number(values.first);
const world = await loadWorld(values.world);
const worldRatings = await readWorldRatings(values.world);

const database = await openDatabase({ dataDir: null });
await database.migrate();
await importItems(database.db, {
  itemsPath: join(values.world, 'items.csv'),
  embeddingsPath: join(values.world, 'embeddings.npy'),
});
await importRatings(database.db, { ratingsPath: join(values.world, 'ratings.csv') });
const logger = createLogger('error');
const services = await startServices({
  db: database.db,
  logger,
  config: {
    MODEL_DIR: values.model,
    ORT_EXECUTION_PROVIDER: 'cpu',
    REDIS_URL: undefined,
    IMAGE_DECODER: { kind: 'none' },
    GENERATION_CONCURRENCY: 64,
    BATCH_MAX_ROWS: 4096,
    BATCH_MAX_DELAY_MS: 5,
  },
  demoFallback: false,
});
const gateway = await startGateway({
  schema: await buildGatewaySchema(),
  services,
  database,
  logger,
  port: 0,
  host: '127.0.0.1',
});

interface GraphQLAnswer<T> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}
async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLAnswer<T>> {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLAnswer<T>;
}
async function must<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const answer = await gql<T>(query, variables);
  if (answer.errors || answer.data === undefined) throw new Error(JSON.stringify(answer.errors));
  return answer.data;
}

/** Starts a job with the model's defaults: its id, or the refusal's message. */
async function generate(user: string, seed: number): Promise<{ id: string } | { refused: string }> {
  const answer = await gql<{ generate: { id: string } }>(
    'mutation($user: ID!, $count: Int, $seed: Int) { generate(user: $user, count: $count, seed: $seed) { id } }',
    { user, count, seed },
  );
  if (answer.errors) return { refused: answer.errors[0]?.message ?? 'refused' };
  return { id: answer.data?.generate.id as string };
}
/** Waits for a job to end; its items' embeddings (none unless it succeeded). */
async function itemsOf(job: string): Promise<{ status: string; items: Float32Array[] }> {
  for (;;) {
    const { generationJob } = await must<{
      generationJob: { status: string; items: { embedding: number[] }[] };
    }>('query($id: ID!) { generationJob(id: $id) { status items { embedding } } }', { id: job });
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(generationJob.status)) {
      return {
        status: generationJob.status,
        items: generationJob.items.map((i) => Float32Array.from(i.embedding)),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
async function rate(user: string, item: string, score: number): Promise<void> {
  await must('mutation($u: ID!, $i: ID!, $s: Int!) { rateItem(user: $u, item: $i, score: $s) { score } }', {
    u: user,
    i: item,
    s: score,
  });
}

const active = await services.runtime.active();
if (active?.index == null)
  throw new Error(`no model serving the catalog: ${services.runtime.notReadyReason}`);
const catalog = active.index;
const trained = new Set(active.model.manifest.users);
const inVerifier = new Set(active.model.manifest.verifier.users);
const users = world.users.map((user) => user.id);
const groupOf = (user: string) =>
  trained.has(user)
    ? 'trained with the prior'
    : inVerifier.has(user)
      ? 'below the min-likes rule'
      : 'held out of training';
const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const fixed = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const catalogEmbedding = (id: string): Float32Array | undefined => {
  const row = catalog.rowOf(id);
  const D = catalog.catalog.dim;
  return row === undefined ? undefined : catalog.catalog.embeddings.subarray(row * D, (row + 1) * D);
};

// Every user at once: their steps share batched runs.
const started = performance.now();
const jobs = new Map<string, string>();
const refused = new Map<string, string>();
await Promise.all(
  users.map(async (user, u) => {
    const started = await generate(user, 1000 + u);
    if ('id' in started) jobs.set(user, started.id);
    else refused.set(user, started.refused);
  }),
);
const results = new Map<string, { status: string; items: Float32Array[] }>();
await Promise.all([...jobs].map(async ([user, job]) => results.set(user, await itemsOf(job))));
const seconds = (performance.now() - started) / 1000;

console.log(
  `${values.model} on ${values.world}: ${users.length} users, ${count} items each, ` +
    `generated in ${seconds.toFixed(1)} s (GraphQL over HTTP); refused ${refused.size}`,
);
for (const name of new Set(users.map(groupOf))) {
  const refusedHere = users.filter((user) => groupOf(user) === name && refused.has(user));
  if (refusedHere.length > 0)
    console.log(`${name}: ${refusedHere.length} refused (${refused.get(refusedHere[0] as string)})`);
}
const margins = values.margins.split(',').map(Number);
console.log(
  `| users | n | failed jobs | own like-rate | others | z (oracle) | catalog top 10 | ${margins
    .map((m) => `blended top 10 (margin ${m}) / generated in it`)
    .join(' | ')} |`,
);
console.log(`|---|---|---|---|---|---|---|${margins.map(() => '---').join('|')}|`);
interface RecommendAnswer {
  recommend: {
    items: { source: 'CATALOG' | 'GENERATED'; item: { id: string; embedding?: number[] } }[];
  };
}
for (const name of ['trained with the prior', 'below the min-likes rule', 'held out of training']) {
  const group = users.filter((user) => groupOf(user) === name && jobs.has(user));
  if (group.length < 2) continue;
  const samples: { owner: number; embedding: Float32Array }[] = [];
  let failed = 0;
  group.forEach((user, u) => {
    const result = results.get(user);
    if (result?.status !== 'SUCCEEDED') failed += 1;
    for (const embedding of result?.items ?? []) samples.push({ owner: u, embedding });
  });
  const U = group.length;
  const scores = new Float64Array(samples.length * U);
  samples.forEach((sample, s) =>
    group.forEach((user, v) => (scores[s * U + v] = likeProbability(world, user, sample.embedding))),
  );
  const test = permutationTest(scores, Int32Array.from(samples.map((s) => s.owner)), U, 500, 1);
  // The answers as clients get them, over GraphQL; margins other than the gateway's (not part of the
  // public API) through the service the resolver calls.
  const judge = async (user: string, includeGenerated: boolean, margin = GENERATED_LOGIT_MARGIN) => {
    let entries: { generated: boolean; embedding: Float32Array | undefined }[];
    if (margin === GENERATED_LOGIT_MARGIN) {
      const answer = await must<RecommendAnswer>(
        'query($u: ID!, $g: Boolean, $f: Int) { recommend(user: $u, includeGenerated: $g, first: $f) { ' +
          'items { source item { ... on Item { id } ... on GeneratedItem { embedding } } } } }',
        { u: user, g: includeGenerated, f: first },
      );
      entries = answer.recommend.items.map((entry) =>
        entry.source === 'GENERATED'
          ? { generated: true, embedding: Float32Array.from(entry.item.embedding ?? []) }
          : { generated: false, embedding: catalogEmbedding(entry.item.id) },
      );
    } else {
      const answer = await services.recommendation.recommend(user, {
        includeGenerated,
        first,
        generatedMargin: margin,
      });
      entries = answer.entries.map((entry) =>
        entry.source === 'generated'
          ? { generated: true, embedding: Float32Array.from(entry.generated.embedding) }
          : { generated: false, embedding: catalogEmbedding(entry.item.externalId) },
      );
    }
    return {
      like: mean(entries.map((e) => (e.embedding ? likeProbability(world, user, e.embedding) : Number.NaN))),
      generated: entries.filter((e) => e.generated).length,
    };
  };
  const catalogTop: number[] = [];
  const blendedTop = margins.map((): number[] => []);
  const inTop = margins.map((): number[] => []);
  for (const user of group) {
    catalogTop.push((await judge(user, false)).like);
    for (const [m, margin] of margins.entries()) {
      const blended = await judge(user, true, margin);
      blendedTop[m]?.push(blended.like);
      inTop[m]?.push(blended.generated);
    }
  }
  console.log(
    `| ${name} | ${U} | ${failed} | ${fixed(test.ownMean)} | ${fixed(test.othersMean)} | ${fixed(test.z, 1)} | ` +
      `${fixed(mean(catalogTop))} | ${margins
        .map((_, m) => `${fixed(mean(blendedTop[m] ?? []))} / ${fixed(mean(inTop[m] ?? []), 1)}`)
        .join(' | ')} |`,
  );
}

const heldOut = users.filter((user) => groupOf(user) === 'held out of training');
const ratingsOf = (user: string) => worldRatings.filter((r) => r.userId === user);
const likedBy = (user: string, items: Float32Array[]) =>
  mean(items.map((e) => likeProbability(world, user, e)));
async function newUser(id: string, ratings: { itemId: string; score: number }[]): Promise<void> {
  await must('mutation($id: ID!) { createUser(id: $id) { id } }', { id });
  for (const rating of ratings) await rate(id, rating.itemId, rating.score);
}
async function generateNow(user: string, seed: number): Promise<Float32Array[]> {
  const job = await generate(user, seed);
  if (!('id' in job)) throw new Error(job.refused);
  return (await itemsOf(job.id)).items;
}

// Does a user's next generation follow new ratings?
const pairs = Math.min(Number(values.drift), heldOut.length - 1);
if (pairs > 0 && active.model.conditioning.kind === 'taste') {
  const rows: { beforeA: number; afterA: number; beforeB: number; afterB: number }[] = [];
  for (let i = 0; i < pairs; i += 1) {
    const a = heldOut[i] as string;
    const b = heldOut[i + 1] as string;
    const fromA = ratingsOf(a).slice(0, 20);
    const fromB = ratingsOf(b)
      .filter((r) => !fromA.some((x) => x.itemId === r.itemId))
      .slice(0, 10);
    await newUser(`drift-${i}`, fromA);
    const before = await generateNow(`drift-${i}`, 77 + i);
    for (const rating of fromB) await rate(`drift-${i}`, rating.itemId, rating.score);
    const after = await generateNow(`drift-${i}`, 77 + i);
    rows.push({
      beforeA: likedBy(a, before),
      afterA: likedBy(a, after),
      beforeB: likedBy(b, before),
      afterB: likedBy(b, after),
    });
  }
  console.log(
    `\n${rows.length} new users with 20 ratings of user A, then 10 more as user B rated them (A, B held out of ` +
      `training): oracle like-rate of their generated items for A ${fixed(mean(rows.map((r) => r.beforeA)))} -> ` +
      `${fixed(mean(rows.map((r) => r.afterA)))}, for B ${fixed(mean(rows.map((r) => r.beforeB)))} -> ` +
      `${fixed(mean(rows.map((r) => r.afterB)))} (B rose for ${rows.filter((r) => r.afterB > r.beforeB).length} of ${rows.length})`,
  );
}

// How many ratings make a useful taste vector?
if (values.few !== '' && active.model.conditioning.kind === 'taste' && heldOut.length > 1) {
  const line: string[] = [];
  for (const n of values.few.split(',').map(Number)) {
    const own: number[] = [];
    const others: number[] = [];
    for (const [i, source] of heldOut.entries()) {
      await newUser(`few-${n}-${i}`, ratingsOf(source).slice(0, n));
      const items = await generateNow(`few-${n}-${i}`, 500 + i);
      own.push(likedBy(source, items));
      others.push(likedBy(heldOut[(i + 1) % heldOut.length] as string, items));
    }
    line.push(`${n} ratings: ${fixed(mean(own))} (another held-out user: ${fixed(mean(others))})`);
  }
  console.log(
    `\nnew users with the first n ratings of a held-out user, oracle like-rate for that user: ${line.join('; ')}`,
  );
}
await gateway.stop();
await services.close();
await database.close();
