import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type DatabaseHandle } from '../../src/db/client.js';
import {
  type GraphQLResponse,
  SERVED_ACCESS,
  startDemoGateway,
  type TestGateway,
} from '../helpers/gateway.js';
import { collect } from '../helpers/subscriptions.js';
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
/** Where the page keeps its key (web/key.ts). */
const KEY_STORAGE = 'rebeca-gateway.key';
const KEY = /rbk_[A-Za-z0-9_-]{43}/;

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
declare const localStorage: { getItem(key: string): string | null };

/**
 * What a person sees, in headless Chromium against a real gateway on the demo world (what `npm start`
 * serves), with API keys on and mutations over WebSocket off, as in production: the page at `/` asking
 * for a key, then opened with an admin key from a `/#key=...` link (a user's likes, recommendations with
 * pictures, a generation watched to the end, the analyst tab's reports), GraphiQL at `/graphql` with the
 * same key, and a client key's view (its own users only, the analyst tab refused). Every request stays on
 * 127.0.0.1 and every GraphQL request carries a key. Screenshots go to test-output/browser/.
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
  /** The admin key the page gets from its link, and a client key pasted into its form. */
  let adminKey: string;
  let clientKey: string;
  /** Every URL the browser asked for, WebSockets included. */
  const requests: string[] = [];
  /**
   * The Authorization header of every POST to /graphql but GraphiQL's introspection (open to anyone; it
   * may go before the headers editor is up), and each graphql-ws connection_init payload.
   */
  const authorizations: Promise<string>[] = [];
  const connectionPayloads: unknown[] = [];
  const pageErrors: string[] = [];

  /** A browser context (its own localStorage: its own key) that records what the checks need. */
  async function newContext(): Promise<BrowserContext> {
    const created = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    created.on('request', (request) => {
      requests.push(request.url());
      const introspection = (request.postData() ?? '').includes('__schema');
      if (request.url() === `${origin}/graphql` && request.method() === 'POST' && !introspection) {
        authorizations.push(request.allHeaders().then((headers) => headers.authorization ?? '(none)'));
      }
    });
    created.on('weberror', (error) => pageErrors.push(error.error().message));
    created.on('page', (opened) =>
      opened.on('websocket', (socket) => {
        requests.push(socket.url());
        socket.on('framesent', ({ payload }) => {
          const message = JSON.parse(String(payload)) as { type?: string; payload?: unknown };
          if (message.type === 'connection_init') connectionPayloads.push(message.payload);
        });
      }),
    );
    // Content-Security-Policy violations, as the page sees them.
    await created.addInitScript(() => {
      const seen: string[] = [];
      window.cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (event) =>
        seen.push(`${event.violatedDirective} ${event.blockedURI}`),
      );
    });
    return created;
  }

  /** An operation over HTTP with the admin key (the test's own setup, beside the browser). */
  async function asAdmin<T, V>(document: TypedDocumentNode<T, V>, variables: V): Promise<T> {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await response.json()) as GraphQLResponse<T>;
    if (body.errors !== undefined || body.data === undefined || body.data === null) {
      throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    }
    return body.data;
  }

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    ({ database, gateway } = await startDemoGateway({ gateway: SERVED_ACCESS }));
    origin = `http://127.0.0.1:${gateway.port}`;
    adminKey = (await gateway.services.apiKeys.create({ name: 'browser', role: 'admin' })).key;
    clientKey = (await gateway.services.apiKeys.create({ name: 'browser client', role: 'client' })).key;
    expect(adminKey).toMatch(KEY);
    // Keys are on: without one the API answers nothing but introspection.
    const anonymous = (await (
      await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ users(first: 1) { totalCount } }' }),
      })
    ).json()) as GraphQLResponse<unknown>;
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    client = createClient({
      url: gateway.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: { authorization: `Bearer ${adminKey}` },
    });
    // A small report for the analyst tab (the figures at full size are in BENCHMARKS.md).
    const report = (
      await asAdmin(RunEvaluationDocument, {
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
    context = await newContext();
    page = await context.newPage();
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

  it('without a key, shows the form for one instead of any data, and says so when a key is refused', async () => {
    const before = requests.length;
    await page.goto(`${origin}/`);
    const form = page.locator('#key-panel');
    await form.waitFor();
    expect(await form.locator('label[for="key-input"]').textContent()).toMatch(
      /^Paste an API key \(the gateway printed an admin key at its first start;\s+npm run cli -- keys create makes more\)$/,
    );
    expect(await page.locator('#tab-user').isHidden()).toBe(true);
    expect(await page.locator('#tab-analyst').isHidden()).toBe(true);
    expect(await page.locator('#key-status').isHidden()).toBe(true);
    expect(await page.locator('.card, .report').count()).toBe(0);
    // With no key the page asks the API nothing.
    expect(requests.slice(before).filter((url) => url === `${origin}/graphql`)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/00-key-form.png`, fullPage: true });

    // Not a key at all: the form says so before asking the gateway.
    await page.fill('#key-input', 'hello');
    await page.click('#key-form button[type="submit"]');
    expect(await page.locator('#key-problem').textContent()).toMatch(/^That is not an API key/);
    // A well-formed key the gateway does not know: its answer (UNAUTHENTICATED), and the form again.
    const unknown = `rbk_${'A'.repeat(43)}`;
    await page.fill('#key-input', `Bearer ${unknown}`);
    await page.click('#key-form button[type="submit"]');
    await page.waitForFunction(
      () => document.querySelector('#key-problem')?.textContent?.includes('unknown or was revoked') ?? false,
    );
    expect(await page.locator('#key-problem').textContent()).toBe(
      'The gateway refused the key rbk_AAAAAA…: the API key is unknown or was revoked.',
    );
    expect(await form.isVisible()).toBe(true);
    expect(await page.locator('.card').count()).toBe(0);
  });

  it("opened from the link with a key: stores it, drops it from the address bar, shows a user's likes and recommendations with pictures, scores and reasons", async () => {
    // A fresh load (a same-document change of the fragment is the client test's).
    await page.goto('about:blank');
    await page.goto(`${origin}/#key=${adminKey}`);
    // The key left the address bar at once (history.replaceState), before the page asked anything.
    expect(page.url()).not.toContain('key=');
    expect(page.url()).not.toContain(adminKey);
    expect(await page.evaluate((name) => localStorage.getItem(name), KEY_STORAGE)).toBe(adminKey);
    await page.waitForSelector('#user option[value="u-003"]', { state: 'attached' });
    expect(page.url()).toMatch(new RegExp(`^${origin}/(#user=u-\\d{3})?$`));
    expect(await page.locator('#key-panel').isHidden()).toBe(true);
    expect(await page.locator('#key-role').textContent()).toBe(`admin key ${adminKey.slice(0, 10)}…`);
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
    // The report's page link, signed for the key that asked (`?access=<expiry>.<key id>.<mac>`), opens.
    const href = await report.locator('a').getAttribute('href');
    expect(href).toMatch(/^\/reports\/[0-9a-f-]{36}\?access=\d+\.[0-9a-f-]{36}\.[0-9a-f]{64}$/);
    expect((await fetch(new URL(href!, origin))).status).toBe(200);
    await page.waitForFunction(() => {
      const charts = [...document.querySelectorAll('.report .charts img')];
      return charts.length > 0 && charts.every((chart) => chart.complete && chart.naturalWidth > 0);
    });
    expect(page.url()).toBe(`${origin}/#analyst`);
    await page.screenshot({ path: `${SHOTS}/04-analyst.png`, fullPage: true });
    expect(await cspViolations()).toEqual([]);
  });

  it('GraphiQL at /graphql, its headers filled in with the stored key, runs a query over HTTP and a subscription over graphql-ws', async () => {
    const introspection = page.waitForResponse(
      (response) =>
        response.url() === `${origin}/graphql` && (response.request().postData() ?? '').includes('__schema'),
    );
    await page.goto(`${origin}/graphql`);
    const schema = (await (await introspection).json()) as { data?: { __schema?: unknown } };
    expect(schema.data?.__schema).toBeDefined();
    // The editor shows its default operations once GraphiQL has settled, the headers the stored key.
    await page.waitForFunction(
      () =>
        document
          .querySelector('.graphiql-query-editor .CodeMirror')
          ?.CodeMirror?.getValue()
          .includes('query Recommend') ?? false,
    );
    const headers = await page.evaluate(() =>
      [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')].map(
        (editor) => editor.CodeMirror?.getValue() ?? '',
      ),
    );
    expect(headers.map((text) => (text.trim().startsWith('{') ? JSON.parse(text) : text))).toContainEqual({
      Authorization: `Bearer ${adminKey}`,
    });
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
    // users wants an analyst or admin key: it answers only because the headers carry the admin key.
    await run('TwoUsers', 'query TwoUsers { users(first: 2) { totalCount } }', '"totalCount": 24');
    const job = (await asAdmin(GenerateDocument, { user: 'u-005', count: 1, steps: 10, sampler: 'DDIM' }))
      .generate;
    const sockets = connectionPayloads.length;
    await run(
      'Watch',
      `subscription Watch { generationProgress(job: "${job.id}", every: 5) { status step } }`,
      '"SUCCEEDED"',
    );
    // The subscription's socket carried the key in its connection payload.
    expect(connectionPayloads.slice(sockets)).toContainEqual(
      expect.objectContaining({ authorization: `Bearer ${adminKey}` }),
    );
    await page.screenshot({ path: `${SHOTS}/05-graphiql.png` });
    expect(requests).toContain(`ws://127.0.0.1:${gateway.port}/graphql`);
    expect(await cspViolations()).toEqual([]);
  });

  it('with a client key: names a user instead of listing them, sees their recommendations, and the analyst tab says plainly it is refused', async () => {
    // Another browser profile: its own localStorage, no key yet.
    const clientContext = await newContext();
    const clientPage = await clientContext.newPage();
    try {
      await clientPage.goto(`${origin}/`);
      await clientPage.locator('#key-panel').waitFor();
      await clientPage.fill('#key-input', clientKey);
      await clientPage.click('#key-form button[type="submit"]');
      await clientPage.locator('#key-status').waitFor();
      expect(await clientPage.locator('#key-role').textContent()).toBe(
        `client key ${clientKey.slice(0, 10)}…`,
      );
      // Query.users is for analysts and admins: the page asks for a user id instead of listing them.
      await clientPage.locator('#user-form').waitFor();
      expect(await clientPage.locator('#user-pick').isHidden()).toBe(true);
      expect(await clientPage.locator('#status').textContent()).toMatch(/may not list the users/);
      await clientPage.fill('#user-id', 'u-003');
      await clientPage.click('#user-form button[type="submit"]');
      await clientPage.waitForSelector('#recommendations-grid .card');
      expect(await clientPage.locator('#recommendations-grid .card').count()).toBe(12);
      expect(clientPage.url()).toBe(`${origin}/#user=u-003`);
      expect(await clientPage.locator('#generate').isEnabled()).toBe(true);

      await clientPage.click('#tab-button-analyst');
      const refusal = clientPage.locator('#reports .error[data-code="FORBIDDEN"]');
      await refusal.waitFor();
      expect(await refusal.textContent()).toMatch(
        /^Not with this API key: Query\.evaluationReports needs an analyst or an admin key; this is a client key \(FORBIDDEN\)$/,
      );
      expect(await clientPage.locator('.report').count()).toBe(0);
      await clientPage.screenshot({ path: `${SHOTS}/06-client-forbidden.png`, fullPage: true });

      // Forget the key: the form again, nothing stored.
      await clientPage.click('#forget-key');
      await clientPage.locator('#key-panel').waitFor();
      expect(await clientPage.evaluate((name) => localStorage.getItem(name), KEY_STORAGE)).toBeNull();
      expect(await clientPage.locator('#tab-analyst').isHidden()).toBe(true);
      expect(await clientPage.locator('.card, .report').count()).toBe(0);

      // The printed link opened where the page already is changes only the fragment: the page takes the
      // key all the same, drops it from the address bar, and starts again with it.
      await clientPage.goto(`${origin}/#key=${clientKey}`);
      await clientPage.locator('#key-status').waitFor();
      expect(await clientPage.locator('#key-role').textContent()).toBe(
        `client key ${clientKey.slice(0, 10)}…`,
      );
      expect(clientPage.url()).not.toContain('key=');
      expect(await clientPage.evaluate((name) => localStorage.getItem(name), KEY_STORAGE)).toBe(clientKey);
      expect(await clientPage.evaluate(() => window.cspViolations)).toEqual([]);
    } finally {
      await clientContext.close();
    }
  });

  it('every GraphQL request carried a key, over HTTP and WebSocket', async () => {
    const sent = await Promise.all(authorizations);
    expect(sent.length).toBeGreaterThan(10);
    expect(sent.filter((value) => !/^Bearer rbk_[A-Za-z0-9_-]{43}$/.test(value))).toEqual([]);
    expect(sent).toContain(`Bearer ${clientKey}`);
    expect(connectionPayloads.length).toBeGreaterThan(0);
    for (const payload of connectionPayloads) {
      expect(payload).toEqual({ authorization: expect.stringMatching(/^Bearer rbk_[A-Za-z0-9_-]{43}$/) });
    }
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
