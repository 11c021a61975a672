import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { generatedItems } from '../../src/db/schema.js';
import { tempDir } from '../helpers/files.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { collect, wsClient } from '../helpers/subscriptions.js';
import { importTinyDataset, TINY_MODEL_DIR } from '../helpers/tiny-world.js';
import {
  CreateUserDocument,
  GenerateDocument,
  GetGenerationJobDocument,
  RateItemDocument,
  RecommendDocument,
  UserGenerationDocument,
  WatchGenerationDocument,
  type WatchGenerationSubscription,
} from '../graphql/generated/graphql.js';

const finished = (event: WatchGenerationSubscription) =>
  ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(event.generationProgress.status);

/**
 * A model that samples far off the data (here: the tiny prior's clean-sample outputs read as noise, no
 * recorded range to clamp into, an absurd guidance scale; what an untrained or rank-deficient prior does)
 * must not put a single such item into any answer.
 */
describe('a prior that samples off the data', () => {
  let database: DatabaseHandle;
  let gateway: TestGateway;
  let client: Client;
  let dir: { path: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    dir = await tempDir();
    const broken = join(dir.path, 'broken-model');
    await cp(TINY_MODEL_DIR, broken, { recursive: true });
    const manifest = JSON.parse(await readFile(join(broken, 'manifest.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    delete manifest.dataRange;
    (manifest.schedule as Record<string, unknown>).predictionType = 'epsilon';
    (manifest.guidance as Record<string, unknown>).defaultScale = 30;
    await writeFile(join(broken, 'manifest.json'), JSON.stringify(manifest));
    database = await openDatabase({ dataDir: null });
    await database.migrate();
    await importTinyDataset(database);
    gateway = await startTestGateway(database, { MODEL_DIR: broken });
    client = wsClient(gateway.wsUrl);
  });
  afterAll(async () => {
    await client?.dispose();
    await gateway?.stop();
    await database?.close();
    await dir?.cleanup();
  });

  it('fails the job with SAMPLING_FAILED and stores nothing', async () => {
    const job = (await gateway.data(GenerateDocument, { user: 'u02', count: 4, steps: 20, seed: 1 }))
      .generate;
    const events = await collect(client, WatchGenerationDocument, { job: job.id }, { until: finished });
    expect(events.at(-1)?.generationProgress).toMatchObject({
      status: 'FAILED',
      errorCode: 'SAMPLING_FAILED',
    });
    const stored = (await gateway.data(GetGenerationJobDocument, { id: job.id })).generationJob;
    expect(stored).toMatchObject({ status: 'FAILED', errorCode: 'SAMPLING_FAILED', items: [] });
  });

  it('never ranks a stored item outside the catalog range', async () => {
    // An item stored earlier (say, before the catalog changed) that lies far outside today's range.
    const version = (await gateway.services.runtime.active())?.version;
    const user = await gateway.services.users.requireUser('u03');
    const job = (await gateway.data(GenerateDocument, { user: 'u03', count: 1, steps: 5, seed: 2 })).generate;
    await collect(client, WatchGenerationDocument, { job: job.id }, { until: finished });
    await database.db.insert(generatedItems).values({
      jobId: job.id,
      userId: user.id,
      modelVersionId: version?.id as number,
      position: 7,
      embedding: sql`${`{${Array.from({ length: 16 }, () => 1e4).join(',')}}`}::real[]`,
      verifierScore: 1,
    });
    const answer = (
      await gateway.data(RecommendDocument, {
        user: 'u03',
        includeGenerated: true,
        first: 10,
        generatedShare: 1,
      })
    ).recommend;
    expect(answer.items).toHaveLength(10);
    expect(answer.items.every((entry) => entry.source === 'CATALOG')).toBe(true);
  });
});

/** The paper's table-conditioned prior generates only for the users it was trained with, and says why not. */
describe('a table-conditioned prior', () => {
  let database: DatabaseHandle;
  let gateway: TestGateway;

  beforeAll(async () => {
    database = await openDatabase({ dataDir: null });
    await database.migrate();
    await importTinyDataset(database);
    gateway = await startTestGateway(database, { MODEL_DIR: join(TINY_MODEL_DIR, '..', 'tiny-table-model') });
  });
  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it('refuses a user its min-likes rule dropped, with the counts, and a user who came later', async () => {
    const dropped = await gateway.request(GenerateDocument, { user: 'u13' });
    expect(dropped.errors?.[0]?.extensions).toMatchObject({
      code: 'USER_NOT_IN_MODEL',
      reason: 'BELOW_MIN_LIKES',
      trainAgainHelps: false,
      likesNeeded: 4,
    });
    expect(dropped.errors?.[0]?.message).toMatch(
      /min-likes rule of 5 \(1 likes at training\); they have 1 likes now: 4 more, then train again/,
    );
    await gateway.data(CreateUserDocument, { id: 'later' });
    for (const item of ['img0001', 'img0002', 'img0003', 'img0004', 'img0005'])
      await gateway.data(RateItemDocument, { user: 'later', item, score: 5 });
    const later = (await gateway.data(UserGenerationDocument, { id: 'later' })).user?.generation;
    expect(later).toMatchObject({
      available: false,
      reason: 'NOT_IN_TRAINING_DATA',
      trainAgainHelps: true,
      likesNeeded: 0,
    });
    expect(later?.message).toMatch(/train again to include them/);
    const trained = (await gateway.data(UserGenerationDocument, { id: 'u02' })).user?.generation;
    expect(trained).toMatchObject({ available: true, reason: null });
    const job = (await gateway.data(GenerateDocument, { user: 'u02', count: 1, steps: 5, seed: 1 })).generate;
    expect(job.status).toBe('QUEUED');
  });
});
