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
  EvaluationReportsDocument,
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

  it('generates items with their provenance and previews; the same seed gives the same embeddings', async () => {
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
    // Step order is checked on the demo model (tests/e2e/demo-model.test.ts), whose jobs outlast the
    // subscription's start; this tiny model may finish before the subscriber joins.
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
    const scores = second.items.map((entry) => entry.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    // The job's 4 items compete with the catalog for 200 places: exactly those scoring above the last
    // place are in (their verifier score, on the catalog's scale), none of the others.
    const pool = (await gateway.data(GetGenerationJobDocument, { id: jobId })).generationJob?.items ?? [];
    expect(pool).toHaveLength(4);
    const cutoff = scores.at(-1) as number;
    const expected = pool.filter((item) => item.verifierScore > cutoff).map((item) => item.id);
    expect(generated.map((entry) => (entry.item as { id: string }).id).sort()).toEqual(expected.sort());
    for (const entry of generated) {
      expect(entry.item.__typename).toBe('GeneratedItem');
      expect(entry.score).toBeCloseTo((entry.item as { verifierScore: number }).verifierScore, 5);
    }
    expect(second.items).toHaveLength(200);
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

  it('refuses a subscription to an unknown job with NOT_FOUND over the WebSocket', async () => {
    const error = await collect(client, WatchGenerationDocument, {
      job: '00000000-0000-0000-0000-000000000000',
    }).catch((caught: unknown) => caught as Error);
    expect(String(error)).toMatch(/NOT_FOUND/);
    expect(String(error)).toMatch(/does not exist/);
  });

  it('lists model versions with their metrics', async () => {
    const versions = (await gateway.data(ModelVersionsDocument, {})).modelVersions;
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ preset: 'tiny', embeddingDim: 16, active: true });
    expect(JSON.parse(versions[0]?.metrics ?? '{}').verifier.validationAuc).toBeGreaterThan(0.5);
  });

  it("runs the paper's personalisation test reproducibly and serves the stored report", async () => {
    const options = { samplesPerUser: 4, permutations: 300, sampler: 'ddim' as const, steps: 20, seed: 3 };
    const first = await gateway.services.evaluation.personalisation(options);
    const again = await gateway.services.evaluation.personalisation(options);
    const { samplingSeconds: _a, ...firstResults } = first.results as Record<string, unknown>;
    const { samplingSeconds: _b, ...againResults } = again.results as Record<string, unknown>;
    expect(againResults).toEqual(firstResults);
    const reports = (await gateway.data(EvaluationReportsDocument, { kind: 'personalisation' }))
      .evaluationReports;
    expect(reports.map((report) => report.id)).toEqual([again.id, first.id]);
    const results = JSON.parse(reports[0]?.results ?? '{}');
    expect(results).toMatchObject({ users: 12, samplesPerUser: 4 });
    expect(results.pValue).toBeGreaterThanOrEqual(0);
    expect(results.pValue).toBeLessThanOrEqual(1);
    expect(results.statistic).toBeGreaterThan(0);
    expect(results.permutationStd).toBeGreaterThan(0);
    expect(results.z).toBeCloseTo((results.statistic - results.permutationMean) / results.permutationStd, 6);
  });
});
