import { auditServer } from 'graphql-http';
import { createClient } from 'graphql-ws';
import { print } from 'graphql';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { testDatabases } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  CreateUserDocument,
  GetItemDocument,
  GetUserDocument,
  ListItemsDocument,
  ListUsersDocument,
  RateItemDocument,
  UpsertItemsDocument,
} from '../graphql/generated/graphql.js';

describe.each(testDatabases)('GraphQL API over HTTP and WebSocket on $name', (engine) => {
  let database: DatabaseHandle;
  let gateway: TestGateway;

  beforeAll(async () => {
    database = await engine.open();
    gateway = await startTestGateway(database);
  });
  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it('passes the GraphQL-over-HTTP audits of graphql-http with no error', async () => {
    const results = await auditServer({ url: gateway.url });
    const errors = results.filter((result) => result.status === 'error');
    expect(
      errors.map((result) => `${result.id} ${result.name}: ${'reason' in result ? result.reason : ''}`),
    ).toEqual([]);
    expect(results.filter((result) => result.status === 'ok').length).toBeGreaterThan(20);
  });

  it('answers /healthz and /readyz', async () => {
    const health = await fetch(gateway.url.replace('/graphql', '/healthz'));
    expect(health.status).toBe(200);
    const ready = await fetch(gateway.url.replace('/graphql', '/readyz'));
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      ready: true,
      dependencies: {
        database: {
          ok: true,
          detail: expect.stringContaining(engine.name === 'pglite' ? 'pglite' : 'postgres'),
        },
      },
    });
  });

  it('creates users and items, rates, re-rates, and pages through connections', async () => {
    const created = await gateway.data(CreateUserDocument, { id: 'alice' });
    expect(created.createUser).toMatchObject({ id: 'alice', ratingCount: 0, likedCount: 0 });
    expect((await gateway.data(CreateUserDocument, { id: 'alice' })).createUser.createdAt).toBe(
      created.createUser.createdAt,
    );
    for (const id of ['bob', 'carol']) await gateway.data(CreateUserDocument, { id });

    const items = Array.from({ length: 5 }, (_, i) => ({
      id: `item-${i}`,
      title: i === 0 ? 'First, with a comma' : null,
      embedding: [i, 0.5, -1.25, 1e-3],
    }));
    expect((await gateway.data(UpsertItemsDocument, { items })).upsertItems).toBe(5);
    expect((await gateway.data(UpsertItemsDocument, { items })).upsertItems).toBe(0);
    expect((await gateway.data(GetItemDocument, { id: 'item-0' })).item).toEqual({
      id: 'item-0',
      title: 'First, with a comma',
      imageUrl: null,
      embedding: [0, 0.5, -1.25, 0.001],
    });

    const rated = await gateway.data(RateItemDocument, { user: 'alice', item: 'item-1', score: 5 });
    expect(rated.rateItem).toMatchObject({
      score: 5,
      liked: true,
      user: { id: 'alice', ratingCount: 1 },
      item: { id: 'item-1' },
    });
    const rerated = await gateway.data(RateItemDocument, { user: 'alice', item: 'item-1', score: 2 });
    expect(rerated.rateItem).toMatchObject({ score: 2, liked: false, user: { ratingCount: 1 } });
    expect(rerated.rateItem.createdAt).toBe(rated.rateItem.createdAt);
    await gateway.data(RateItemDocument, { user: 'alice', item: 'item-2', score: 4 });
    const alice = (await gateway.data(GetUserDocument, { id: 'alice' })).user;
    expect(alice).toMatchObject({ ratingCount: 2, likedCount: 1, ratings: { totalCount: 2 } });

    const firstPage = (await gateway.data(ListUsersDocument, { first: 2 })).users;
    expect(firstPage.edges.map((edge) => edge.node.id)).toEqual(['alice', 'bob']);
    expect(firstPage).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
    const secondPage = (
      await gateway.data(ListUsersDocument, { first: 2, after: firstPage.pageInfo.endCursor })
    ).users;
    expect(secondPage.edges.map((edge) => edge.node.id)).toEqual(['carol']);
    expect(secondPage.pageInfo.hasNextPage).toBe(false);
    const itemPage = (await gateway.data(ListItemsDocument, { first: 10 })).items;
    expect(itemPage.edges).toHaveLength(5);
  });

  it('answers bad input with stable error codes and hides internals', async () => {
    const badScore = await gateway.request(RateItemDocument, { user: 'alice', item: 'item-1', score: 0 });
    expect(badScore.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const unknownUser = await gateway.request(RateItemDocument, { user: 'nobody', item: 'item-1', score: 3 });
    expect(unknownUser.errors?.[0]).toMatchObject({
      message: 'user "nobody" does not exist',
      extensions: { code: 'NOT_FOUND' },
    });
    const wrongWidth = await gateway.request(UpsertItemsDocument, {
      items: [{ id: 'x', embedding: [1, 2] }],
    });
    expect(wrongWidth.errors?.[0]?.message).toMatch(/width 2, the catalog's is 4/);
    const badCursor = await gateway.request(ListUsersDocument, { first: 2, after: 'garbage' });
    expect(badCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const tooMany = await gateway.request(ListUsersDocument, { first: 100_000 });
    expect(tooMany.errors?.[0]?.message).toMatch(/at most 500/);
    expect(JSON.stringify(tooMany)).not.toMatch(/stack|at \//);
  });

  it('serves queries over graphql-ws on the same path', async () => {
    const client = createClient({
      url: gateway.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
    });
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        let value: unknown;
        client.subscribe(
          { query: print(GetUserDocument), variables: { id: 'alice' } },
          { next: (data) => (value = data), error: reject, complete: () => resolve(value) },
        );
      });
      expect(result).toMatchObject({ data: { user: { id: 'alice', ratingCount: 2 } } });
    } finally {
      await client.dispose();
    }
  });
});
