import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildSchema, type GraphQLObjectType } from 'graphql';
import { type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { getCatalogDim } from '../../src/db/queries/items.js';
import { ACCESS_TABLE, accessTableMarkdown, type FieldAccess } from '../../src/server/access.js';
import { type Role } from '../../src/vocabulary.js';
import { testDatabases } from '../helpers/databases.js';
import { SERVED_ACCESS, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { firstResult, wsClient } from '../helpers/subscriptions.js';
import { importTinyDataset, TINY_MODEL_DIR } from '../helpers/tiny-world.js';

const overWs = (client: Client, operation: Operation): Promise<Body> =>
  firstResult(client, operation) as Promise<Body>;

/**
 * The access table against the schema clients see: every root field of the emitted schema has a rule and
 * every rule a field; each field, called with a minimal valid operation under no key and under each role,
 * over HTTP and WebSocket, answers UNAUTHENTICATED without a key, FORBIDDEN for a role the table leaves
 * out, and runs for a role it names. The README shows the same table.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const ROLES: readonly Role[] = ['client', 'analyst', 'admin'];
type Caller = 'none' | Role;
const CALLERS: readonly Caller[] = ['none', ...ROLES];
type Coordinate = keyof typeof ACCESS_TABLE;
type Transport = 'http' | 'ws';

/** Every root field of schema/schema.graphql, as `Type.field`. */
function emittedRootFields(): string[] {
  const schema = buildSchema(readFileSync(join(ROOT, 'schema', 'schema.graphql'), 'utf8'));
  return [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
    .filter((type): type is GraphQLObjectType => type != null)
    .flatMap((type) => Object.keys(type.getFields()).map((field) => `${type.name}.${field}`));
}
const ROOT_FIELDS = emittedRootFields();

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

interface Operation {
  query: string;
  variables?: Record<string, unknown>;
}

function codes(body: Body): string[] {
  return (body.errors ?? []).map((error) => error.extensions?.code ?? 'none');
}

async function overHttp(url: string, key: string | undefined, operation: Operation): Promise<Body> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    },
    body: JSON.stringify(operation),
  });
  return (await response.json()) as Body;
}

/** What the table says a caller gets from a field: the error codes, exactly. */
function expectedCodes(coordinate: string, caller: Caller): string[] {
  if (caller === 'none') return ['UNAUTHENTICATED'];
  const access = ACCESS_TABLE[coordinate as Coordinate] as FieldAccess;
  return access.roles.includes(caller) ? [] : ['FORBIDDEN'];
}

