import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { type Client } from 'graphql-ws';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/lib/logger.js';
import { importDemoWorldIfEmpty } from '../../src/services/ingestion/demo-world.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { collect, wsClient } from '../helpers/subscriptions.js';
import {
  GenerateDocument,
  RunEvaluationDocument,
  WatchEvaluationDocument,
} from '../graphql/generated/graphql.js';

// Debian's Chromium, driven by playwright-core: skipped with a reason on a machine without it, never in
// CI (.ci/run installs it).
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI) throw new Error(`CI needs Chromium at ${CHROMIUM} (Debian's chromium)`);
if (!hasChromium) console.warn(`browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

const SHOTS = 'test-output/browser';

// The page's globals as far as the in-page checks (page.evaluate) use them: the tests compile without
// the DOM library, and these declarations stay inside this module.
interface PageElement {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
  /** img */
  complete: boolean;
  naturalWidth: number;
  src: string;
  /** CodeMirror 5's editor, on its wrapper element. */
  CodeMirror?: { getValue(): string };
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement> & { length: number };
  addEventListener(
    type: 'securitypolicyviolation',
    listener: (event: { violatedDirective: string; blockedURI: string }) => void,
  ): void;
};
declare const window: { cspViolations: string[] };

/**
 * What a person sees, in headless Chromium against a real gateway on the demo world (what `npm start`
 * serves): the page at `/` (a user's likes, recommendations with pictures, a generation watched to the
 * end, the analyst tab's reports) and GraphiQL at `/graphql`, with every request staying on 127.0.0.1.
 * Screenshots go to test-output/browser/.
 */
describe.skipIf(!hasChromium)('the web page and GraphiQL in headless Chromium on the demo world', () => {
  let database: DatabaseHandle;
  let gateway: TestGateway;
  let client: Client;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  let catalogPictures: boolean;
  /** Every URL the browser asked for, WebSockets included. */
  const requests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    database = await openDatabase({ dataDir: null });
    await database.migrate();
    await importDemoWorldIfEmpty(database.db, createLogger('silent'));
    gateway = await startTestGateway(database, { MODEL_DIR: 'models/demo', IMAGE_DECODER: 'world:demo:1' });
    origin = `http://127.0.0.1:${gateway.port}`;
    client = wsClient(gateway.wsUrl);
    // A small report for the analyst tab (the figures at full size are in BENCHMARKS.md).
    const report = (
      await gateway.data(RunEvaluationDocument, {
        input: {
          kind: 'PERSONALISATION',
          samplesPerUser: 4,
          steps: 8,
          maxUsers: 6,
          permutations: 200,
          seed: 1,
        },
      })
    ).runEvaluation;
    const events = await collect(
      client,
      WatchEvaluationDocument,
      { report: report.id },
      { timeoutMs: 120_000 },
    );
    expect(events.at(-1)?.evaluationProgress.status).toBe('SUCCEEDED');
    // Catalog pictures come with Item.image where the schema has it; placeholders otherwise.
    const probe = (await (
      await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __type(name: "Item") { fields { name } } }' }),
      })
    ).json()) as { data: { __type: { fields: { name: string }[] } } };
    catalogPictures = probe.data.__type.fields.some((field) => field.name === 'image');

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.on('request', (request) => requests.push(request.url()));
    context.on('weberror', (error) => pageErrors.push(error.error().message));
    // Content-Security-Policy violations, as the page sees them.
    await context.addInitScript(() => {
      const seen: string[] = [];
      window.cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (event) =>
        seen.push(`${event.violatedDirective} ${event.blockedURI}`),
      );
    });
    page = await context.newPage();
    page.on('websocket', (socket) => requests.push(socket.url()));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await client?.dispose();
    await gateway?.stop();
    await database?.close();
  });

  const cspViolations = () => page.evaluate(() => window.cspViolations);

  /** Pictures (img) inside `selector` that loaded, and how many are placeholders. */
  const pictures = (selector: string) =>
    page.evaluate((root) => {
      const images = [...document.querySelectorAll(`${root} img.picture`)];
      return {
        loaded: images.filter((image) => image.complete && image.naturalWidth > 0).length,
        images: images.length,
        dataUrls: images.filter((image) => image.src.startsWith('data:image/svg+xml')).length,
        placeholders: document.querySelectorAll(`${root} .placeholder`).length,
      };
    }, selector);

  it("shows a picked user's likes and recommendations, each with its picture, score and reason", async () => {
    await page.goto(`${origin}/`);
    await page.waitForSelector('#user option[value="u-003"]', { state: 'attached' });
    await page.selectOption('#user', 'u-003');
    await page.waitForSelector('#recommendations-grid .card');
    await page.waitForSelector('#liked-grid .card');
    expect(await page.locator('#user-summary').textContent()).toMatch(/^\d+ ratings, \d+ liked$/);
    const cards = page.locator('#recommendations-grid .card');
    expect(await cards.count()).toBe(12);
    for (const card of await cards.all()) {
      expect(await card.locator('.score').textContent()).toMatch(/\d+%$/);
      expect(await card.locator('.badge').textContent()).not.toBe('');
      expect(await card.locator('.explanation').textContent()).toMatch(/like-probability/);
    }
    await page.waitForFunction(() =>
      [...document.querySelectorAll('img.picture')].every((image) => image.complete),
    );
    const recommended = await pictures('#recommendations-grid');
    const liked = await pictures('#liked-grid');
    if (catalogPictures) {
      expect(recommended.loaded).toBe(12);
      expect(liked.loaded).toBe(await page.locator('#liked-grid .card').count());
    } else {
      // Generated entries carry their pictures; catalog items without one show a neutral placeholder.
      expect(recommended.loaded + recommended.placeholders).toBe(12);
    }
    expect(await page.locator('#liked-title').textContent()).toMatch(/^Liked \(\d+\)$/);
    await page.screenshot({ path: `${SHOTS}/01-recommendations.png`, fullPage: true });
  });

  it('generates: the progress bar and the nearest picture follow every step to 100%, then the pictures', async () => {
    await page.selectOption('#count', '2');
    // DDPM runs all 1,000 steps: long enough to catch the bar mid-way.
    await page.selectOption('#sampler', 'DDPM:1000');
    await page.click('#generate');
    const progress = page.locator('#progress');
    await page.waitForFunction(() => {
      const bar = document.querySelector('#progress');
      return bar?.dataset.why === 'generate' && Number(bar.getAttribute('aria-valuenow')) > 0;
    });
    await page.screenshot({ path: `${SHOTS}/02-generating.png`, fullPage: true });
    await page.waitForFunction(
      () => {
        const bar = document.querySelector('#progress');
        return bar?.dataset.why === 'generate' && bar.dataset.status === 'SUCCEEDED';
      },
      null,
      { timeout: 120_000 },
    );
    expect(await progress.getAttribute('aria-valuenow')).toBe('100');
    // Every denoising step reached the page (queued, started, 1,000 steps, done).
    expect(await progress.getAttribute('data-steps')).toBe('1000');
    expect(Number(await progress.getAttribute('data-events'))).toBeGreaterThanOrEqual(1002);
    expect(await page.locator('#progress-text').textContent()).toMatch(
      /^succeeded · step 1000 \/ 1000 · 100%/,
    );
    expect(await page.locator('#preview').getAttribute('data-item')).toMatch(/^w-\d{6}$/);
    if (catalogPictures) expect((await pictures('#preview')).loaded).toBe(1);

    await page.waitForSelector('#generated-grid .card img.picture');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#generated-grid img')].every((image) => image.complete),
    );
    const generated = await pictures('#generated-grid');
    expect(generated).toMatchObject({ images: 2, loaded: 2, dataUrls: 2 });
    await page.locator('#generation').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/03-generated.png`, fullPage: true });
    expect(await cspViolations()).toEqual([]);
  });

  it("the analyst tab shows the latest report's figures and charts, linking to its page", async () => {
    await page.click('#tab-button-analyst');
    const report = page.locator('.report[data-status="SUCCEEDED"]').first();
    await report.waitFor();
    expect(await report.locator('h3').textContent()).toBe('personalisation · succeeded');
    expect(await report.locator('.figures').first().textContent()).toMatch(/z-?\d/);
    expect(await report.locator('a').getAttribute('href')).toMatch(/^\/reports\/[0-9a-f-]{36}$/);
    await page.waitForFunction(() => {
      const charts = [...document.querySelectorAll('.report .charts img')];
      return charts.length > 0 && charts.every((chart) => chart.complete && chart.naturalWidth > 0);
    });
    expect(page.url()).toBe(`${origin}/#analyst`);
    await page.screenshot({ path: `${SHOTS}/04-analyst.png`, fullPage: true });
    expect(await cspViolations()).toEqual([]);
  });

  it('GraphiQL at /graphql loads the schema, runs a query over HTTP and a subscription over graphql-ws', async () => {
    const introspection = page.waitForResponse(
      (response) =>
        response.url() === `${origin}/graphql` && (response.request().postData() ?? '').includes('__schema'),
    );
    await page.goto(`${origin}/graphql`);
    const schema = (await (await introspection).json()) as { data?: { __schema?: unknown } };
    expect(schema.data?.__schema).toBeDefined();
    // The editor shows its default operations once GraphiQL has settled.
    await page.waitForFunction(
      () =>
        document
          .querySelector('.graphiql-query-editor .CodeMirror')
          ?.CodeMirror?.getValue()
          .includes('query Recommend') ?? false,
    );
    // A dialog adds a <style> (react-remove-scroll): allowed by the page's nonce, not 'unsafe-inline'.
    await page.click('[aria-label="Open settings dialog"]');
    await page.waitForSelector('[role="dialog"]');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[role="dialog"]', { state: 'detached' });

    /** Open the IDE with an operation from the address bar (GET /graphql?query=...), run it, await the answer. */
    const run = async (name: string, query: string, expected: string) => {
      await page.goto(`${origin}/graphql?query=${encodeURIComponent(query)}`);
      await page.waitForFunction(
        (operation) =>
          document.querySelector('.graphiql-tab-active .graphiql-tab-button')?.textContent === operation,
        name,
      );
      await page.click('.graphiql-execute-button');
      await page.waitForFunction(
        (text) => document.querySelector('.result-window')?.textContent?.includes(text) ?? false,
        expected,
      );
    };
    await run('TwoUsers', 'query TwoUsers { users(first: 2) { totalCount } }', '"totalCount": 24');
    const job = (
      await gateway.data(GenerateDocument, { user: 'u-005', count: 1, steps: 10, sampler: 'DDIM' })
    ).generate;
    await run(
      'Watch',
      `subscription Watch { generationProgress(job: "${job.id}", every: 5) { status step } }`,
      '"SUCCEEDED"',
    );
    await page.screenshot({ path: `${SHOTS}/05-graphiql.png` });
    expect(requests).toContain(`ws://127.0.0.1:${gateway.port}/graphql`);
    expect(await cspViolations()).toEqual([]);
  });

  it('nothing left 127.0.0.1: every request went to the gateway or was a data: URL, with no page error', () => {
    const elsewhere = requests.filter(
      (url) =>
        !url.startsWith(`${origin}/`) &&
        !url.startsWith(`ws://127.0.0.1:${gateway.port}/`) &&
        !url.startsWith('data:'),
    );
    expect(elsewhere).toEqual([]);
    expect(requests.length).toBeGreaterThan(10);
    expect(pageErrors).toEqual([]);
  });
});
