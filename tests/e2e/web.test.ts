import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type GraphQLSchema, parse, specifiedRules, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { MAX_QUERY_COST } from '../../src/limits.js';
import { buildGatewaySchema } from '../../src/resolvers/schema.js';
import { limitValidationRules, queryCost } from '../../src/server/query-limits.js';
import { contentSecurityPolicy, createWebHandler, prefersHtml, WEB_DIR } from '../../src/server/web.js';
import * as operations from '../../web/operations.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8';

describe('which GET of /graphql is a browser asking for the IDE', () => {
  it.each([
    [BROWSER_ACCEPT, true],
    ['text/html', true],
    ['text/html, application/json;q=0.9', true],
    ['*/*', false],
    ['application/json', false],
    ['application/graphql-response+json, application/json', false],
    ['text/html, application/json', false],
    ['text/html;q=0.5, application/json', false],
    ['text/*, application/json;q=0.5', true],
    ['text/html;q=0', false],
    ['', false],
    [undefined, false],
  ])('%j -> %s', (accept, expected) => {
    expect(prefersHtml(accept)).toBe(expected);
  });
});

describe("the page's operations (web/operations.ts) against the gateway's schema and limits", () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildGatewaySchema();
  });

  const all = (features: operations.SchemaFeatures): [string, string, Record<string, unknown>][] => [
    ['Access', operations.ACCESS, {}],
    ['Features', operations.FEATURES, {}],
    ['Users', operations.USERS, {}],
    ['User', operations.USER, { user: 'u-1' }],
    ['Ratings', operations.ratingsQuery(features), { user: 'u-1', after: null }],
    ['Recommend', operations.recommendQuery(features), { user: 'u-1', first: 12 }],
    ['Generate', operations.GENERATE, { user: 'u-1', count: 8, sampler: 'DDPM', steps: 1000 }],
    ['Cancel', operations.CANCEL, { job: 'j' }],
    ['Progress', operations.progressSubscription(features), { job: 'j' }],
    ['JobItems', operations.JOB_ITEMS, { job: 'j' }],
    ['Reports', operations.REPORTS, {}],
    ...(features.itemImage
      ? [
          [
            'Pictures',
            operations.picturesQuery(12),
            Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`i${i}`, `w-${i}`])),
          ] as [string, string, Record<string, unknown>],
        ]
      : []),
  ];

  it('are valid, within depth, aliases and cost, with and without Item.image where the schema has it', () => {
    const itemType = schema.getType('Item') as { getFields?: () => Record<string, unknown> } | undefined;
    const variants = [false, ...('image' in (itemType?.getFields?.() ?? {}) ? [true] : [])];
    for (const itemImage of variants) {
      for (const [name, source, variables] of all({ itemImage })) {
        const document = parse(source);
        const errors = validate(schema, document, [...specifiedRules, ...limitValidationRules]);
        expect(errors.map((error) => `${name}: ${error.message}`)).toEqual([]);
        expect(queryCost(schema, document, variables, undefined), name).toBeLessThanOrEqual(MAX_QUERY_COST);
      }
    }
  });
});

