import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApolloServer } from '@apollo/server';
import { buildSchema, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphqlHttpHandler } from '../../src/server/http-graphql.js';
import { guardSchema } from '../../src/server/operation-guard.js';
import { operationScope } from '../../src/server/operation-signal.js';

/**
 * The gateway's abort path on a small schema of its own: a list whose entries each take 30 ms. The
 * guard must stop the entries not yet started once the operation's time is up or its client has left.
 */

interface Context {
  signal: AbortSignal;
  deadline: number;
}

let started = 0;

/** Each `slow` level takes 30 ms; the guard sits in front of every resolver, as in the gateway. */
function slowSchema(): GraphQLSchema {
  const schema = buildSchema(`
    type Step { n: Int! slow: Step }
    type Query { steps(count: Int!): [Step!]! }
  `);
  const steps = schema.getQueryType()!.getFields().steps!;
  steps.resolve = async (_source, { count }: { count: number }) => {
    await sleep(5);
    return Array.from({ length: count }, (_, n) => ({ n }));
  };
  const step = schema.getType('Step') as GraphQLObjectType;
  step.getFields().slow!.resolve = async ({ n }: { n: number }) => {
    started += 1;
    await sleep(30);
    return { n: n + 1 };
  };
  return guardSchema(schema);
}

describe('operation scope', () => {
  it('aborts with a QUERY_TIMEOUT reason when a parent aborts, and forgets its parents when done', () => {
    const parent = new AbortController();
    const scope = operationScope([parent.signal], 60_000);
    parent.abort();
    expect(scope.signal.aborted).toBe(true);
    expect((scope.signal.reason as { code?: string }).code).toBe('QUERY_TIMEOUT');
    const other = new AbortController();
    const finished = operationScope([other.signal], 60_000);
    finished.done();
    other.abort();
    expect(finished.signal.aborted).toBe(false);
    expect(operationScope([], null).deadline).toBe(Infinity);
  });
});

describe('HTTP operations stop when their client leaves or their time is up', () => {
  let server: Server;
  let apollo: ApolloServer<Context>;
  let url: string;
  let timeoutMs = 60_000;

  beforeAll(async () => {
    apollo = new ApolloServer<Context>({ schema: slowSchema(), stopOnTerminationSignals: false });
    await apollo.start();
    const handler = graphqlHttpHandler(apollo, {
      context: (scope) => ({ signal: scope.signal, deadline: scope.deadline }),
      get timeoutMs() {
        return timeoutMs;
      },
    });
    server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    await apollo.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  const query = '{ steps(count: 1) { n slow { n slow { n slow { n slow { n slow { n } } } } } } }';

  it('runs every level when nobody leaves', async () => {
    started = 0;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
    expect(started).toBe(5);
  });

  it('starts no further level after the client disconnects', async () => {
    started = 0;
    const client = new AbortController();
    const request = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
      signal: client.signal,
    }).catch(() => 'aborted');
    await sleep(50);
    client.abort();
    expect(await request).toBe('aborted');
    const atAbort = started;
    await sleep(250);
    expect(atAbort).toBeGreaterThanOrEqual(1);
    expect(atAbort).toBeLessThan(5);
    expect(started).toBe(atAbort);
  });

  it('fails the levels not started once the time is up, with QUERY_TIMEOUT', async () => {
    started = 0;
    timeoutMs = 50;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['QUERY_TIMEOUT']);
    expect(started).toBeLessThan(5);
    timeoutMs = 60_000;
  });
});
