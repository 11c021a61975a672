import { type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { startDemoGateway, type TestGateway } from '../helpers/gateway.js';
import { collect, wsClient } from '../helpers/subscriptions.js';
import {
  type EvaluationInput,
  EvaluationReportDocument,
  type EvaluationReportQuery,
  RunEvaluationDocument,
  WatchEvaluationDocument,
} from '../graphql/generated/graphql.js';

type Report = NonNullable<EvaluationReportQuery['evaluationReport']>;

/**
 * Evaluations through the public API on the demo world (a taste world: the oracle knows the truth):
 * runEvaluation, the progress subscription to the end, the typed report of every kind, its page and
 * its charts. Small settings (a few users, samples and steps): this checks the plumbing and the shapes;
 * the figures at full size are in BENCHMARKS.md.
 */
describe('evaluation reports through GraphQL on the demo world', () => {
  let database: DatabaseHandle;
  let gateway: TestGateway;
  let client: Client;
  const base = { samplesPerUser: 4, steps: 8, maxUsers: 6, permutations: 200, seed: 1 };

  beforeAll(async () => {
    ({ database, gateway } = await startDemoGateway());
    client = wsClient(gateway.wsUrl);
  }, 120_000);
  afterAll(async () => {
    await client?.dispose();
    await gateway?.stop();
    await database?.close();
  });

  /** Start one, follow its progress over the WebSocket to the end, then read it whole. */
  async function run(input: EvaluationInput) {
    const started = (await gateway.data(RunEvaluationDocument, { input })).runEvaluation;
    expect(started.status).toBe('QUEUED');
    const events = await collect(
      client,
      WatchEvaluationDocument,
      { report: started.id },
      { timeoutMs: 120_000 },
    );
    const last = events.at(-1)!.evaluationProgress;
    expect(['SUCCEEDED', 'FAILED']).toContain(last.status);
    const report = (await gateway.data(EvaluationReportDocument, { id: started.id }))
      .evaluationReport as Report;
    expect(report.error).toBeNull();
    expect(report.status).toBe('SUCCEEDED');
    return { report, events };
  }

  it('personalisation: streams progress, keeps the null as a histogram, and the oracle view', async () => {
    const { report, events } = await run({ kind: 'PERSONALISATION' as const, ...base });
    // Statuses arrive in the order of a report's life (how many depends on the machine's speed).
    const order = ['QUEUED', 'RUNNING', 'SUCCEEDED'];
    const seen = events.map((event) => order.indexOf(event.evaluationProgress.status));
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    for (const event of events) {
      if (event.evaluationProgress.status === 'RUNNING')
        expect(event.evaluationProgress.progress).not.toBeNull();
    }
    const p = report.personalisation!;
    expect(p.users).toBe(6);
    expect(p.nullDistribution.counts.reduce((sum, count) => sum + count, 0)).toBe(200);
    expect(p.nullDistribution.edges).toHaveLength(p.nullDistribution.counts.length + 1);
    expect(p.z).toBeCloseTo((p.statistic - p.permutationMean) / p.permutationStd, 6);
    expect(report.parameters).toMatchObject({ samplesPerUser: 4, steps: 8, sampler: 'DDIM', maxUsers: 6 });
    expect(report.oracle).not.toBeNull();
    expect(report.oracle!.bestCatalogLikeRate).toBeGreaterThan(report.oracle!.randomCatalogLikeRate);
    expect(report.finishedAt).not.toBeNull();
    // The page and its charts, served by the gateway as plain documents.
    const page = await fetch(new URL(report.pageUrl, gateway.url));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const chart = report.charts.find((entry) => entry.name === 'null-histogram')!;
    const svg = await fetch(new URL(chart.url, gateway.url));
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(await svg.text()).toBe(chart.svg);
  });

  it('distribution and precision/recall: figures against the held-out likes, overall and per user', async () => {
    const distribution = (await run({ kind: 'DISTRIBUTION' as const, ...base })).report.distribution!;
    expect(distribution.generated).toBe(24);
    expect(distribution.reference).toBeGreaterThan(0);
    expect(distribution.frechetDistance).toBeGreaterThan(0);
    expect(distribution.cmmd).toBeGreaterThanOrEqual(0);
    expect(distribution.perUserCmmd.length).toBeGreaterThan(0);
    const pr = (await run({ kind: 'PRECISION_RECALL' as const, ...base })).report.precisionRecall!;
    expect(pr.k).toBe(4);
    for (const value of [pr.precision, pr.recall]) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
  });

  it('a sweep and the ablations: one row per setting, the oracle like-rate on each', async () => {
    const sweep = (await run({ kind: 'GUIDANCE_SWEEP' as const, ...base, scales: [1, 5] })).report;
    expect(sweep.sweep!.map((row) => row.guidanceScale)).toEqual([1, 5]);
    expect(sweep.charts.map((chart) => chart.name)).toContain('sweep');
    const ablation = (await run({ kind: 'ABLATION' as const, ...base })).report.ablations!;
    expect(ablation.map((row) => row.label)).toEqual([
      'as served',
      'no user condition',
      'unconditional (w = 0)',
      'no verifier guidance',
      'one candidate (no selection)',
      'no clamp to the data range',
    ]);
    for (const row of ablation) expect(row.oracleLikeRate).not.toBeNull();
  });

  it('topic precision on the taste world, against random catalog items', async () => {
    const topic = (await run({ kind: 'TOPIC_PRECISION' as const, ...base })).report.topicPrecision!;
    for (const value of [topic.contentPrecision, topic.stylePrecision, topic.randomContentPrecision]) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
  });

  it('refuses bad input with BAD_USER_INPUT, and an unknown report with NOT_FOUND over the WebSocket', async () => {
    const bad = await gateway.request(RunEvaluationDocument, {
      input: { kind: 'GUIDANCE_SWEEP' as const, scales: [999] },
    });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const missing = await collect(client, WatchEvaluationDocument, {
      report: '00000000-0000-0000-0000-000000000000',
    }).catch((error: unknown) => String(error));
    expect(missing).toMatch(/NOT_FOUND/);
    expect((await fetch(new URL('/reports/00000000-0000-0000-0000-000000000000', gateway.url))).status).toBe(
      404,
    );
  });
});
