import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { GENERATED_LOGIT_MARGIN } from '../../src/services/recommendation.service.js';
import { progressEvent } from '../../src/services/generation/progress.js';
import { testDatabases } from '../helpers/databases.js';
import { insertIdleJob, startTestGateway, type TestGateway } from '../helpers/gateway.js';
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
  UserGenerationDocument,
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

  const queries = { count: 0 };

  beforeAll(async () => {
    // Counted: the reads a progress event could cost a subscriber (jobs, their items, users, items by
    // id), not the runtime's periodic look at the catalog and the model versions.
    database = await engine.open({
      onQuery: (query) => {
        if (/generation_jobs|generated_items|"users"|"external_id" in/.test(query)) queries.count += 1;
      },
    });
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
    // However fast the tiny model is, a subscriber who arrives late gets every step it missed, in order.
    const running = events.filter((event) => event.status === 'RUNNING' && event.step > 0);
    expect(running.map((event) => event.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
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

  it('blends generated items into recommend only where they beat the catalog items they displace', async () => {
    const first = (await gateway.data(RecommendDocument, { user: 'u06', includeGenerated: true, first: 10 }))
      .recommend;
    expect(first.pendingGeneration).not.toBeNull();
    expect(first.items.every((entry) => entry.source === 'CATALOG')).toBe(true);
    const jobId = first.pendingGeneration?.id as string;
    await collect(client, WatchGenerationDocument, { job: jobId }, { until: finished });
    const pool = (await gateway.data(GetGenerationJobDocument, { id: jobId })).generationJob?.items ?? [];
    const pending = (await gateway.data(GetGenerationJobDocument, { id: jobId })).generationJob;
    expect(pending, JSON.stringify(pending)).toMatchObject({ status: 'SUCCEEDED' });
    expect(pool).toHaveLength(4);
    const catalogOnly = (await gateway.data(RecommendDocument, { user: 'u06', first: 20 })).recommend.items;
    for (const share of [0.2, 0.5, 1]) {
      const answer = (
        await gateway.data(RecommendDocument, {
          user: 'u06',
          includeGenerated: true,
          first: 20,
          generatedShare: share,
        })
      ).recommend;
      expect(answer.pendingGeneration).toBeNull();
      expect(answer.items).toHaveLength(20);
      const scores = answer.items.map((entry) => entry.score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
      const generated = answer.items.filter((entry) => entry.source === 'GENERATED');
      const catalog = answer.items.filter((entry) => entry.source === 'CATALOG');
      expect(generated.length).toBeLessThanOrEqual(Math.round(share * 20));
      // The catalog entries kept are the catalog answer's best; each generated one beat (by the logit
      // margin) the catalog entry it displaced, which are the catalog answer's last places.
      expect(catalog.map((entry) => entry.item)).toEqual(
        catalogOnly.slice(0, catalog.length).map((e) => e.item),
      );
      const displaced = catalogOnly.slice(catalog.length).map((entry) => entry.score);
      const logit = (p: number) => Math.log(p / (1 - p));
      const byScore = generated.map((entry) => entry.score).sort((a, b) => b - a);
      byScore.forEach((score, i) => {
        expect(logit(score) - GENERATED_LOGIT_MARGIN).toBeGreaterThanOrEqual(
          logit(displaced[displaced.length - 1 - i] as number) - 1e-9,
        );
      });
      for (const entry of generated) {
        expect(entry.reason).toBe('GENERATED_ABOVE_CATALOG');
        expect(entry.explanation).toMatch(/clearly above the catalog item it replaces/);
        expect(entry.item.__typename).toBe('GeneratedItem');
        // Scored with the same user vector as the ranking: the stored score is that score.
        expect(entry.score).toBeCloseTo((entry.item as { verifierScore: number }).verifierScore, 5);
      }
      for (const entry of catalog) expect(entry.reason).toBe('CATALOG_BY_VERIFIER');
    }
    const none = (
      await gateway.data(RecommendDocument, {
        user: 'u06',
        includeGenerated: true,
        first: 20,
        generatedShare: 0,
      })
    ).recommend.items;
    expect(none.map((entry) => entry.item)).toEqual(catalogOnly.map((entry) => entry.item));
  });

  it('replays every step to a subscriber who arrives after the job ended', async () => {
    const job = (
      await gateway.data(GenerateDocument, { user: 'u04', count: 1, steps: 12, sampler: 'DDIM', seed: 5 })
    ).generate;
    for (let i = 0; i < 200; i += 1) {
      const stored = (await gateway.data(GetGenerationJobDocument, { id: job.id })).generationJob;
      if (stored?.status === 'SUCCEEDED') break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const events = (await collect(client, WatchGenerationDocument, { job: job.id })).map(
      (event) => event.generationProgress,
    );
    expect(events.map((event) => `${event.status}:${event.step}`)).toEqual([
      'QUEUED:0',
      'RUNNING:0',
      ...Array.from({ length: 12 }, (_, i) => `RUNNING:${i + 1}`),
      'SUCCEEDED:12',
    ]);
    expect(events.at(-1)?.job.items).toHaveLength(1);
  });

  it('answers a progress step with no database read', async () => {
    const idle = await insertIdleJob(gateway, 'u08', 5);
    const job = { ...idle, status: 'running' as const, startedAt: new Date() };
    const item = await gateway.services.catalog.findItem('img0001');
    const seen: number[] = [];
    const done = collect(
      client,
      WatchGenerationDocument,
      { job: job.id },
      {
        until: (event) => event.generationProgress.step === 5,
        onEvent: () => seen.push(queries.count),
      },
    );
    // The stored state comes first; then the steps, published as the runner would.
    for (let i = 0; i < 100 && seen.length === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    const before = queries.count;
    for (let step = 1; step <= 5; step += 1) {
      await gateway.services.bus.publishProgress(
        progressEvent(job, { step, previewScore: 0.5, previewNearest: item ?? null }),
      );
    }
    const events = await done;
    expect(events.at(-1)?.generationProgress).toMatchObject({ step: 5, previewNearest: { id: 'img0001' } });
    expect(queries.count - before).toBe(0);
  });

  it('refuses bad generation requests with stable codes', async () => {
    const code = async (variables: Parameters<typeof gateway.request<unknown, never>>[1]) =>
      (await gateway.request(GenerateDocument, variables as never)).errors?.[0]?.extensions?.code;
    expect(await code({ user: 'nobody' } as never)).toBe('NOT_FOUND');
    // A taste-conditioned prior generates for anyone with enough ratings, trained with it or not.
    await gateway.data(CreateUserDocument, { id: 'two-ratings' });
    for (const item of ['img0001', 'img0002'])
      await gateway.data(RateItemDocument, { user: 'two-ratings', item, score: 5 });
    const refused = await gateway.request(GenerateDocument, { user: 'two-ratings' });
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'USER_NOT_IN_MODEL',
      reason: 'TOO_FEW_RATINGS',
      ratingsNeeded: 3,
      trainAgainHelps: false,
    });
    expect(refused.errors?.[0]?.message).toMatch(/at least 5 ratings .* has 2: rate 3 more/);
    const availability = (await gateway.data(UserGenerationDocument, { id: 'two-ratings' })).user?.generation;
    expect(availability).toMatchObject({ available: false, reason: 'TOO_FEW_RATINGS', ratingsNeeded: 3 });
    expect((await gateway.data(UserGenerationDocument, { id: 'u12' })).user?.generation.available).toBe(true);
    expect(await code({ user: 'u01', count: 0 } as never)).toBe('BAD_USER_INPUT');
    expect(await code({ user: 'u01', steps: 1000 } as never)).toBe('BAD_USER_INPUT');
    const cancel = await gateway.request(CancelGenerationDocument, {
      job: '00000000-0000-0000-0000-000000000000',
    });
    expect(cancel.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const recommend = await gateway.request(RecommendDocument, { user: 'u01', first: 0 });
    expect(recommend.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('generates for a user created after training once they rated 5 items, and says how many more before', async () => {
    await gateway.data(CreateUserDocument, { id: 'after-training' });
    const none = await gateway.request(GenerateDocument, { user: 'after-training' });
    expect(none.errors?.[0]?.extensions).toMatchObject({
      code: 'USER_NOT_IN_MODEL',
      reason: 'TOO_FEW_RATINGS',
      ratingsNeeded: 5,
    });
    const empty = (
      await gateway.data(RecommendDocument, { user: 'after-training', includeGenerated: true, first: 5 })
    ).recommend;
    expect(empty).toMatchObject({ fallback: 'NO_RATINGS', pendingGeneration: null });
    const source = [...(await ratingsOf('u09')).entries()].slice(0, 5);
    for (const [item, score] of source)
      await gateway.data(RateItemDocument, { user: 'after-training', item, score });
    const answer = (
      await gateway.data(RecommendDocument, { user: 'after-training', includeGenerated: true, first: 5 })
    ).recommend;
    expect(answer.fallback).toBeNull();
    const jobId = answer.pendingGeneration?.id as string;
    expect(jobId).toBeDefined();
    const events = await collect(client, WatchGenerationDocument, { job: jobId }, { until: finished });
    expect(events.at(-1)?.generationProgress.status).toBe('SUCCEEDED');
    expect(events.at(-1)?.generationProgress.job.items.length).toBeGreaterThan(0);
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

  it("runs the paper's personalisation test reproducibly and serves the stored, typed report", async () => {
    const request = {
      kind: 'personalisation' as const,
      samplesPerUser: 4,
      permutations: 300,
      sampler: 'ddim' as const,
      steps: 20,
      seed: 3,
    };
    const first = await gateway.services.evaluation.runToEnd(request);
    const again = await gateway.services.evaluation.runToEnd(request);
    expect(first.status).toBe('succeeded');
    const { samplingSeconds: _a, ...firstResults } = first.results;
    const { samplingSeconds: _b, ...againResults } = again.results;
    expect(againResults).toEqual(firstResults);
    const reports = (await gateway.data(EvaluationReportsDocument, { kind: 'PERSONALISATION' as const }))
      .evaluationReports;
    expect(reports.map((report) => report.id)).toEqual([again.id, first.id]);
    const report = reports[0]!;
    expect(report.parameters).toMatchObject({
      samplesPerUser: 4,
      permutations: 300,
      steps: 20,
      sampler: 'DDIM',
    });
    const p = report.personalisation!;
    expect(p).toMatchObject({ users: 12, samplesPerUser: 4 });
    expect(p.pValue).toBeGreaterThanOrEqual(1 / 301);
    expect(p.pValue).toBeLessThanOrEqual(1);
    expect(p.statistic).toBeGreaterThan(0);
    expect(p.permutationStd).toBeGreaterThan(0);
    expect(p.z).toBeCloseTo((p.statistic - p.permutationMean) / p.permutationStd, 6);
    expect(p.nullDistribution.counts.reduce((sum, count) => sum + count, 0)).toBe(300);
    expect(report.charts.map((chart) => chart.name)).toContain('null-histogram');
  });
});