describe('the access table over HTTP and WebSocket', () => {
  const engine = testDatabases[0]!;
  let database: DatabaseHandle;
  /** Mutations allowed over WebSocket: the role check is what each WebSocket leg tests. */
  let gateway: TestGateway;
  /** The default: mutations over WebSocket are off. */
  let wsOff: TestGateway;
  const keys = {} as Record<Role, string>;
  const clients = new Map<string, Client>();
  let width = 0;
  /** A job the client key started (client, analyst and admin may all read it; client and admin cancel). */
  let jobId = '';
  let reportId = '';
  let fresh = 0;
  const freshId = (prefix: string) => `${prefix}-${process.pid}-${(fresh += 1)}`;

  function keyOf(caller: Caller): string | undefined {
    return caller === 'none' ? undefined : keys[caller];
  }

  function wsFor(target: TestGateway, caller: Caller): Client {
    const name = `${target.url} ${caller}`;
    let client = clients.get(name);
    if (client === undefined) {
      client = wsClient(target.wsUrl, keyOf(caller));
      clients.set(name, client);
    }
    return client;
  }

  /**
   * A minimal valid operation for each root field: real users, items, the client's own job, an evaluation
   * report, a throwaway key; fresh ids where it writes. Typed by the table, so a field without one fails
   * to compile.
   */
  const fixtures: Record<Coordinate, () => Promise<Operation> | Operation> = {
    'Query.apiKeys': () => ({ query: '{ apiKeys { id } }' }),
    'Query.evaluationReport': () => ({
      query: 'query($id: ID!) { evaluationReport(id: $id) { id } }',
      variables: { id: reportId },
    }),
    'Query.evaluationReports': () => ({ query: '{ evaluationReports(first: 1) { id } }' }),
    'Query.generationJob': () => ({
      query: 'query($id: ID!) { generationJob(id: $id) { id } }',
      variables: { id: jobId },
    }),
    'Query.item': () => ({ query: '{ item(id: "img0000") { id } }' }),
    'Query.items': () => ({ query: '{ items(first: 1) { totalCount } }' }),
    'Query.modelVersions': () => ({ query: '{ modelVersions { id } }' }),
    'Query.recommend': () => ({ query: '{ recommend(user: "u03", first: 1) { __typename } }' }),
    'Query.user': () => ({ query: '{ user(id: "u03") { id } }' }),
    'Query.users': () => ({ query: '{ users(first: 1) { totalCount } }' }),
    'Query.verifierScores': () => ({
      query: '{ verifierScores(user: "u03", items: ["img0000"]) { probability } }',
    }),
    'Mutation.cancelGeneration': () => ({
      query: 'mutation($job: ID!) { cancelGeneration(job: $job) { id } }',
      variables: { job: jobId },
    }),
    'Mutation.createApiKey': () => ({
      query: 'mutation($name: String!) { createApiKey(input: { name: $name, role: CLIENT }) { key } }',
      variables: { name: freshId('access-test') },
    }),
    'Mutation.createUser': () => ({
      query: 'mutation($id: ID!) { createUser(id: $id) { id } }',
      variables: { id: freshId('new-user') },
    }),
    'Mutation.generate': () => ({
      query: 'mutation { generate(user: "u02", count: 1, steps: 2) { id } }',
    }),
    'Mutation.rateItem': () => ({
      query: 'mutation { rateItem(user: "u04", item: "img0001", score: 4) { score } }',
    }),
    'Mutation.revokeApiKey': async () => ({
      query: 'mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }',
      variables: {
        id: (await gateway.services.apiKeys.create({ name: 'throwaway', role: 'client' })).record.id,
      },
    }),
    'Mutation.runEvaluation': () => ({
      query:
        'mutation { runEvaluation(input: { kind: PERSONALISATION, maxUsers: 2, samplesPerUser: 2, steps: 1, permutations: 1 }) { id } }',
    }),
    'Mutation.upsertItems': () => ({
      query: 'mutation($items: [ItemInput!]!) { upsertItems(items: $items) }',
      variables: {
        items: [{ id: freshId('item'), embedding: Array.from({ length: width }, (_, i) => (i % 3) * 0.1) }],
      },
    }),
    'Subscription.evaluationProgress': () => ({
      query: 'subscription($report: ID!) { evaluationProgress(report: $report) { id } }',
      variables: { report: reportId },
    }),
    'Subscription.generationProgress': () => ({
      query: 'subscription($job: ID!) { generationProgress(job: $job) { jobId } }',
      variables: { job: jobId },
    }),
  };

  beforeAll(async () => {
    database = await engine.open();
    await importTinyDataset(database);
    gateway = await startTestGateway(
      database,
      { MODEL_DIR: TINY_MODEL_DIR },
      { gateway: { authDisabled: false, webSocketMutations: true } },
    );
    wsOff = await startTestGateway(database, { MODEL_DIR: TINY_MODEL_DIR }, { gateway: SERVED_ACCESS });
    for (const role of ROLES) {
      keys[role] = (await gateway.services.apiKeys.create({ name: `access ${role}`, role })).key;
    }
    width = (await getCatalogDim(gateway.services.db)) ?? 0;
    const job = await overHttp(gateway.url, keys.client, {
      query: 'mutation { generate(user: "u01", count: 1, steps: 2) { id } }',
    });
    expect(job.errors).toBeUndefined();
    jobId = (job.data as { generate: { id: string } }).generate.id;
    const report = await overHttp(gateway.url, keys.admin, fixtures['Mutation.runEvaluation']() as Operation);
    expect(report.errors).toBeUndefined();
    reportId = (report.data as { runEvaluation: { id: string } }).runEvaluation.id;
  });
  afterAll(async () => {
    for (const client of clients.values()) await client.dispose();
    await wsOff?.stop();
    await gateway?.stop();
    await database?.close();
  });

  it('has a rule for every root field of the emitted schema, and a field for every rule', () => {
    expect(ROOT_FIELDS.length).toBeGreaterThan(20);
    expect([...ROOT_FIELDS].sort()).toEqual(Object.keys(ACCESS_TABLE).sort());
    expect(Object.keys(fixtures).sort()).toEqual([...ROOT_FIELDS].sort());
  });

  it('lets anyone introspect without a key, on both transports', async () => {
    const query = { query: '{ __schema { queryType { name } } }' };
    const http = await overHttp(gateway.url, undefined, query);
    expect(http.errors).toBeUndefined();
    expect(http.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const ws = await overWs(wsFor(gateway, 'none'), query);
    expect(ws.errors).toBeUndefined();
    expect(ws.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  const cases = ROOT_FIELDS.flatMap((coordinate) =>
    (coordinate.startsWith('Subscription.') ? (['ws'] as const) : (['http', 'ws'] as const)).map(
      (transport: Transport) => ({ coordinate, transport }),
    ),
  );

  it.each(cases)(
    '$coordinate over $transport: as the table says for no key and each role',
    async ({ coordinate, transport }) => {
      const field = coordinate.split('.')[1]!;
      for (const caller of CALLERS) {
        const operation = await fixtures[coordinate as Coordinate]();
        const body =
          transport === 'http'
            ? await overHttp(gateway.url, keyOf(caller), operation)
            : await overWs(wsFor(gateway, caller), operation);
        const expected = expectedCodes(coordinate, caller);
        expect(codes(body), `${caller}: ${JSON.stringify(body.errors)}`).toEqual(expected);
        if (expected.length === 0) {
          expect(body.data?.[field], `${caller}: data`).toBeDefined();
        } else {
          // The refusal names what to do, and never leaks the field's value.
          expect(body.data?.[field] ?? null).toBeNull();
          expect(body.errors?.[0]?.message).toMatch(
            caller === 'none' ? /API key|authorization/i : /needs|key/,
          );
        }
      }
    },
  );

  it('with WebSocket mutations off (the default), answers every mutation over WebSocket FORBIDDEN; queries and subscriptions still run', async () => {
    const mutations = ROOT_FIELDS.filter((coordinate) => coordinate.startsWith('Mutation.'));
    const reads = ROOT_FIELDS.filter((coordinate) => !coordinate.startsWith('Mutation.'));
    const users = await overHttp(wsOff.url, keys.admin, { query: '{ users(first: 1) { totalCount } }' });
    for (const coordinate of mutations) {
      for (const caller of CALLERS) {
        const body = await overWs(wsFor(wsOff, caller), await fixtures[coordinate as Coordinate]());
        expect(codes(body), `${coordinate} as ${caller}`).toEqual([
          caller === 'none' ? 'UNAUTHENTICATED' : 'FORBIDDEN',
        ]);
        if (caller === 'admin') expect(body.errors?.[0]?.message).toMatch(/WebSocket.*HTTP/);
      }
    }
    // Nothing was written: no user was created over the socket.
    const after = await overHttp(wsOff.url, keys.admin, { query: '{ users(first: 1) { totalCount } }' });
    expect(after.data).toEqual(users.data);
    for (const coordinate of reads) {
      for (const caller of CALLERS) {
        const body = await overWs(wsFor(wsOff, caller), await fixtures[coordinate as Coordinate]());
        expect(codes(body), `${coordinate} as ${caller}`).toEqual(expectedCodes(coordinate, caller));
      }
    }
    // The same mutation over HTTP on that gateway runs.
    const created = await overHttp(wsOff.url, keys.admin, await fixtures['Mutation.createUser']());
    expect(created.errors).toBeUndefined();
  });

  it('the README shows exactly this table', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const table = accessTableMarkdown();
    const header = table.split('\n')[0]!;
    const start = readme.indexOf(header);
    expect(start, 'README.md has no access table (accessTableMarkdown())').toBeGreaterThanOrEqual(0);
    const lines = readme.slice(start).split('\n');
    const end = lines.findIndex((line) => !line.startsWith('|'));
    expect(lines.slice(0, end === -1 ? lines.length : end).join('\n')).toBe(table);
  });
});
