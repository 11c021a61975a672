import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { insertEvaluationReport } from '../../src/db/queries/evaluations.js';
import { upsertModelVersion } from '../../src/db/queries/models.js';
import { PAGE_LINK_TTL_MS } from '../../src/services/access/page-links.js';
import { testDatabases } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Report pages are analysts' data: a browser opening one sends no key, so the API hands out signed links
 * (pageUrl, chart urls), and the pages refuse anything else with 401.
 */
describe('report pages with authentication on', () => {
  let database: DatabaseHandle;
  let gateway: TestGateway;
  let analyst: string;
  const get = (path: string) => fetch(new URL(path, gateway.url));

  beforeAll(async () => {
    database = await testDatabases[0]!.open();
    gateway = await startTestGateway(database, {}, { gateway: { authDisabled: false } });
    analyst = (await gateway.services.apiKeys.create({ name: 'analyst', role: 'analyst' })).record.id;
  });
  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it('refuses unsigned, tampered and misdirected links with 401 and no data', async () => {
    const unknown = '/reports/00000000-0000-0000-0000-000000000000';
    for (const path of ['/reports', '/reports/', unknown, `${unknown}/charts/null-distribution.svg`]) {
      const answer = await get(path);
      expect(answer.status).toBe(401);
      expect(await answer.text()).toMatch(/pageUrl/);
    }
    const signedIndex = await gateway.services.pageLinks.sign('/reports', analyst);
    const access = new URL(signedIndex, 'http://x').searchParams.get('access')!;
    // The index's token does not open a report, and a changed signature opens nothing.
    expect((await get(`${unknown}?access=${access}`)).status).toBe(401);
    const flipped = `${access.slice(0, -1)}${access.endsWith('0') ? '1' : '0'}`;
    expect((await get(`/reports?access=${flipped}`)).status).toBe(401);
  });

  it('opens signed links: the index, and a report that does not exist is 404, not 401', async () => {
    const index = await get(await gateway.services.pageLinks.sign('/reports', analyst));
    expect(index.status).toBe(200);
    expect(await index.text()).toMatch(/No evaluation reports yet/);
    const missing = await get(
      await gateway.services.pageLinks.sign('/reports/00000000-0000-0000-0000-000000000000', analyst),
    );
    expect(missing.status).toBe(404);
  });

  it('closes the links of a revoked key, and refuses links made with authentication off', async () => {
    const { record } = await gateway.services.apiKeys.create({ name: 'leaving', role: 'analyst' });
    const link = await gateway.services.pageLinks.sign('/reports', record.id);
    expect((await get(link)).status).toBe(200);
    await gateway.services.apiKeys.revoke(record.id);
    expect((await get(link)).status).toBe(401);
    expect((await get(await gateway.services.pageLinks.sign('/reports', null))).status).toBe(401);
  });

  it('never renews a link: the links on a page expire when the link it was opened with does', async () => {
    // A stored (queued) report, so the index links to it and its page links back to the index.
    const version = await upsertModelVersion(gateway.services.db, {
      preset: 'tiny',
      embeddingDim: 4,
      artifactDir: '/nonexistent',
      datasetHash: null,
      metrics: {},
    });
    const report = await insertEvaluationReport(gateway.services.db, {
      modelVersionId: version.id,
      kind: 'personalisation',
      parameters: {},
    });
    const made = Date.now() - PAGE_LINK_TTL_MS + 60_000; // made almost a day ago: a minute left
    const expiresOf = (link: string) => new URL(link, 'http://x').searchParams.get('access')?.split('.')[0];
    const hrefsOf = async (link: string) => {
      const answer = await get(link);
      expect(answer.status).toBe(200);
      return [...(await answer.text()).matchAll(/href="([^"]+)"/g)].map(([, href]) =>
        href!.replace(/&amp;/g, '&'),
      );
    };
    const index = await gateway.services.pageLinks.sign('/reports', analyst, made);
    const toReport = (await hrefsOf(index)).filter((href) => href.startsWith(`/reports/${report.id}?`));
    expect(toReport).toHaveLength(1);
    expect(expiresOf(toReport[0]!)).toBe(expiresOf(index));
    const backToIndex = (await hrefsOf(toReport[0]!)).filter((href) => href.startsWith('/reports?'));
    expect(backToIndex).toHaveLength(1);
    expect(expiresOf(backToIndex[0]!)).toBe(expiresOf(index));
  });
});
