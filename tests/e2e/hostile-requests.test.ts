import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { createLogger } from '../../src/lib/logger.js';
import { MAX_OPERATIONS_PER_SOCKET, MAX_QUERY_TOKENS } from '../../src/limits.js';
import { testDatabases } from '../helpers/databases.js';
import { insertIdleJob, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { importTinyDataset, TINY_MODEL_DIR } from '../helpers/tiny-world.js';

/**
 * The reproductions of the robustness issue, sent as a hostile client would: each is refused with a
 * stable code on both transports, quickly, and the gateway keeps answering everyone else.
 */

interface Answer {
  status: number;
  body: {
    data?: unknown;
    errors?: { message: string; extensions?: { code?: string; limit?: string } }[];
  };
}

async function post(
  gateway: TestGateway,
  query: string,
  variables?: Record<string, unknown>,
): Promise<Answer> {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

function codes(answer: Answer['body']): string[] {
  return (answer.errors ?? []).map((error) => error.extensions?.code ?? 'none');
}

/** One operation over graphql-ws: its result, or the errors the server sent for it. */
function overWs(client: Client, query: string, variables?: Record<string, unknown>): Promise<Answer['body']> {
  return new Promise((resolve, reject) => {
    let result: Answer['body'] = {};
    client.subscribe(
      { query, ...(variables === undefined ? {} : { variables }) },
      {
        next: (value) => {
          result = value as Answer['body'];
        },
        error: (error) => {
          if (Array.isArray(error)) resolve({ errors: error as Answer['body']['errors'] });
          else reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        },
        complete: () => resolve(result),
      },
    );
  });
}

/** The longest /healthz took while `work` ran. */
async function healthDuring(gateway: TestGateway, work: Promise<unknown>): Promise<number> {
  let done = false;
  void work.finally(() => (done = true));
  let worst = 0;
  const health = gateway.url.replace('/graphql', '/healthz');
  do {
    const started = performance.now();
    await fetch(health);
    worst = Math.max(worst, performance.now() - started);
  } while (!done);
  return worst;
}

const NESTED_RATINGS =
  '{ users(first: 500) { edges { node { ratings(first: 500) { edges { node { user { ratings(first: 500) { totalCount } } } } } } } } }';

const COSTLY =
  '{ users(first: 500) { edges { node { ratings(first: 500) { edges { node { item { id } } } } } } } }';

const DEEP =
  '{ users(first: 1) { edges { node { ratings(first: 1) { edges { node { user { ratings(first: 1) { edges { node { user { id } } } } } } } } } } } }';

describe('hostile requests on one gateway', () => {
  const engine = testDatabases[0]!;
  let database: DatabaseHandle;
  let gateway: TestGateway;
  let ws: Client;

  beforeAll(async () => {
    database = await engine.open();
    await importTinyDataset(database);
    gateway = await startTestGateway(database, { MODEL_DIR: TINY_MODEL_DIR });
    ws = createClient({ url: gateway.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  });
  afterAll(async () => {
    await ws?.dispose();
    await gateway?.stop();
    await database?.close();
  });

  it('refuses the 150-byte nested-list query at once, on both transports, and /healthz stays fast', async () => {
    const work = post(gateway, NESTED_RATINGS);
    const worstHealth = await healthDuring(gateway, work);
    const answer = await work;
    expect(answer.status).toBe(400);
    expect(codes(answer.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(['cost', 'depth']).toContain(answer.body.errors?.[0]?.extensions?.limit);
    expect(worstHealth).toBeLessThan(1_000);
    for (const query of [NESTED_RATINGS, COSTLY]) {
      const viaWs = await overWs(ws, query);
      expect(codes(viaWs)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    }
    const costly = await post(gateway, COSTLY);
    expect(costly.body.errors?.[0]?.extensions?.limit).toBe('cost');
  });

  it('counts list sizes given as variables, not only literals', async () => {
    const query =
      'query($n: Int!) { users(first: $n) { edges { node { ratings(first: $n) { edges { node { item { id } } } } } } } }';
    expect((await post(gateway, query, { n: 500 })).body.errors?.[0]?.extensions?.limit).toBe('cost');
    const small = await post(gateway, query, { n: 2 });
    expect(small.body.errors).toBeUndefined();
  });

  it('refuses depth and aliases beyond the limits, with the limit named', async () => {
    const deep = await post(gateway, DEEP);
    expect(codes(deep.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(deep.body.errors?.[0]?.extensions?.limit).toBe('depth');
    const aliases = Array.from(
      { length: 40 },
      (_, i) => `a${i}: recommend(user: "u0", first: 200) { items { score } }`,
    );
    const many = await post(gateway, `{ ${aliases.join(' ')} }`);
    expect(codes(many.body)).toContain('GRAPHQL_VALIDATION_FAILED');
    expect(many.body.errors?.some((error) => error.extensions?.limit === 'aliases')).toBe(true);
    const viaWs = await overWs(ws, DEEP);
    expect(viaWs.errors?.[0]?.extensions?.limit).toBe('depth');
  });

  it('refuses a document over the token limit as a parse failure', async () => {
    const fields = Array.from({ length: MAX_QUERY_TOKENS }, () => '__typename').join(' ');
    const answer = await post(gateway, `{ ${fields} }`);
    expect(codes(answer.body)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(answer.body.errors?.[0]?.message.length).toBeLessThan(600);
  });

  it('refuses generationJob -> items -> job -> items -> nearestItems by cost (it scanned the catalog per item)', async () => {
    const query = `{ generationJob(id: "00000000-0000-0000-0000-000000000000") {
      items { job { items { job { items { nearestItems(first: 100) { cosine } } } } } } } }`;
    const answer = await post(gateway, query);
    expect(answer.body.errors?.[0]?.extensions?.limit).toBe('cost');
  });

  it('gives WebSocket clients the codes HTTP gives, and a syntax error fails the operation, not the socket', async () => {
    const parse = await overWs(ws, '{ users(first: ');
    expect(codes(parse)).toEqual(['GRAPHQL_PARSE_FAILED']);
    const unknown = await overWs(ws, '{ nosuchfield }');
    expect(codes(unknown)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const badVariable = await overWs(ws, 'query($n: Int!) { users(first: $n) { totalCount } }', {
      n: 'many',
    });
    expect(codes(badVariable)).toEqual(['BAD_USER_INPUT']);
    // The socket is still open: the next operation on it runs.
    const fine = await overWs(ws, '{ users(first: 1) { totalCount } }');
    expect(fine.errors).toBeUndefined();
    expect(fine.data).toMatchObject({ users: { totalCount: expect.any(Number) } });
  });

  it('checks ids on every lookup: NUL, 1 MiB and lone surrogates are BAD_USER_INPUT, never echoed', async () => {
    const hostile = ['a\u0000b', 'x'.repeat(1024 * 1024), 'u\uD800', 'two words'];
    for (const id of hostile) {
      for (const answer of [
        (await post(gateway, 'query($id: ID!) { user(id: $id) { id } }', { id })).body,
        await overWs(ws, 'query($id: ID!) { user(id: $id) { id } }', { id }),
        (await post(gateway, 'mutation($id: ID!) { createUser(id: $id) { id } }', { id })).body,
        (await post(gateway, 'query($id: ID!) { recommend(user: $id) { items { score } } }', { id })).body,
      ]) {
        expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
        expect(JSON.stringify(answer).length).toBeLessThan(1_000);
      }
    }
    // Two ids that differ only by a lone surrogate used to become one user.
    const users = (await post(gateway, '{ users(first: 500) { totalCount } }')).body.data as {
      users: { totalCount: number };
    };
    const before = users.users.totalCount;
    await post(gateway, 'mutation($id: ID!) { createUser(id: $id) { id } }', { id: 'twin\uDC00' });
    await post(gateway, 'mutation($id: ID!) { createUser(id: $id) { id } }', { id: 'twin\uDC01' });
    const after = (await post(gateway, '{ users(first: 500) { totalCount } }')).body.data as typeof users;
    expect(after.users.totalCount).toBe(before);
  });

  it('answers values PostgreSQL cannot store as BAD_USER_INPUT: float32 overflow, NUL titles, long cursors', async () => {
    const upsert = 'mutation($items: [ItemInput!]!) { upsertItems(items: $items) }';
    const width = (
      (await post(gateway, '{ items(first: 1) { edges { node { embedding } } } }')).body.data as {
        items: { edges: { node: { embedding: number[] } }[] };
      }
    ).items.edges[0]!.node.embedding.length;
    const embedding = Array.from({ length: width }, () => 0.1);
    const huge = await post(gateway, upsert, {
      items: [{ id: 'huge', embedding: [1e300, ...embedding.slice(1)] }],
    });
    expect(codes(huge.body)).toEqual(['BAD_USER_INPUT']);
    const nul = await post(gateway, upsert, { items: [{ id: 'nul', title: 'a\u0000b', embedding }] });
    expect(codes(nul.body)).toEqual(['BAD_USER_INPUT']);
    const cursor = Buffer.from(`k:${'9'.repeat(25)}`).toString('base64url');
    const page = await post(
      gateway,
      'query($after: String) { users(first: 1, after: $after) { totalCount } }',
      {
        after: cursor,
      },
    );
    expect(codes(page.body)).toEqual(['BAD_USER_INPUT']);
  });

  it('bounds the items one request writes: 10 aliases of the 1,000-item cap are refused, nothing written', async () => {
    const width = (
      (await post(gateway, '{ items(first: 1) { totalCount edges { node { embedding } } } }')).body.data as {
        items: { totalCount: number; edges: { node: { embedding: number[] } }[] };
      }
    ).items;
    const embedding = width.edges[0]!.node.embedding;
    const aliases = Array.from({ length: 10 }, (_, a) => `a${a}: upsertItems(items: $i${a})`).join(' ');
    const declared = Array.from({ length: 10 }, (_, a) => `$i${a}: [ItemInput!]!`).join(', ');
    const variables = Object.fromEntries(
      Array.from({ length: 10 }, (_, a) => [
        `i${a}`,
        Array.from({ length: 1000 }, (_, k) => ({ id: `bulk-${a}-${k}`, embedding })),
      ]),
    );
    const answer = await post(gateway, `mutation(${declared}) { ${aliases} }`, variables);
    expect(codes(answer.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(answer.body.errors?.[0]?.extensions?.limit).toBe('cost');
    const after = (await post(gateway, '{ items(first: 1) { totalCount } }')).body.data as {
      items: { totalCount: number };
    };
    expect(after.items.totalCount).toBe(width.totalCount);
    // One call at the cap still fits.
    const one = await post(gateway, 'mutation($i: [ItemInput!]!) { upsertItems(items: $i) }', {
      i: Array.from({ length: 1000 }, (_, k) => ({ id: `bulk-one-${k}`, embedding })),
    });
    expect(one.body.errors).toBeUndefined();
  });

  it('caps the operations one WebSocket may hold open', async () => {
    const client = createClient({
      url: gateway.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
    });
    // A job nobody runs: its watchers stay subscribed.
    const user = (
      (await post(gateway, '{ users(first: 1) { edges { node { id } } } }')).body.data as {
        users: { edges: { node: { id: string } }[] };
      }
    ).users.edges[0]!.node.id;
    const job = (await insertIdleJob(gateway, user)).id;
    const errors: unknown[] = [];
    const unsubscribes = Array.from({ length: MAX_OPERATIONS_PER_SOCKET + 5 }, () =>
      client.subscribe(
        { query: `subscription { generationProgress(job: "${job}") { step } }` },
        { next: () => undefined, error: (error) => errors.push(error), complete: () => undefined },
      ),
    );
    await expect.poll(() => errors.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
    const exhausted = errors.filter(
      (error) =>
        Array.isArray(error) &&
        (error[0] as { extensions?: { code?: string } }).extensions?.code === 'RESOURCE_EXHAUSTED',
    );
    expect(exhausted.length).toBeGreaterThanOrEqual(5);
    for (const unsubscribe of unsubscribes) unsubscribe();
    await client.dispose();
  });

  it('holds at most 256 MiB of unfinished bodies: the fifth slow 63 MiB upload gets 503, not the heap', async () => {
    const length = 63 * 1024 * 1024;
    const sent = 60 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const uploads = Array.from({ length: 5 }, () => {
      const socket = connect(gateway.port, '127.0.0.1');
      let answer = '';
      socket.on('data', (data: Buffer) => (answer += data.toString()));
      socket.on('error', () => undefined);
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
      );
      return { socket, answer: () => answer };
    });
    // Each sends 60 of its 63 MiB and then waits: a slow client holding a body open.
    for (let offset = 0; offset < sent; offset += chunk.length) {
      for (const upload of uploads) upload.socket.write(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await expect
      .poll(() => uploads.filter((upload) => upload.answer().startsWith('HTTP/1.1 503')).length, {
        timeout: 20_000,
      })
      .toBeGreaterThanOrEqual(1);
    expect(uploads.some((upload) => upload.answer() === '')).toBe(true);
    for (const upload of uploads) upload.socket.destroy();
    expect((await fetch(gateway.url.replace('/graphql', '/healthz'))).status).toBe(200);
  });

  it('closes a WebSocket whose message is over the HTTP body limit (1009), without parsing it', async () => {
    const socket = new WebSocket(gateway.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(Buffer.alloc(64 * 1024 * 1024 + 1, 0x20));
    expect(await closed).toBe(1009);
  });
});

describe('the gateway stops work that ran out of time', () => {
  const engine = testDatabases[0]!;
  let database: DatabaseHandle;
  let gateway: TestGateway;

  beforeAll(async () => {
    database = await engine.open();
    await importTinyDataset(database);
    gateway = await startTestGateway(
      database,
      { MODEL_DIR: TINY_MODEL_DIR },
      { gateway: { queryTimeoutMs: 1, maxConnections: 8 } },
    );
  });
  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it('fails the fields not yet resolved with QUERY_TIMEOUT, on both transports', async () => {
    const query =
      '{ users(first: 20) { edges { node { ratings(first: 20) { edges { node { item { title } } } } } } } }';
    const answer = await post(gateway, query);
    expect(codes(answer.body)).toContain('QUERY_TIMEOUT');
    const client = createClient({
      url: gateway.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
    });
    expect(codes(await overWs(client, query))).toContain('QUERY_TIMEOUT');
    await client.dispose();
    const metrics = await (await fetch(gateway.url.replace('/graphql', '/metrics'))).text();
    expect(metrics).toMatch(
      /gateway_operation_errors_total\{transport="http",operation="users",code="QUERY_TIMEOUT"\} [1-9]/,
    );
  });

  it('holds at most maxConnections sockets; the others are refused until one closes', async () => {
    const port = gateway.port;
    const sockets = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<import('node:net').Socket>((resolve) => {
            const socket = connect(port, '127.0.0.1', () => resolve(socket));
          }),
      ),
    );
    const extra = connect(port, '127.0.0.1');
    const ended = await new Promise<boolean>((resolve) => {
      extra.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 5_000);
    });
    expect(ended).toBe(true);
    for (const socket of sockets) socket.destroy();
    await expect
      .poll(async () => (await fetch(gateway.url.replace('/graphql', '/healthz'))).status)
      .toBe(200);
  });
});

describe('logs of a hostile request stay small', () => {
  const engine = testDatabases[0]!;
  let database: DatabaseHandle;
  let gateway: TestGateway;
  let logged = '';

  beforeAll(async () => {
    database = await engine.open();
    await importTinyDataset(database);
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => (logged += chunk.toString()));
    gateway = await startTestGateway(
      database,
      { MODEL_DIR: TINY_MODEL_DIR },
      { logger: createLogger('debug', stream) },
    );
  });
  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it('15 aliases of a 1 MiB id and a 1 MiB title log a few kilobytes, one line for the operation', async () => {
    logged = '';
    const id = 'x'.repeat(1024 * 1024);
    const aliases = Array.from({ length: 15 }, (_, i) => `a${i}: user(id: $id) { id }`).join(' ');
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'hostile-1' },
      body: JSON.stringify({ query: `query($id: ID!) { ${aliases} }`, variables: { id } }),
    });
    expect(response.headers.get('x-request-id')).toBe('hostile-1');
    const body = (await response.json()) as Answer['body'];
    expect(new Set(codes(body))).toEqual(new Set(['BAD_USER_INPUT']));
    expect(JSON.stringify(body).length).toBeLessThan(15 * 600);
    const upsert = await post(gateway, 'mutation($items: [ItemInput!]!) { upsertItems(items: $items) }', {
      items: [{ id: 'long', title: 'a\u0000'.repeat(512 * 1024), embedding: [0.1] }],
    });
    expect(codes(upsert.body)).toEqual(['BAD_USER_INPUT']);
    await expect.poll(() => logged.includes('"requestId":"hostile-1"')).toBe(true);
    expect(logged.length).toBeLessThan(64 * 1024);
    const operationLines = logged.split('\n').filter((line) => line.includes('"requestId":"hostile-1"'));
    expect(operationLines).toHaveLength(1);
    expect(JSON.parse(operationLines[0]!)).toMatchObject({
      message: 'graphql',
      operation: 'user',
      errors: ['BAD_USER_INPUT'],
    });
  });
});
