import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type DatabaseHandle } from '../../src/db/client.js';
import { getCatalogDim } from '../../src/db/queries/items.js';
import { generationJobs } from '../../src/db/schema.js';
import { MAX_ITEMS_PER_UPSERT, MAX_OPEN_JOBS_PER_KEY } from '../../src/limits.js';
import { testDatabases } from '../helpers/databases.js';
import { StepGate } from '../helpers/gate.js';
import { SERVED_ACCESS, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { firstResult, wsClient } from '../helpers/subscriptions.js';
import { importTinyDataset, TINY_MODEL_DIR } from '../helpers/tiny-world.js';

const overWs = (client: Client, query: string, variables?: Record<string, unknown>): Promise<Body> =>
  firstResult(client, { query, ...(variables === undefined ? {} : { variables }) }) as Promise<Body>;

/**
 * The anonymous attacks of issue 15, sent as an attacker would (real HTTP requests and graphql-ws
 * sockets against real gateways): each is now refused with its documented code, and nothing it tried to
 * change has changed.
 */

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string; limit?: string } }[];
}

interface Answer {
  status: number;
  body: Body;
}

function codes(body: Body): string[] {
  return (body.errors ?? []).map((error) => error.extensions?.code ?? 'none');
}

/** POST an operation with this Authorization header (a key alone is sent as `Bearer <key>`). */
async function post(
  url: string,
  authorization: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
): Promise<Answer> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json',
  };
  if (authorization !== undefined)
    headers.authorization = authorization.startsWith('rbk_') ? `Bearer ${authorization}` : authorization;
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

/**
 * Open a graphql-ws connection with this `authorization` in its payload and run one query: 'answered'
 * when it ran, else the close code the server ended the connection with.
 */
async function connectWith(url: string, authorization: string): Promise<'answered' | number> {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: { authorization },
  });
  try {
    return await new Promise<'answered' | number>((resolve, reject) => {
      client.subscribe(
        { query: '{ items(first: 1) { totalCount } }' },
        {
          next: () => resolve('answered'),
          complete: () => resolve('answered'),
          error: (error) => {
            const code = (error as { code?: unknown }).code;
            if (typeof code === 'number') resolve(code);
            else reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
          },
        },
      );
    });
  } finally {
    await client.dispose();
  }
}

const RATINGS_OF_ALL =
  '{ users(first: 20) { edges { node { id ratings(first: 20) { edges { node { score item { id } } } } } } } }';
const RATINGS_OF =
  'query($id: ID!) { user(id: $id) { id ratings(first: 100) { edges { node { score item { id } } } } } }';
const UPSERT = 'mutation($items: [ItemInput!]!) { upsertItems(items: $items) }';
const ITEM = 'query($id: ID!) { item(id: $id) { id title imageUrl embedding } }';
const ITEM_COUNT = '{ items(first: 1) { totalCount } }';
const GENERATE = 'mutation($user: ID!) { generate(user: $user, count: 1, steps: 2) { id status } }';
const JOB = 'query($id: ID!) { generationJob(id: $id) { id status } }';
const CANCEL = 'mutation($job: ID!) { cancelGeneration(job: $job) { id status } }';
const WATCH = 'subscription($job: ID!) { generationProgress(job: $job) { jobId status } }';
const RECOMMEND_GENERATED =
  'query($user: ID!) { recommend(user: $user, first: 3, includeGenerated: true) { pendingGeneration { id } } }';