describe('the web pages on a real gateway with API keys on (dist/web, built by the global setup)', () => {
  let database: DatabaseHandle;
  let gateway: TestGateway;
  let origin: string;

  beforeAll(async () => {
    database = await openDatabase({ dataDir: null });
    await database.migrate();
    gateway = await startTestGateway(database, {}, { gateway: { authDisabled: false } });
    origin = `http://127.0.0.1:${gateway.port}`;
  });
  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  async function assetOf(html: string, kind: 'js' | 'css'): Promise<string> {
    const match = new RegExp(`"(/web/[A-Za-z0-9_-]+\\.${kind})"`).exec(html);
    expect(match, `${kind} asset named in the page`).not.toBeNull();
    return match![1]!;
  }

  it('serves the page at / with no-store and a same-origin policy, and its hashed assets for a year', async () => {
    const page = await fetch(`${origin}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toBe(contentSecurityPolicy(`127.0.0.1:${gateway.port}`));
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain(
      `connect-src 'self' ws://127.0.0.1:${gateway.port} wss://127.0.0.1:${gateway.port};`,
    );
    expect(policy).not.toMatch(/unsafe-(inline|eval)/);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);

    const script = await fetch(`${origin}${await assetOf(html, 'js')}`, {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(script.headers.get('content-encoding')).toBeNull();
    const body = await script.text();
    expect(body.length).toBeGreaterThan(1000);

    // fetch asks for gzip and decodes it: the same bytes arrive, fewer travel.
    const css = await fetch(`${origin}${await assetOf(html, 'css')}`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('vary')).toBe('accept-encoding');

    const head = await fetch(`${origin}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${origin}/`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${origin}/web/nothing-here.js`)).status).toBe(404);
    // Only the built pages' assets: not the build record, not the HTML through /web.
    expect((await fetch(`${origin}/web/build.json`)).status).toBe(404);
    expect((await fetch(`${origin}/web/index.html`)).status).toBe(404);
    expect((await fetch(`${origin}/web/.hidden.js`)).status).toBe(404);
  });

  it('serves the gzipped asset when asked, with the same content', async () => {
    const html = await (await fetch(`${origin}/graphql`, { headers: { accept: BROWSER_ACCEPT } })).text();
    const path = await assetOf(html, 'js');
    const { request } = await import('node:http');
    const raw = await new Promise<{ encoding: string | undefined; bytes: number }>((resolve, reject) => {
      request(`${origin}${path}`, { headers: { 'accept-encoding': 'gzip, br' } }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], bytes }));
      })
        .on('error', reject)
        .end();
    });
    const plain = await (
      await fetch(`${origin}${path}`, { headers: { 'accept-encoding': 'identity' } })
    ).text();
    expect(raw.encoding).toBe('gzip');
    expect(raw.bytes).toBeLessThan(plain.length / 2);
  });

  it('gives a browser GraphiQL at /graphql and every other client the GraphQL endpoint', async () => {
    const ide = await fetch(`${origin}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
    expect(ide.status).toBe(200);
    expect(ide.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(ide.headers.get('cache-control')).toBe('no-store');
    expect(ide.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await ide.text();
    expect(html).toContain('id="graphiql"');
    expect(html).not.toMatch(/https?:\/\//);
    // Inline styles only with this response's nonce (GraphiQL's dialogs add one <style>).
    const nonce = /<meta name="csp-nonce" content="([A-Za-z0-9+/=]{24})"/.exec(html)?.[1];
    expect(nonce).toBeDefined();
    expect(ide.headers.get('content-security-policy')).toContain(`style-src 'self' 'nonce-${nonce}';`);
    const again = await (await fetch(`${origin}/graphql`, { headers: { accept: BROWSER_ACCEPT } })).text();
    expect(again).not.toContain(nonce);

    // An address-bar GET with a query opens the IDE with it (Apollo's landing page used to answer it).
    const withQuery = await fetch(`${origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: BROWSER_ACCEPT },
    });
    expect(withQuery.headers.get('content-type')).toBe('text/html; charset=utf-8');

    const get = await fetch(`${origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/graphql-response+json', 'apollo-require-preflight': 'true' },
    });
    expect(get.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
    const post = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/html, application/json;q=0.9' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(await post.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('serves the pages to anyone; the API behind them wants a key, and the page has a form for one', async () => {
    const unauthenticated = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ users(first: 1) { totalCount } }' }),
    });
    const body = (await unauthenticated.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const html = await (await fetch(`${origin}/`)).text();
    expect(html).toContain('id="key-form"');
    expect(html).toMatch(/Paste an API key[^<]*<code>npm run cli -- keys create<\/code>/);
    expect(html).toContain('id="forget-key"');
  });

  it("answers the page's key check (Access) so that it can tell the key's role from what is refused", async () => {
    /** What web/api.ts probeAccess reads: the first error's code, and which aliases were refused. */
    const access = async (role: 'client' | 'analyst' | 'admin' | null) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (role !== null) {
        const { key } = await gateway.services.apiKeys.create({ name: `web ${role}`, role });
        headers.authorization = `Bearer ${key}`;
      }
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: operations.ACCESS }),
      });
      const { errors = [] } = (await response.json()) as {
        errors?: { path?: string[]; extensions?: { code?: string } }[];
      };
      return errors.map((error) => `${error.path?.[0] ?? '-'} ${error.extensions?.code ?? '-'}`);
    };
    expect(await access('admin')).toEqual([]);
    expect(await access('analyst')).toEqual(['keys FORBIDDEN']);
    expect(await access('client')).toContain('reports FORBIDDEN');
    expect((await access(null))[0]).toBe('reports UNAUTHENTICATED');
  });

  it('the built folder holds the pages and hashed assets only', async () => {
    const files = await readdir(WEB_DIR);
    expect(files).toEqual(expect.arrayContaining(['index.html', 'graphiql.html', 'build.json']));
    expect(files.filter((file) => /^(app|graphiql)-[A-Z0-9]+\.(js|css)$/.test(file))).toHaveLength(4);
  });
});

describe('without a build', () => {
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    const handler = createWebHandler('/nonexistent/dist/web');
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      void handler(req, res, path).then((handled) => {
        if (!handled) res.writeHead(418).end('not the web handler');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('answers / with a 503 page that says to run npm run build:web, and leaves the API alone', async () => {
    const page = await fetch(`${origin}/`);
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('npm run build:web');
    const ide = await fetch(`${origin}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
    expect(ide.status).toBe(503);
    expect((await fetch(`${origin}/web/app-ABC.js`)).status).toBe(404);
    expect((await fetch(`${origin}/graphql`, { method: 'POST' })).status).toBe(418);
    expect((await fetch(`${origin}/healthz`)).status).toBe(418);
  });
});
