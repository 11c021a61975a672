import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bearer,
  freePort,
  printedKeys,
  startCli,
  startNpm,
  waitForAdminKey,
  waitForExit,
  waitForOutput,
  waitForReady,
} from '../helpers/processes.js';

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * The first start of `npm start` on an empty DATA_DIR prints an admin key (once: the next start prints
 * none) with a link that hands it to the demo page; the API answers only with it.
 * SIGTERM to `npm start`, as a supervisor sends it: the signal reaches the server (npm's shell execs
 * node), which drains once: it stops accepting, closes WebSockets with 1001 (going away), puts its
 * running job back to queued, closes the database and exits 0; the next start resumes the job.
 */
describe('shutdown of the documented start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rebeca-shutdown-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints an admin key at the first start; drains on SIGTERM and exits 0; the interrupted job resumes at the next start', async () => {
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port) };
    // Authentication as `npm start` has it by default, whatever this environment says.
    const unset = ['DATABASE_URL', 'REDIS_URL', 'AUTH_DISABLED', 'WS_MUTATIONS'];
    const server = startNpm(env, { unset });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForReady(`${url}/readyz`, server, 120_000);
      const key = await waitForAdminKey(server);
      expect(printedKeys(server)).toEqual([key]);
      expect(server.output()).toContain(`http://localhost:${port}/#key=${key}`);
      const send = async (query: string, headers: Record<string, string>) =>
        (await (
          await fetch(`${url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body: JSON.stringify({ query }),
          })
        ).json()) as Answer;
      const post = async (query: string) => {
        const answer = await send(query, bearer(key));
        expect(answer.errors).toBeUndefined();
        return answer as { data: Record<string, unknown> };
      };
      const usersQuery = '{ users(first: 1) { edges { node { id } } } }';
      // Without the key, or with another one, nobody: UNAUTHENTICATED, and no data.
      for (const headers of [{}, bearer(`rbk_${'A'.repeat(43)}`)]) {
        const refused = await send(usersQuery, headers);
        expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
        expect(refused.data ?? null).toBeNull();
      }
      const users = (await post(usersQuery)).data as {
        users: { edges: { node: { id: string } }[] };
      };
      const user = users.users.edges[0]!.node.id;
      // DDPM runs every training step: long enough to be running when the signal comes.
      const job = (
        (
          await post(
            `mutation { generate(user: "${user}", sampler: DDPM, count: 64, candidates: 16) { id } }`,
          )
        ).data as {
          generate: { id: string };
        }
      ).generate.id;
      const events: string[] = [];
      const closed = new Promise<number>((resolve) => {
        const client = createClient({
          url: `ws://127.0.0.1:${port}/graphql`,
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          connectionParams: { authorization: `Bearer ${key}` },
          on: { closed: (event) => resolve((event as { code: number }).code) },
        });
        client.subscribe(
          { query: `subscription { generationProgress(job: "${job}") { step } }` },
          {
            next: (event) => events.push(JSON.stringify(event)),
            error: (error) => events.push(`error ${JSON.stringify(error)}`),
            complete: () => events.push('complete'),
          },
        );
      });
      // Signal as soon as the job is running (its first step has reached the subscriber), long before its
      // 1,000 DDPM steps over 1,024 rows can end.
      await expect
        .poll(() => events.some((event) => /"step":[1-9]/.test(event)), { timeout: 60_000, interval: 20 })
        .toBe(true);
      expect(events.join('\n')).not.toMatch(/"step":1000|complete/);
      server.child.kill('SIGTERM');
      const exit = await waitForExit(server, 60_000);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(await closed, events.slice(-3).join('\n')).toBe(1001);
      expect(server.output()).toMatch(/"message":"stopped"/);
      expect(existsSync(join(dataDir, 'pglite.lock'))).toBe(false);
      // No server is left behind (npm's child used to outlive it).
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();

      const again = startCli(['serve'], env, { unset });
      try {
        await waitForReady(`${url}/readyz`, again, 120_000);
        expect(again.output()).toMatch(/resumed unfinished generation jobs/);
        // The first key still works; the second start made none and printed none.
        await waitForOutput(again, /"message":"serving"/);
        expect(printedKeys(again)).toEqual([]);
        expect(again.output()).not.toMatch(/#key=|first admin key/);
        expect((await post(usersQuery)).data).toEqual(users);
      } finally {
        await again.stop();
      }
    } finally {
      await server.stop('SIGKILL');
    }
  }, 300_000);
});
