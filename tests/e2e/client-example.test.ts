import { type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  connect,
  followGeneration,
  generate,
  type GenerationProgress,
  GraphQLRequestError,
  recommend,
} from '../../examples/client/index.js';
import { type DatabaseHandle } from '../../src/db/client.js';
import { SERVED_ACCESS, startDemoGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * The typed client example (examples/client/) against a real gateway on the demo world, with
 * authentication on and mutations over HTTP only (as `npm start` has them), calling with a client key.
 */
describe('the typed client example, on the demo', () => {
  let database: DatabaseHandle;
  let gateway: TestGateway;
  let client: Client;
  let apiKey: string;

  beforeAll(async () => {
    ({ database, gateway } = await startDemoGateway({ gateway: SERVED_ACCESS }));
    ({ key: apiKey } = await gateway.services.apiKeys.create({ name: 'example', role: 'client' }));
    client = connect(gateway.wsUrl, { webSocketImpl: WebSocket, retryAttempts: 0, apiKey });
  }, 120_000);
  afterAll(async () => {
    await client?.dispose();
    await gateway?.stop();
    await database?.close();
  });

  it('recommends catalog items with their pictures', async () => {
    const answer = await recommend(
      gateway.url,
      { user: 'u-003', first: 5, includeGenerated: false },
      { apiKey },
    );
    expect(answer.fallback).toBeNull();
    expect(answer.items).toHaveLength(5);
    for (const entry of answer.items) {
      expect(entry.item.__typename).toBe('Item');
      expect(entry.item.image?.mimeType).toBe('image/svg+xml');
      expect(entry.item.image?.url).toMatch(/^data:image\/svg\+xml;base64,/);
    }
  });

  it('generates with a few DDIM steps and follows the progress to the end', async () => {
    const job = await generate(gateway.url, { user: 'u-003', count: 2, steps: 5, seed: 3 }, { apiKey });
    expect(job).toMatchObject({ status: 'QUEUED', steps: 5 });
    const events: GenerationProgress[] = [];
    const last = await followGeneration(client, { job: job.id }, (event) => events.push(event));
    expect(events.map((event) => `${event.status}:${event.step}`)).toEqual([
      'QUEUED:0',
      'RUNNING:0',
      ...Array.from({ length: 5 }, (_, i) => `RUNNING:${i + 1}`),
      'SUCCEEDED:5',
    ]);
    expect(last.job).toMatchObject({ id: job.id, status: 'SUCCEEDED', errorCode: null });
    expect(last.job.items).toHaveLength(2);
    for (const item of last.job.items) expect(item.image?.mimeType).toBe('image/svg+xml');
  });

  it('throws the gateway errors with their codes', async () => {
    const refused = await recommend(gateway.url, { user: 'nobody-here' }, { apiKey }).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(GraphQLRequestError);
    expect((refused as GraphQLRequestError).code).toBe('NOT_FOUND');
  });

  it('without a key is refused UNAUTHENTICATED, over HTTP and WebSocket', async () => {
    const codeOf = (error: unknown) => {
      expect(error).toBeInstanceOf(GraphQLRequestError);
      return (error as GraphQLRequestError).code;
    };
    const overHttp = await recommend(gateway.url, { user: 'u-003' }).catch((error: unknown) => error);
    expect(codeOf(overHttp)).toBe('UNAUTHENTICATED');
    const job = await generate(gateway.url, { user: 'u-003', count: 1, steps: 2, seed: 4 }, { apiKey });
    const anonymous = connect(gateway.wsUrl, { webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const overWebSocket = await followGeneration(anonymous, { job: job.id }).catch(
        (error: unknown) => error,
      );
      expect(codeOf(overWebSocket)).toBe('UNAUTHENTICATED');
    } finally {
      await anonymous.dispose();
    }
    // The job itself ran, for the key that started it.
    expect((await followGeneration(client, { job: job.id })).status).toBe('SUCCEEDED');
  });

  it('with a key whose role does not cover the operation is refused FORBIDDEN', async () => {
    const { key: analyst } = await gateway.services.apiKeys.create({
      name: 'example-analyst',
      role: 'analyst',
    });
    const refused = await generate(
      gateway.url,
      { user: 'u-003', count: 1, steps: 2 },
      { apiKey: analyst },
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GraphQLRequestError);
    expect((refused as GraphQLRequestError).code).toBe('FORBIDDEN');
  });
});
