/**
 * Generation quality as served: a taste world imported into the gateway (PGlite in memory), a model
 * artifact served from MODEL_DIR, `generate` with the model's defaults for every user, then `recommend`
 * with and without generated items; every item judged by the world's oracle (truth.json). The Python
 * benchmark (bench/generation_quality.py) measures the same on the training side; this one measures what
 * the gateway's sampler, selection, range checks and blend actually put in front of users.
 *
 *   npx tsx bench/generation-served.ts --world WORLD_DIR --model ARTIFACT_DIR [--count 8] [--first 10]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/client.js';
import { createLogger } from '../src/lib/logger.js';
import { permutationTest } from '../src/ml/index.js';
import { findJob, listJobItems } from '../src/db/queries/jobs.js';
import { importItems } from '../src/services/ingestion/import-items.js';
import { importRatings } from '../src/services/ingestion/import-ratings.js';
import { startServices } from '../src/services/index.js';
import { likeProbability, loadWorld } from '../src/world/index.js';

const { values } = parseArgs({
  options: {
    world: { type: 'string' },
    model: { type: 'string' },
    count: { type: 'string', default: '8' },
    first: { type: 'string', default: '10' },
    margins: { type: 'string', default: '0,1,2' },
  },
});
if (values.world === undefined || values.model === undefined)
  throw new Error('--world and --model are required');
const count = Number(values.count);
const first = Number(values.first);
const world = await loadWorld(values.world);

const database = await openDatabase({ dataDir: null });
await database.migrate();
await importItems(database.db, {
  itemsPath: join(values.world, 'items.csv'),
  embeddingsPath: join(values.world, 'embeddings.npy'),
});
await importRatings(database.db, { ratingsPath: join(values.world, 'ratings.csv') });
const services = await startServices({
  db: database.db,
  logger: createLogger('error'),
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
const active = await services.runtime.active();
if (active === null) throw new Error(`no model: ${services.runtime.notReadyReason}`);
if (active.index === null) throw new Error('the catalog and the model disagree');
const catalog = active.index;
const trained = new Set(active.model.manifest.users);
const users = world.users.map((user) => user.id);

// Every user at once: their steps share batched runs.
const started = performance.now();
const jobs = new Map<string, string>();
const refused = new Map<string, string>();
await Promise.all(
  users.map(async (user, u) => {
    try {
      jobs.set(
        user,
        (await services.generation.generate({ user, count, sampler: 'ddim', seed: 1000 + u })).id,
      );
    } catch (error) {
      refused.set(user, (error as Error).message);
    }
  }),
);
for (;;) {
  const states = await Promise.all([...jobs.values()].map((id) => findJob(database.db, id)));
  if (states.every((job) => job !== undefined && ['succeeded', 'failed', 'cancelled'].includes(job.status)))
    break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}
const seconds = (performance.now() - started) / 1000;

interface Group {
  name: string;
  users: string[];
}
const groups: Group[] = [
  { name: 'trained with the prior', users: users.filter((user) => trained.has(user) && jobs.has(user)) },
  { name: 'below the min-likes rule', users: users.filter((user) => !trained.has(user) && jobs.has(user)) },
];
const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const fixed = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

console.log(
  `${values.model} on ${values.world}: ${users.length} users, ${count} items each, ` +
    `generated in ${seconds.toFixed(1)} s; refused ${refused.size}`,
);
const margins = values.margins.split(',').map(Number);
console.log(
  `| users | n | failed jobs | own like-rate | others | z (oracle) | catalog top 10 | ${margins
    .map((m) => `blended top 10 (margin ${m}) / generated in it`)
    .join(' | ')} |`,
);
console.log(`|---|---|---|---|---|---|---|${margins.map(() => '---').join('|')}|`);
for (const group of groups) {
  if (group.users.length < 2) continue;
  const samples: { owner: number; embedding: Float32Array }[] = [];
  let failed = 0;
  for (const [u, user] of group.users.entries()) {
    const job = await findJob(database.db, jobs.get(user) as string);
    if (job?.status !== 'succeeded') failed += 1;
    for (const item of await listJobItems(database.db, [jobs.get(user) as string]))
      samples.push({ owner: u, embedding: Float32Array.from(item.embedding) });
  }
  const U = group.users.length;
  const scores = new Float64Array(samples.length * U);
  samples.forEach((sample, s) =>
    group.users.forEach((user, v) => (scores[s * U + v] = likeProbability(world, user, sample.embedding))),
  );
  const test = permutationTest(scores, Int32Array.from(samples.map((s) => s.owner)), U, 500, 1);
  const catalogTop: number[] = [];
  const blendedTop = margins.map((): number[] => []);
  const inTop = margins.map((): number[] => []);
  for (const user of group.users) {
    const judge = async (includeGenerated: boolean, generatedMargin?: number) => {
      const answer = await services.recommendation.recommend(user, {
        includeGenerated,
        first,
        generatedMargin,
      });
      const likes = await Promise.all(
        answer.entries.map(async (entry) => {
          if (entry.source === 'generated')
            return likeProbability(world, user, Float32Array.from(entry.generated.embedding));
          const row = catalog.rowOf(entry.item.externalId);
          if (row === undefined) return Number.NaN;
          const D = catalog.catalog.dim;
          return likeProbability(world, user, catalog.catalog.embeddings.subarray(row * D, (row + 1) * D));
        }),
      );
      return { like: mean(likes), generated: answer.entries.filter((e) => e.source === 'generated').length };
    };
    catalogTop.push((await judge(false)).like);
    for (const [m, margin] of margins.entries()) {
      const blended = await judge(true, margin);
      blendedTop[m]?.push(blended.like);
      inTop[m]?.push(blended.generated);
    }
  }
  console.log(
    `| ${group.name} | ${U} | ${failed} | ${fixed(test.ownMean)} | ${fixed(test.othersMean)} | ${fixed(test.z, 1)} | ` +
      `${fixed(mean(catalogTop))} | ${margins
        .map((_, m) => `${fixed(mean(blendedTop[m] ?? []))} / ${fixed(mean(inTop[m] ?? []), 1)}`)
        .join(' | ')} |`,
  );
}
await services.close();
await database.close();
