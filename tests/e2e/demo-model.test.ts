import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/lib/logger.js';
import { type MemoryEventBus } from '../../src/services/generation/events.js';
import { importDemoWorldIfEmpty } from '../../src/services/ingestion/demo-world.js';
import { StepGate } from '../helpers/gate.js';
import { insertIdleJob, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { collect, wsClient } from '../helpers/subscriptions.js';
import {
  CancelGenerationDocument,
  GenerateDocument,
  GetGenerationJobDocument,
  GetItemDocument,
  RecommendDocument,
  UpsertItemsDocument,
  WatchGenerationDocument,
  type WatchGenerationSubscription,
} from '../graphql/generated/graphql.js';

/** Item.image is not in tests/graphql (whose generated types other tests share): typed here. */
const ItemImageDocument = parse(
  'query ItemImage($id: ID!) { item(id: $id) { imageUrl image { mimeType url } } }',
) as TypedDocumentNode<
  { item: { imageUrl: string | null; image: { mimeType: string; url: string } | null } | null },
  { id: string }
>;

const svgOf = (url: string | undefined) =>
  Buffer.from((url ?? '').replace('data:image/svg+xml;base64,', ''), 'base64').toString();

const finished = (event: WatchGenerationSubscription) =>
  ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(event.generationProgress.status);

/** What `npm start` serves on a first start: the demo world and models/demo, in embedded PGlite. */
describe('the demo model on the demo world', () => {
  let database: DatabaseHandle;
  let gateway: TestGateway;
  let client: Client;
  const gate = new StepGate();

  beforeAll(async () => {
    database = await openDatabase({ dataDir: null });
    await database.migrate();
    expect(await importDemoWorldIfEmpty(database.db, createLogger('silent'))).toBe(true);
    expect(await importDemoWorldIfEmpty(database.db, createLogger('silent'))).toBe(false);
    gateway = await startTestGateway(
      database,
      { MODEL_DIR: 'models/demo', IMAGE_DECODER: 'world:demo:1' },
      { wrapDenoiser: gate.wrap },
    );
    client = wsClient(gateway.wsUrl);
  }, 120_000);
  afterAll(async () => {
    await client?.dispose();
    await gateway?.stop();
    await database?.close();
  });

  it('recommends personalised catalog items for a demo user', async () => {
    const answer = (await gateway.data(RecommendDocument, { user: 'u-003', first: 10 })).recommend;
    expect(answer).toMatchObject({ fallback: null, modelVersion: { preset: 'small' } });
    expect(answer.items).toHaveLength(10);
    expect(answer.items[0]?.score).toBeGreaterThan(0.5);
  });

  it('streams every denoising step in order, then the items; every k-th step when asked; the end to latecomers', async () => {
    // DDPM over the model's 1000 steps takes long enough for the subscriber to see the steps live.
    const job = (await gateway.data(GenerateDocument, { user: 'u-002', count: 4, sampler: 'DDPM', seed: 4 }))
      .generate;
    const everyTen = collect(
      client,
      WatchGenerationDocument,
      { job: job.id, every: 100 },
      { until: finished },
    );
    const events = (await collect(client, WatchGenerationDocument, { job: job.id }, { until: finished })).map(
      (event) => event.generationProgress,
    );
    expect(events.at(-1)).toMatchObject({ status: 'SUCCEEDED', step: 1000, totalSteps: 1000 });
    expect(events.at(-1)?.job.items).toHaveLength(4);
    // Whenever the subscriber arrived, it sees the whole life: queued, started, every step in order, done.
    const expected = [
      'QUEUED:0',
      'RUNNING:0',
      ...Array.from({ length: 1000 }, (_, i) => `RUNNING:${i + 1}`),
      'SUCCEEDED:1000',
    ];
    expect(events.map((event) => `${event.status}:${event.step}`)).toEqual(expected);
    for (const event of events.slice(2, -1)) {
      expect(event.etaMs).toBeGreaterThanOrEqual(0);
      expect(event.previewNearest?.id).toMatch(/^w-\d{6}$/);
    }
    const sparse = (await everyTen).map(
      (event) => `${event.generationProgress.status}:${event.generationProgress.step}`,
    );
    expect(sparse).toEqual([
      'QUEUED:0',
      'RUNNING:0',
      ...Array.from({ length: 10 }, (_, i) => `RUNNING:${(i + 1) * 100}`),
      'SUCCEEDED:1000',
    ]);
    const late = await collect(client, WatchGenerationDocument, { job: job.id });
    expect(
      late.map((event) => `${event.generationProgress.status}:${event.generationProgress.step}`),
    ).toEqual(expected);
  });

  it('decodes generated embeddings to the taste world pictures', async () => {
    const job = (
      await gateway.data(GenerateDocument, { user: 'u-003', count: 2, steps: 25, sampler: 'DDIM', seed: 9 })
    ).generate;
    await collect(client, WatchGenerationDocument, { job: job.id }, { until: finished });
    const items = (await gateway.data(GetGenerationJobDocument, { id: job.id })).generationJob?.items ?? [];
    expect(items).toHaveLength(2);
    for (const item of items) {
      expect(item.image?.mimeType).toBe('image/svg+xml');
      const svg = Buffer.from(
        (item.image?.url ?? '').replace('data:image/svg+xml;base64,', ''),
        'base64',
      ).toString();
      expect(svg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    }
  });

  it('cancels a running job mid-way: the stream ends CANCELLED and no items are kept', async () => {
    // The gate holds the job after its fifth step, so the cancel lands mid-way on any machine.
    gate.close();
    const job = (await gateway.data(GenerateDocument, { user: 'u-001', count: 64, sampler: 'DDPM', seed: 1 }))
      .generate;
    expect(job.steps).toBe(1000);
    const watching = collect(client, WatchGenerationDocument, { job: job.id }, { until: finished });
    gate.step(5);
    for (let i = 0; i < 500 && !(gate.passed >= 5 && gate.held > 0); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await gateway.data(CancelGenerationDocument, { job: job.id });
    gate.open();
    const events = (await watching).map((event) => event.generationProgress);
    expect(events.at(-1)?.status).toBe('CANCELLED');
    expect(events.at(-1)?.step).toBeLessThan(1000);
    const stored = (await gateway.data(GetGenerationJobDocument, { id: job.id })).generationJob;
    expect(stored).toMatchObject({ status: 'CANCELLED', items: [] });
    expect((await gateway.data(CancelGenerationDocument, { job: job.id })).cancelGeneration.status).toBe(
      'CANCELLED',
    );
  });

  it('releases a subscription as soon as the client unsubscribes, even while no event comes', async () => {
    const bus = gateway.services.bus as MemoryEventBus;
    // A queued job that nothing runs: after its stored state, no event will ever come.
    const job = await insertIdleJob(gateway, 'u-006');
    const events = await collect(client, WatchGenerationDocument, { job: job.id }, { until: () => true });
    expect(events[0]?.generationProgress.status).toBe('QUEUED');
    for (let i = 0; i < 100 && bus.listenerCount(job.id) > 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(bus.listenerCount(job.id)).toBe(0);
    await gateway.data(CancelGenerationDocument, { job: job.id });
  });

  it('refuses more than 8 unfinished jobs per user with RESOURCE_EXHAUSTED', async () => {
    const jobs: string[] = [];
    try {
      for (let i = 0; i < 8; i += 1) {
        jobs.push(
          (await gateway.data(GenerateDocument, { user: 'u-005', count: 1, sampler: 'DDPM', seed: i }))
            .generate.id,
        );
      }
      const ninth = await gateway.request(GenerateDocument, {
        user: 'u-005',
        count: 1,
        sampler: 'DDPM',
        seed: 99,
      });
      expect(ninth.errors?.[0]?.extensions?.code).toBe('RESOURCE_EXHAUSTED');
    } finally {
      for (const job of jobs) await gateway.data(CancelGenerationDocument, { job });
    }
    const after = await gateway.data(GenerateDocument, {
      user: 'u-005',
      count: 1,
      steps: 5,
      sampler: 'DDIM',
      seed: 1,
    });
    expect(after.generate.status).toBe('QUEUED');
  });

  it("draws the catalog's items too: the decoder's picture of the embedding, by content", async () => {
    const { item } = await gateway.data(ItemImageDocument, { id: 'w-000041' });
    expect(item?.imageUrl).toBeNull();
    expect(item?.image?.mimeType).toBe('image/svg+xml');
    expect(svgOf(item?.image?.url)).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    // Another id with the same embedding draws the same picture; a new embedding under that id, its own.
    const embeddingOf = async (id: string) => (await gateway.data(GetItemDocument, { id })).item!.embedding;
    const upsert = async (embedding: number[]) =>
      gateway.data(UpsertItemsDocument, { items: [{ id: 'copy-of-41', embedding }] });
    await upsert(await embeddingOf('w-000041'));
    const copy = (await gateway.data(ItemImageDocument, { id: 'copy-of-41' })).item;
    expect(copy?.imageUrl).toBeNull();
    expect(copy?.image?.url).toBe(item?.image?.url);
    const other = (await gateway.data(ItemImageDocument, { id: 'w-000001' })).item?.image?.url;
    expect(other).not.toBe(item?.image?.url);
    await upsert(await embeddingOf('w-000001'));
    expect((await gateway.data(ItemImageDocument, { id: 'copy-of-41' })).item?.image?.url).toBe(other);
  });
});

/** The taste world's decoder draws only its own width (64 for demo): another catalog has no pictures. */
describe('pictures of a catalog of another width, with the demo world decoder', () => {
  let database: DatabaseHandle;
  let gateway: TestGateway;

  beforeAll(async () => {
    database = await openDatabase({ dataDir: null });
    await database.migrate();
    gateway = await startTestGateway(database, { IMAGE_DECODER: 'world:demo:1' });
    const embedding = (seed: number) => Array.from({ length: 8 }, (_, i) => Math.sin(seed + i));
    await gateway.data(UpsertItemsDocument, {
      items: [
        { id: 'narrow-1', title: 'no picture', embedding: embedding(1) },
        {
          id: 'narrow-2',
          imageUrl: 'https://example.com/pictures/narrow-2.PNG?v=3',
          embedding: embedding(2),
        },
      ],
    });
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it('is null without an imageUrl, else the imageUrl', async () => {
    expect((await gateway.data(ItemImageDocument, { id: 'narrow-1' })).item).toEqual({
      imageUrl: null,
      image: null,
    });
    expect((await gateway.data(ItemImageDocument, { id: 'narrow-2' })).item?.image).toEqual({
      mimeType: 'image/png',
      url: 'https://example.com/pictures/narrow-2.PNG?v=3',
    });
  });
});