describe('the attacks of issue 15 against a gateway with access control', () => {
  const engine = testDatabases[0]!;
  let database: DatabaseHandle;
  let emptyDatabase: DatabaseHandle;
  /** Tiny model, mutations over WebSocket off (the default); the gate holds generation steps when closed. */
  let gateway: TestGateway;
  /** Same database, mutations over WebSocket on. */
  let wsOn: TestGateway;
  /** An empty catalog, no model. */
  let empty: TestGateway;
  const gate = new StepGate();
  const clients: Client[] = [];
  const keys = {} as Record<
    'admin' | 'analyst' | 'client' | 'other' | 'boundU01' | 'emptyAdmin' | 'emptyClient',
    string
  >;
  let width = 0;

  function ws(target: TestGateway, key: string | undefined): Client {
    const client = wsClient(target.wsUrl, key);
    clients.push(client);
    return client;
  }

  async function dataOf(authorization: string, query: string, variables?: Record<string, unknown>) {
    const answer = await post(gateway.url, authorization, query, variables);
    expect(answer.body.errors, JSON.stringify(answer.body.errors)).toBeUndefined();
    return answer.body.data as Record<string, unknown>;
  }

  const ratingsOf = async (user: string) => dataOf(keys.admin, RATINGS_OF, { id: user });
  const itemCount = async () =>
    ((await dataOf(keys.admin, ITEM_COUNT)) as { items: { totalCount: number } }).items.totalCount;
  const embedding = (value: number) => Array.from({ length: width }, () => value);

  beforeAll(async () => {
    database = await engine.open();
    await importTinyDataset(database);
    gateway = await startTestGateway(
      database,
      { MODEL_DIR: TINY_MODEL_DIR },
      // Mutations over WebSocket as in production by default (WS_MUTATIONS=false).
      { wrapDenoiser: gate.wrap, gateway: SERVED_ACCESS },
    );
    wsOn = await startTestGateway(
      database,
      { MODEL_DIR: TINY_MODEL_DIR },
      { gateway: { authDisabled: false, webSocketMutations: true } },
    );
    emptyDatabase = await engine.open();
    empty = await startTestGateway(emptyDatabase, {}, { gateway: SERVED_ACCESS });
    const apiKeys = gateway.services.apiKeys;
    keys.admin = (await apiKeys.create({ name: 'admin', role: 'admin' })).key;
    keys.analyst = (await apiKeys.create({ name: 'analyst', role: 'analyst' })).key;
    keys.client = (await apiKeys.create({ name: 'client', role: 'client' })).key;
    keys.other = (await apiKeys.create({ name: 'other client', role: 'client' })).key;
    keys.boundU01 = (await apiKeys.create({ name: 'u01 only', role: 'client', users: ['u01'] })).key;
    keys.emptyAdmin = (await empty.services.apiKeys.create({ name: 'admin', role: 'admin' })).key;
    keys.emptyClient = (await empty.services.apiKeys.create({ name: 'client', role: 'client' })).key;
    width = (await getCatalogDim(gateway.services.db)) ?? 0;
    expect(width).toBeGreaterThan(0);
  });
  afterAll(async () => {
    gate.open();
    for (const client of clients) await client.dispose();
    await empty?.stop();
    await wsOn?.stop();
    await gateway?.stop();
    await emptyDatabase?.close();
    await database?.close();
  });

  it("(a) reading users' ratings: UNAUTHENTICATED without a key, FORBIDDEN for a client; a key bound to u01 cannot read or recommend for u02", async () => {
    const anonymous = await post(gateway.url, undefined, RATINGS_OF_ALL);
    expect(codes(anonymous.body)).toEqual(['UNAUTHENTICATED']);
    expect(anonymous.body.data ?? null).toBeNull();
    const client = await post(gateway.url, keys.client, RATINGS_OF_ALL);
    expect(codes(client.body)).toEqual(['FORBIDDEN']);
    expect(client.body.data ?? null).toBeNull();
    // An analyst reads them (the same query is not refused for its shape).
    await dataOf(keys.analyst, RATINGS_OF_ALL);

    const own = (await dataOf(keys.boundU01, RATINGS_OF, { id: 'u01' })) as { user: { id: string } };
    expect(own.user.id).toBe('u01');
    const foreign = await post(gateway.url, keys.boundU01, RATINGS_OF, { id: 'u02' });
    expect(codes(foreign.body)).toEqual(['FORBIDDEN']);
    expect(foreign.body.data?.user ?? null).toBeNull();
    const foreignWs = await overWs(ws(gateway, keys.boundU01), RATINGS_OF, { id: 'u02' });
    expect(codes(foreignWs)).toEqual(['FORBIDDEN']);
    const recommend = await post(
      gateway.url,
      keys.boundU01,
      '{ recommend(user: "u02", first: 3) { fallback } }',
    );
    expect(codes(recommend.body)).toEqual(['FORBIDDEN']);
    expect(recommend.body.errors?.[0]?.message).toContain('u02');
  });

  it("(b) rewriting a user's ratings: UNAUTHENTICATED without a key, FORBIDDEN for a key bound to another user; the ratings are unchanged", async () => {
    const before = await ratingsOf('u02');
    const edges = (
      before as { user: { ratings: { edges: { node: { score: number; item: { id: string } } }[] } } }
    ).user.ratings.edges;
    const target = edges[0]!.node;
    const rate =
      'mutation($item: ID!, $score: Int!) { rateItem(user: "u02", item: $item, score: $score) { score } }';
    const variables = { item: target.item.id, score: target.score === 5 ? 1 : 5 };
    const anonymous = await post(gateway.url, undefined, rate, variables);
    expect(codes(anonymous.body)).toEqual(['UNAUTHENTICATED']);
    const bound = await post(gateway.url, keys.boundU01, rate, variables);
    expect(codes(bound.body)).toEqual(['FORBIDDEN']);
    const generate = await post(gateway.url, keys.boundU01, GENERATE, { user: 'u02' });
    expect(codes(generate.body)).toEqual(['FORBIDDEN']);
    expect(await ratingsOf('u02')).toEqual(before);
  });

  it('(c) creating users: UNAUTHENTICATED without a key (no row), FORBIDDEN for a key bound to other users', async () => {
    const count = async () =>
      ((await dataOf(keys.admin, '{ users(first: 1) { totalCount } }')) as { users: { totalCount: number } })
        .users.totalCount;
    const before = await count();
    const create = 'mutation($id: ID!) { createUser(id: $id) { id } }';
    const anonymous = await post(gateway.url, undefined, create, { id: 'squatter' });
    expect(codes(anonymous.body)).toEqual(['UNAUTHENTICATED']);
    const bound = await post(gateway.url, keys.boundU01, create, { id: 'squatter' });
    expect(codes(bound.body)).toEqual(['FORBIDDEN']);
    expect(await count()).toBe(before);
    expect(await dataOf(keys.admin, '{ user(id: "squatter") { id } }')).toEqual({ user: null });
  });

  it('(d) upserting an item with a javascript: imageUrl: UNAUTHENTICATED without a key, FORBIDDEN for a client; the catalog is unchanged', async () => {
    const before = await itemCount();
    const items = [
      {
        id: 'evil',
        title: 'click me',
        imageUrl: 'javascript:alert(document.cookie)',
        embedding: embedding(0.1),
      },
    ];
    const anonymous = await post(gateway.url, undefined, UPSERT, { items });
    expect(codes(anonymous.body)).toEqual(['UNAUTHENTICATED']);
    const client = await post(gateway.url, keys.client, UPSERT, { items });
    expect(codes(client.body)).toEqual(['FORBIDDEN']);
    expect(await itemCount()).toBe(before);
    expect(await dataOf(keys.admin, ITEM, { id: 'evil' })).toEqual({ item: null });
  });

  it('(e) overwriting existing items with a client or an analyst key: FORBIDDEN, the item unchanged', async () => {
    const before = await dataOf(keys.admin, ITEM, { id: 'img0000' });
    const items = [
      { id: 'img0000', title: 'defaced', imageUrl: 'https://evil.example/x.png', embedding: embedding(0.5) },
    ];
    for (const key of [keys.client, keys.analyst, keys.boundU01]) {
      const answer = await post(gateway.url, key, UPSERT, { items });
      expect(codes(answer.body)).toEqual(['FORBIDDEN']);
    }
    expect(await dataOf(keys.admin, ITEM, { id: 'img0000' })).toEqual(before);
  });

  it('(f) aliases of upsertItems near the per-call cap, even with an admin key: refused by the limits, nothing written', async () => {
    const before = await itemCount();
    const near = MAX_ITEMS_PER_UPSERT - 10;
    const attempt = async (aliases: number) => {
      const declared = Array.from({ length: aliases }, (_, a) => `$i${a}: [ItemInput!]!`).join(', ');
      const fields = Array.from({ length: aliases }, (_, a) => `a${a}: upsertItems(items: $i${a})`).join(' ');
      const variables = Object.fromEntries(
        Array.from({ length: aliases }, (_, a) => [
          `i${a}`,
          Array.from({ length: near }, (_, k) => ({
            id: `flood-${aliases}-${a}-${k}`,
            embedding: embedding(0.2),
          })),
        ]),
      );
      return post(gateway.url, keys.admin, `mutation(${declared}) { ${fields} }`, variables);
    };
    const twenty = await attempt(20);
    expect(twenty.status).toBe(400);
    expect(codes(twenty.body)).toContain('GRAPHQL_VALIDATION_FAILED');
    expect(['aliases', 'cost']).toContain(twenty.body.errors?.[0]?.extensions?.limit);
    // Within the alias limit, the cost limit alone refuses it: two calls near the cap already do.
    for (const aliases of [2, 12]) {
      const answer = await attempt(aliases);
      expect(answer.status).toBe(400);
      expect(codes(answer.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(answer.body.errors?.[0]?.extensions?.limit).toBe('cost');
    }
    expect(await itemCount()).toBe(before);
  });

  it('(g) fixing the width of an EMPTY catalog: refused without a key and with a client or analyst key; the width stays unset', async () => {
    const analyst = (await empty.services.apiKeys.create({ name: 'analyst', role: 'analyst' })).key;
    const items = [{ id: 'first', embedding: [0.1, 0.2, 0.3] }];
    expect(codes((await post(empty.url, undefined, UPSERT, { items })).body)).toEqual(['UNAUTHENTICATED']);
    expect(codes((await post(empty.url, keys.emptyClient, UPSERT, { items })).body)).toEqual(['FORBIDDEN']);
    expect(codes((await post(empty.url, analyst, UPSERT, { items })).body)).toEqual(['FORBIDDEN']);
    expect(await getCatalogDim(empty.services.db)).toBeNull();
    // The admin's first import sets it, to its own width (not the attacker's 3).
    const admin = await post(empty.url, keys.emptyAdmin, UPSERT, {
      items: [{ id: 'first', embedding: [0.1, 0.2, 0.3, 0.4, 0.5] }],
    });
    expect(admin.body).toEqual({ data: { upsertItems: 1 } });
    expect(await getCatalogDim(empty.services.db)).toBe(5);
  });

  it("(h) another client key cannot read, watch or cancel a client's job; the owner and an admin can, an analyst reads and watches only", async () => {
    gate.close();
    try {
      const job = ((await dataOf(keys.client, GENERATE, { user: 'u05' })) as { generate: { id: string } })
        .generate.id;
      const otherWs = ws(gateway, keys.other);
      expect(codes((await post(gateway.url, keys.other, JOB, { id: job })).body)).toEqual(['FORBIDDEN']);
      expect(codes(await overWs(otherWs, JOB, { id: job }))).toEqual(['FORBIDDEN']);
      const watched = await overWs(otherWs, WATCH, { job });
      expect(codes(watched)).toEqual(['FORBIDDEN']);
      expect(watched.errors?.[0]?.message).toBe('this job was started by another API key');
      expect(codes((await post(gateway.url, keys.other, CANCEL, { job })).body)).toEqual(['FORBIDDEN']);
      expect(codes((await post(gateway.url, keys.analyst, CANCEL, { job })).body)).toEqual(['FORBIDDEN']);
      const state = (await dataOf(keys.admin, JOB, { id: job })) as { generationJob: { status: string } };
      expect(['QUEUED', 'RUNNING']).toContain(state.generationJob.status);

      for (const key of [keys.client, keys.analyst, keys.admin]) {
        expect(await dataOf(key, JOB, { id: job })).toMatchObject({ generationJob: { id: job } });
        const event = await overWs(ws(gateway, key), WATCH, { job });
        expect(event.errors).toBeUndefined();
        expect(event.data).toMatchObject({ generationProgress: { jobId: job } });
      }
      expect(await dataOf(keys.client, CANCEL, { job })).toMatchObject({
        cancelGeneration: { id: job, status: 'CANCELLED' },
      });
      const second = ((await dataOf(keys.client, GENERATE, { user: 'u05' })) as { generate: { id: string } })
        .generate.id;
      expect(await dataOf(keys.admin, CANCEL, { job: second })).toMatchObject({
        cancelGeneration: { id: second, status: 'CANCELLED' },
      });

      // A job id seen in recommend's pendingGeneration is no key to it: each key is handed its own job.
      const pendingOf = async (key: string) =>
        (
          (await dataOf(key, RECOMMEND_GENERATED, { user: 'u06' })) as {
            recommend: { pendingGeneration: { id: string } | null };
          }
        ).recommend.pendingGeneration?.id;
      const mine = await pendingOf(keys.client);
      expect(mine).toBeDefined();
      const theirs = await pendingOf(keys.other);
      expect(theirs).toBeDefined();
      expect(theirs).not.toBe(mine);
      expect(codes((await post(gateway.url, keys.other, JOB, { id: mine })).body)).toEqual(['FORBIDDEN']);
      expect(codes(await overWs(otherWs, WATCH, { job: mine }))).toEqual(['FORBIDDEN']);
      expect(codes((await post(gateway.url, keys.other, CANCEL, { job: mine })).body)).toEqual(['FORBIDDEN']);
      expect(await dataOf(keys.client, JOB, { id: mine })).toMatchObject({ generationJob: { id: mine } });
      await dataOf(keys.client, CANCEL, { job: mine });
      await dataOf(keys.other, CANCEL, { job: theirs });
    } finally {
      gate.open();
    }
  });

  it(`(i) one client key cannot fill every user's slots: after ${MAX_OPEN_JOBS_PER_KEY} unfinished jobs it gets RESOURCE_EXHAUSTED (limit 'key'), another key still generates`, async () => {
    gate.close();
    const filler = (await gateway.services.apiKeys.create({ name: 'filler', role: 'client' })).key;
    const started: { key: string; id: string }[] = [];
    try {
      const users = ['u00', 'u03', 'u04', 'u07'];
      for (let i = 0; i < MAX_OPEN_JOBS_PER_KEY; i += 1) {
        const job = (await dataOf(filler, GENERATE, { user: users[i % users.length] })) as {
          generate: { id: string; status: string };
        };
        expect(job.generate.status).toBe('QUEUED');
        started.push({ key: filler, id: job.generate.id });
      }
      const refused = await post(gateway.url, filler, GENERATE, { user: 'u08' });
      expect(codes(refused.body)).toEqual(['RESOURCE_EXHAUSTED']);
      expect(refused.body.errors?.[0]?.extensions?.limit).toBe('key');
      const another = (await dataOf(keys.other, GENERATE, { user: 'u08' })) as { generate: { id: string } };
      started.push({ key: keys.other, id: another.generate.id });
    } finally {
      for (const job of started) await post(gateway.url, job.key, CANCEL, { job: job.id });
      gate.open();
    }
  });

  it("(j) an analyst's recommend(includeGenerated: true) starts no job; a client's does, and owns it", async () => {
    const jobs = () => gateway.services.db.$count(generationJobs);
    const before = await jobs();
    const analyst = (await dataOf(keys.analyst, RECOMMEND_GENERATED, { user: 'u10' })) as {
      recommend: { pendingGeneration: { id: string } | null };
    };
    expect(analyst.recommend.pendingGeneration).toBeNull();
    expect(await jobs()).toBe(before);
    const client = (await dataOf(keys.client, RECOMMEND_GENERATED, { user: 'u10' })) as {
      recommend: { pendingGeneration: { id: string } | null };
    };
    const pending = client.recommend.pendingGeneration?.id;
    expect(pending).toBeDefined();
    expect(await jobs()).toBe(before + 1);
    expect(await dataOf(keys.client, JOB, { id: pending })).toMatchObject({ generationJob: { id: pending } });
    expect(codes((await post(gateway.url, keys.other, JOB, { id: pending })).body)).toEqual(['FORBIDDEN']);
  });

  it('(k) a revoked key stops working at once on the same gateway; a revoked or garbage key in a WebSocket payload closes it with 4403', async () => {
    const created = (await dataOf(
      keys.admin,
      'mutation { createApiKey(input: { name: "soon revoked", role: CLIENT }) { key apiKey { id } } }',
    )) as { createApiKey: { key: string; apiKey: { id: string } } };
    const { key, apiKey } = created.createApiKey;
    // Used (and so remembered) over HTTP and over an open socket before the revocation.
    await dataOf(key, ITEM_COUNT);
    let connections = 0;
    // One socket held open across the revocation (not closed after each operation).
    const socket = createClient({
      url: gateway.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazyCloseTimeout: 60_000,
      connectionParams: { authorization: `Bearer ${key}` },
      on: { connected: () => (connections += 1) },
    });
    clients.push(socket);
    expect((await overWs(socket, ITEM_COUNT)).errors).toBeUndefined();
    expect(await connectWith(gateway.wsUrl, `Bearer ${key}`)).toBe('answered');

    const revoked = (await dataOf(keys.admin, 'mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', {
      id: apiKey.id,
    })) as { revokeApiKey: { revokedAt: string | null } };
    expect(revoked.revokeApiKey.revokedAt).not.toBeNull();

    const http = await post(gateway.url, key, ITEM_COUNT);
    expect(codes(http.body)).toEqual(['UNAUTHENTICATED']);
    expect(http.body.errors?.[0]?.message).toMatch(/revoked/);
    expect(codes(await overWs(socket, ITEM_COUNT))).toEqual(['UNAUTHENTICATED']);
    expect(connections).toBe(1);
    expect(await connectWith(gateway.wsUrl, `Bearer ${key}`)).toBe(4403);
    for (const garbage of [
      'Bearer garbage',
      `Bearer rbk_${'A'.repeat(43)}`,
      'Basic dXNlcjpwYXNz',
      keys.admin, // a real key without "Bearer"
    ]) {
      expect(await connectWith(gateway.wsUrl, garbage), garbage).toBe(4403);
    }
    // No key at all gets a socket on which operations answer UNAUTHENTICATED.
    expect(codes(await overWs(ws(gateway, undefined), ITEM_COUNT))).toEqual(['UNAUTHENTICATED']);
  });

  it('(l) mutations over WebSocket are FORBIDDEN by default, even for an admin, and run with webSocketMutations on', async () => {
    expect(loadConfig({}).WS_MUTATIONS).toBe(false);
    const create = 'mutation($id: ID!) { createUser(id: $id) { id } }';
    const refused = await overWs(ws(gateway, keys.admin), create, { id: 'over-ws' });
    expect(codes(refused)).toEqual(['FORBIDDEN']);
    expect(refused.errors?.[0]?.message).toMatch(/WebSocket/);
    expect(await dataOf(keys.admin, '{ user(id: "over-ws") { id } }')).toEqual({ user: null });
    const allowed = await overWs(ws(wsOn, keys.admin), create, { id: 'over-ws' });
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data).toEqual({ createUser: { id: 'over-ws' } });
    // A role the table leaves out is still refused there.
    expect(codes(await overWs(ws(wsOn, keys.analyst), create, { id: 'over-ws-2' }))).toEqual(['FORBIDDEN']);
  });

  it('(m) a malformed Authorization header is UNAUTHENTICATED, and the answer never echoes it', async () => {
    const secret = 'hunter2-s3cr3t-value';
    for (const header of [
      `Basic ${Buffer.from(`admin:${secret}`).toString('base64')}`,
      'Bearer',
      `Bearer ${secret}`,
      `Bearer ${secret} ${secret}`,
      `Token ${keys.admin}`,
      `Bearer rbk_${secret.padEnd(43, 'x')}`,
      `Bearer rbk_${'B'.repeat(43)}`,
    ]) {
      const answer = await post(gateway.url, header, ITEM_COUNT);
      expect(codes(answer.body), header).toEqual(['UNAUTHENTICATED']);
      expect(answer.body.data ?? null).toBeNull();
      const text = JSON.stringify(answer.body);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(keys.admin);
      expect(text).not.toContain(Buffer.from(`admin:${secret}`).toString('base64'));
      expect(text).not.toContain('B'.repeat(43));
    }
  });

  it('a subscription sent over HTTP without a key is UNAUTHENTICATED, as over WebSocket', async () => {
    const answer = await post(
      gateway.url,
      undefined,
      'subscription { generationProgress(job: "00000000-0000-0000-0000-000000000000") { step } }',
    );
    expect(codes(answer.body)).toEqual(['UNAUTHENTICATED']);
  });

  it('accepts only http, https and data:image URLs for item images (admin key)', async () => {
    const refused = [
      'javascript:alert(document.cookie)',
      'JavaScript:alert(1)',
      '  javascript:alert(1)',
      'file:///etc/passwd',
      'world:x',
      'data:text/html,<script>alert(1)</script>',
    ];
    const accepted = [
      'https://cdn.example/a.png',
      'http://cdn.example/b.png',
      'data:image/png;base64,iVBORw0KGgo=',
    ];
    const before = await itemCount();
    for (const [index, imageUrl] of refused.entries()) {
      const answer = await post(gateway.url, keys.admin, UPSERT, {
        items: [{ id: `bad-url-${index}`, imageUrl, embedding: embedding(0.3) }],
      });
      expect(codes(answer.body), imageUrl).toEqual(['BAD_USER_INPUT']);
      expect(await dataOf(keys.admin, ITEM, { id: `bad-url-${index}` })).toEqual({ item: null });
    }
    expect(await itemCount()).toBe(before);
    for (const [index, imageUrl] of accepted.entries()) {
      const answer = await post(gateway.url, keys.admin, UPSERT, {
        items: [{ id: `good-url-${index}`, imageUrl, embedding: embedding(0.3) }],
      });
      expect(answer.body, imageUrl).toEqual({ data: { upsertItems: 1 } });
      expect(await dataOf(keys.admin, ITEM, { id: `good-url-${index}` })).toMatchObject({
        item: { imageUrl },
      });
    }
  });
});
