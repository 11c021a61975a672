import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { loadConfig } from '../../src/config.js';
import { originPolicy } from '../../src/server/origins.js';
import { testDatabases } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * A page on a foreign origin can neither read an HTTP answer (no CORS grant; its preflight is refused)
 * nor open the WebSocket (the upgrade is refused with 403); the gateway's own origin and a configured
 * one can. Clients that are not browsers send no Origin and are served as before.
 */
describe('origins on HTTP and WebSocket', () => {
  let database: DatabaseHandle;
  let gateway: TestGateway;
  const allowed = 'https://app.example.com';
  const foreign = 'https://evil.example';
  let key: string;

  beforeAll(async () => {
    database = await testDatabases[0]!.open();
    gateway = await startTestGateway(
      database,
      {},
      { gateway: { origins: originPolicy({ origins: [allowed], development: false }), authDisabled: false } },
    );
    key = (await gateway.services.apiKeys.create({ name: 'analyst page', role: 'analyst' })).key;
  });
  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  const preflight = (origin: string) =>
    fetch(gateway.url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
  const post = (origin: string | undefined) =>
    fetch(gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${key}`,
        ...(origin === undefined ? {} : { origin }),
      },
      body: JSON.stringify({ query: '{ users(first: 1) { totalCount } }' }),
    });
  const upgrade = (origin: string | undefined) =>
    new Promise<number>((resolve) => {
      const socket = new WebSocket(gateway.wsUrl, 'graphql-transport-ws', {
        headers: { authorization: `Bearer ${key}` },
        ...(origin === undefined ? {} : { origin }),
      });
      socket.once('open', () => {
        socket.close();
        resolve(101);
      });
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('error', () => resolve(-1));
    });

  it('refuses a foreign origin even with a valid key: no CORS grant, its preflight 403, its WebSocket 403', async () => {
    const refused = await preflight(foreign);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect((await post(foreign)).headers.get('access-control-allow-origin')).toBeNull();
    expect(await upgrade(foreign)).toBe(403);
  });

  it('grants a configured origin and the gateway own origin, on both transports', async () => {
    const granted = await preflight(allowed);
    expect(granted.status).toBe(204);
    expect(granted.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(granted.headers.get('access-control-allow-methods')).toMatch(/POST/);
    const answer = await post(allowed);
    expect(answer.headers.get('access-control-allow-origin')).toBe(allowed);
    // The key works from the allowed page: the answer is data, not an error.
    expect(await answer.json()).toEqual({ data: { users: { totalCount: 0 } } });
    expect(await upgrade(allowed)).toBe(101);
    const own = `http://127.0.0.1:${gateway.port}`;
    expect((await post(own)).headers.get('access-control-allow-origin')).toBe(own);
    expect(await upgrade(own)).toBe(101);
  });

  it('serves clients that send no Origin (not browsers) as before', async () => {
    const answer = await post(undefined);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(await upgrade(undefined)).toBe(101);
  });

  it('allows localhost pages in development only, and parses CORS_ORIGINS strictly', () => {
    expect(originPolicy({ origins: [], development: true }).allows('http://localhost:5173', 'gw:4000')).toBe(
      true,
    );
    expect(originPolicy({ origins: [], development: false }).allows('http://localhost:5173', 'gw:4000')).toBe(
      false,
    );
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://b.example:8080' }).CORS_ORIGINS).toEqual([
      'https://a.example',
      'http://b.example:8080',
    ]);
    expect(() => loadConfig({ CORS_ORIGINS: 'javascript:alert(1)' })).toThrow(/CORS_ORIGINS/);
  });
});
