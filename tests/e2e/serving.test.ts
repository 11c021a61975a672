import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { testDatabases } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { collect, wsClient } from '../helpers/subscriptions.js';
import { importTinyDataset, TINY_DATASET_DIR, TINY_MODEL_DIR } from '../helpers/tiny-world.js';
import {
  CancelGenerationDocument,
  CreateUserDocument,
  GenerateDocument,
  GetGenerationJobDocument,
  ModelVersionsDocument,
  RateItemDocument,
  RecommendDocument,
  VerifierScoresDocument,
  WatchGenerationDocument,
  type WatchGenerationSubscription,
} from '../graphql/generated/graphql.js';

type Progress = WatchGenerationSubscription['generationProgress'];
const finished = (event: WatchGenerationSubscription) =>
  ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(event.generationProgress.status);

async function ratingsOf(user: string): Promise<Map<string, number>> {
  const text = await readFile(join(TINY_DATASET_DIR, 'ratings.csv'), 'utf8');
  const rows = text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));
  return new Map(rows.filter(([u]) => u === user).map(([, item, score]) => [item as string, Number(score)]));
}

describe.each(testDatabases)('serving with the tiny model on $name', (engine) => {
  let database: DatabaseHandle;
  let gateway: TestGateway;
  let client: Client;

  beforeAll(async () => {
    database = await engine.open();
    await importTinyDataset(database);
    gateway = await startTestGateway(database, { MODEL_DIR: TINY_MODEL_DIR, IMAGE_DECODER: 'none' });
    client = wsClient(gateway.wsUrl);
  });
  afterAll(async () => {
    await client?.dispose();
    await gateway?.stop();
    await database?.close();
  });

  it('recommends catalog items by verifier score, excluding what the user rated', async () => {
    const answer = (await gateway.data(RecommendDocument, { user: 'u03', first: 15 })).recommend;
    expect(answer).toMatchObject({
      fallback: null,
      pendingGeneration: null,
      modelVersion: { preset: 'tiny', active: true },
    });
    expect(answer.items).toHaveLength(15);
    expect(answer.items.map((entry) => entry.rank)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    const scores = answer.items.map((entry) => entry.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(
      answer.items.every((entry) => entry.source === 'CATALOG' && entry.item.__typename === 'Item'),
    ).toBe(true);
    const rated = await ratingsOf('u03');
    for (const entry of answer.items) expect(rated.has((entry.item as { id: string }).id)).toBe(false);
    // Different users get different answers.
    const other = (await gateway.data(RecommendDocument, { user: 'u07', first: 15 })).recommend;
    expect(other.items.map((entry) => (entry.item as { id: string }).id)).not.toEqual(
      answer.items.map((entry) => (entry.item as { id: string }).id),
    );
  });

  it('personalises a brand-new user from their ratings at once, and falls back clearly with none', async () => {
    await gateway.data(CreateUserDocument, { id: 'newcomer' });
    const empty = (await gateway.data(RecommendDocument, { user: 'newcomer', first: 5 })).recommend;
    expect(empty.fallback).toBe('NO_RATINGS');
    expect(empty.items).toHaveLength(5);

    // Copy ten of u05's ratings: the fitted vector must rank u05's other likes above u05's other dislikes.
    const source = [...(await ratingsOf('u05')).entries()];
    for (const [item, score] of source.slice(0, 10)) {
      await gateway.data(RateItemDocument, { user: 'newcomer', item, score });
    }
    const answer = (await gateway.data(RecommendDocument, { user: 'newcomer', first: 10 })).recommend;
    expect(answer.fallback).toBeNull();
    const held = source.slice(10);
    const scores = (
      await gateway.data(VerifierScoresDocument, { user: 'newcomer', items: held.map(([item]) => item) })
    ).verifierScores;
    const mean = (liked: boolean) => {
      const picked = scores.filter((_, i) => (held[i]?.[1] ?? 0) >= 4 === liked).map((s) => s.probability);
      return picked.reduce((a, b) => a + b, 0) / picked.length;
    };
    expect(mean(true)).toBeGreaterThan(mean(false));
  });

  it('streams every denoising step in order, then the items; the same seed gives the same embeddings', async () => {
    const job = (
      await gateway.data(GenerateDocument, { user: 'u02', count: 3, steps: 20, sampler: 'DDIM', seed: 42 })
    ).generate;
    expect(job).toMatchObject({
      status: 'QUEUED',
      count: 3,
      steps: 20,
      sampler: 'DDIM',
      seed: 42,
      user: { id: 'u02' },
    });
    const events = (await collect(client, WatchGenerationDocument, { job: job.id }, { until: finished })).map(
      (event) => event.generationProgress,
    );
    const last = events.at(-1) as Progress;
    expect(last.status).toBe('SUCCEEDED');
    // The first event is the stored state (the subscriber may join after a few steps ran); from then on
    // it sees every step, in order.
    const steps = events
      .slice(1)
      .filter((event) => event.status === 'RUNNING')
      .map((event) => event.step);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => (steps[0] as number) + i));
    expect(steps.at(-1)).toBe(20);
    const running = events.slice(1).filter((event) => event.status === 'RUNNING');
    for (const event of running) {
      expect(event.totalSteps).toBe(20);
      expect(event.previewScore).toBeGreaterThanOrEqual(0);
      expect(event.previewScore).toBeLessThanOrEqual(1);
      expect(event.previewNearest?.id).toMatch(/^img\d{4}$/);
    }
    expect(last.job.items).toHaveLength(3);

    const stored = (await gateway.data(GetGenerationJobDocument, { id: job.id })).generationJob;
    expect(stored).toMatchObject({ status: 'SUCCEEDED', step: 20, errorCode: null });
    const items = stored?.items ?? [];
    expect(items.map((item) => item.position)).toEqual([0, 1, 2]);
    for (const item of items) {
      expect(item.embedding).toHaveLength(16);
      expect(item).toMatchObject({ seed: 42, sampler: 'DDIM', steps: 20, user: { id: 'u02' }, image: null });
      expect(item.nearestItems).toHaveLength(3);
      expect(item.nearestItems[0]?.cosine).toBeGreaterThanOrEqual(item.nearestItems[1]?.cosine ?? 1);
    }

    const again = (
      await gateway.data(GenerateDocument, { user: 'u02', count: 3, steps: 20, sampler: 'DDIM', seed: 42 })
    ).generate;
    await collect(client, WatchGenerationDocument, { job: again.id }, { until: finished });
    const repeated =
      (await gateway.data(GetGenerationJobDocument, { id: again.id })).generationJob?.items ?? [];
    expect(repeated.map((item) => item.embedding)).toEqual(items.map((item) => item.embedding));
  });

  it('sends every k-th step when asked, and the final state to a subscriber who comes after the end', async () => {
    const job = (
      await gateway.data(GenerateDocument, { user: 'u04', count: 2, steps: 30, sampler: 'DDIM', seed: 7 })
    ).generate;
    const events = (
      await collect(client, WatchGenerationDocument, { job: job.id, every: 10 }, { until: finished })
    ).map((event) => event.generationProgress);
    const steps = events
      .slice(1)
      .filter((event) => event.status === 'RUNNING')
      .map((event) => event.step);
    expect(steps.every((step) => step % 10 === 0)).toBe(true);
    const late = await collect(client, WatchGenerationDocument, { job: job.id });
    expect(late).toHaveLength(1);
    expect(late[0]?.generationProgress).toMatchObject({ status: 'SUCCEEDED', step: 30, totalSteps: 30 });
  });

  it('cancels a running job mid-way: the stream ends CANCELLED and no items are kept', async () => {
    const job = (await gateway.data(GenerateDocument, { user: 'u01', count: 64, sampler: 'DDPM', seed: 1 }))
      .generate;
    expect(job.steps).toBe(100);
    let cancelled = false;
    const events = (
      await collect(
        client,
        WatchGenerationDocument,
        { job: job.id },
        {
          until: finished,
          onEvent: (event) => {
            if (
              !cancelled &&
              event.generationProgress.status === 'RUNNING' &&
              event.generationProgress.step >= 2
            ) {
              cancelled = true;
              void gateway.data(CancelGenerationDocument, { job: job.id });
            }
          },
        },
      )
    ).map((event) => event.generationProgress);
    expect(events.at(-1)?.status).toBe('CANCELLED');
    expect(events.at(-1)?.step).toBeLessThan(100);
    const stored = (await gateway.data(GetGenerationJobDocument, { id: job.id })).generationJob;
    expect(stored).toMatchObject({ status: 'CANCELLED', items: [] });
    expect((await gateway.data(CancelGenerationDocument, { job: job.id })).cancelGeneration.status).toBe(
      'CANCELLED',
    );
  });

  it('blends generated items into recommend, starting a generation when the pool is empty', async () => {
    const first = (await gateway.data(RecommendDocument, { user: 'u06', includeGenerated: true, first: 10 }))
      .recommend;
    expect(first.pendingGeneration).not.toBeNull();
    expect(first.items.every((entry) => entry.source === 'CATALOG')).toBe(true);
    const jobId = first.pendingGeneration?.id as string;
    await collect(client, WatchGenerationDocument, { job: jobId }, { until: finished });
    const second = (
      await gateway.data(RecommendDocument, { user: 'u06', includeGenerated: true, first: 200 })
    ).recommend;
    expect(second.pendingGeneration).toBeNull();
    const generated = second.items.filter((entry) => entry.source === 'GENERATED');
    // The job's 4 items compete with ~200 catalog items for 200 places: the weakest may fall out.
    expect(generated.length).toBeGreaterThanOrEqual(1);
    expect(generated.length).toBeLessThanOrEqual(4);
    const scores = second.items.map((entry) => entry.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    // The same verifier scale for both sources: a generated entry's score is its verifier probability.
    for (const entry of generated) {
      expect(entry.item.__typename).toBe('GeneratedItem');
      expect(entry.score).toBeCloseTo((entry.item as { verifierScore: number }).verifierScore, 5);
    }
    const withoutGenerated = (await gateway.data(RecommendDocument, { user: 'u06', first: 10 })).recommend;
    expect(withoutGenerated.items.every((entry) => entry.source === 'CATALOG')).toBe(true);
  });

  it('refuses bad generation requests with stable codes', async () => {
    const code = async (variables: Parameters<typeof gateway.request<unknown, never>>[1]) =>
      (await gateway.request(GenerateDocument, variables as never)).errors?.[0]?.extensions?.code;
    expect(await code({ user: 'nobody' } as never)).toBe('NOT_FOUND');
    expect(await code({ user: 'u12' } as never)).toBe('MODEL_NOT_READY');
    expect(await code({ user: 'u01', count: 0 } as never)).toBe('BAD_USER_INPUT');
    expect(await code({ user: 'u01', steps: 1000 } as never)).toBe('BAD_USER_INPUT');
    const cancel = await gateway.request(CancelGenerationDocument, {
      job: '00000000-0000-0000-0000-000000000000',
    });
    expect(cancel.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const recommend = await gateway.request(RecommendDocument, { user: 'u01', first: 0 });
    expect(recommend.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('lists model versions with their metrics', async () => {
    const versions = (await gateway.data(ModelVersionsDocument, {})).modelVersions;
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ preset: 'tiny', embeddingDim: 16, active: true });
    expect(JSON.parse(versions[0]?.metrics ?? '{}').verifier.validationAuc).toBeGreaterThan(0.5);
  });
});
