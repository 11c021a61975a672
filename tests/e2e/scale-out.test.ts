import { randomBytes } from 'node:crypto';
import { print } from 'graphql';
import { type Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/lib/logger.js';
import { importDemoWorldIfEmpty } from '../../src/services/ingestion/demo-world.js';
import {
  GenerateDocument,
  WatchGenerationDocument,
  type WatchGenerationSubscription,
} from '../graphql/generated/graphql.js';
import { collect, wsClient } from '../helpers/subscriptions.js';
import {
  API_KEY_PATTERN,
  bearer,
  freePort,
  type GatewayProcess,
  printedKeys,
  startCli,
  waitForOutput,
  waitForReady,
} from '../helpers/processes.js';

const adminUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.REDIS_URL_TEST;
const finished = (event: WatchGenerationSubscription) =>
  ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(event.generationProgress.status);

/**
 * Two gateway processes and worker processes on loopback, sharing the real PostgreSQL and Redis.
 * Runs where TEST_DATABASE_URL and REDIS_URL_TEST are set (CI sets both).
 */
describe.runIf(adminUrl !== undefined && redisUrl !== undefined)(
  'scale-out over Redis and PostgreSQL',
  () => {
    const name = `rebeca_scale_${randomBytes(4).toString('hex')}`;
    const processes: GatewayProcess[] = [];
    let databaseUrl: string;
    let env: Record<string, string>;
    let gatewayA: string;
    let gatewayB: string;
    let client: Client;
    /** The admin key one of the two gateways printed at the first start on the new database. */
    let key: string;

    async function post<T, V>(
      url: string,
      document: import('@graphql-typed-document-node/core').TypedDocumentNode<T, V>,
      variables: V,
    ) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(key) },
        body: JSON.stringify({ query: print(document), variables }),
      });
      const body = (await response.json()) as { data: T; errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    }

    function worker(): GatewayProcess {
      const process = startCli(['worker'], env);
      processes.push(process);
      return process;
    }

    beforeAll(async () => {
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      await admin.end();
      const url = new URL(adminUrl as string);
      url.pathname = `/${name}`;
      databaseUrl = url.toString();
      // The demo world and the demo model: a DDPM job of 64 embeddings runs long enough to kill a worker.
      const database = await openDatabase({ url: databaseUrl, dataDir: null });
      await database.migrate();
      await importDemoWorldIfEmpty(database.db, createLogger('silent'));
      await database.close();
      const redis = new Redis(redisUrl as string);
      await redis.flushdb();
      redis.disconnect();

      env = {
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl as string,
        MODEL_DIR: 'models/demo',
        DEMO_WORLD: '0',
        IMAGE_DECODER: 'none',
        AUTH_DISABLED: 'false',
      };
      const [portA, portB] = [await freePort(), await freePort()];
      const a = startCli(['serve', '--port', String(portA), '--host', '127.0.0.1'], env);
      const b = startCli(['serve', '--port', String(portB), '--host', '127.0.0.1'], env);
      processes.push(a, b);
      await Promise.all([
        waitForReady(`http://127.0.0.1:${portA}/readyz`, a),
        waitForReady(`http://127.0.0.1:${portB}/readyz`, b),
      ]);
      gatewayA = `http://127.0.0.1:${portA}/graphql`;
      gatewayB = `http://127.0.0.1:${portB}/graphql`;
      // Authentication on, as by default. Both gateways started on the new database at once: exactly
      // one of them made and printed the first admin key, which serves on both.
      await Promise.all([a, b].map((gateway) => waitForOutput(gateway, /"message":"serving"/)));
      const keys = [...printedKeys(a), ...printedKeys(b)];
      expect(keys, a.output() + b.output()).toHaveLength(1);
      key = keys[0] as string;
      expect(key).toMatch(API_KEY_PATTERN);
      client = wsClient(gatewayA.replace('http://', 'ws://'), key);
    }, 180_000);

    afterAll(async () => {
      await client?.dispose();
      await Promise.all(processes.map((process) => process.stop()));
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }, 60_000);

    it('a job submitted on gateway B, run by a worker, streams to a subscriber on gateway A', async () => {
      const first = worker();
      await waitForOutput(first, /worker ready/);
      const job = (
        await post(gatewayB, GenerateDocument, {
          user: 'u-000',
          count: 4,
          steps: 50,
          sampler: 'DDIM',
          seed: 3,
        })
      ).generate;
      const events = (
        await collect(
          client,
          WatchGenerationDocument,
          { job: job.id },
          { until: finished, timeoutMs: 60_000 },
        )
      ).map((event) => event.generationProgress);
      expect(events.at(-1)).toMatchObject({ status: 'SUCCEEDED', step: 50 });
      expect(events.at(-1)?.job.items).toHaveLength(4);
      const steps = events.slice(1, -1).map((event) => event.step);
      expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => (steps[0] as number) + i));
      await first.stop();
    }, 120_000);

    it('a worker killed mid-job: another one takes the job over and it ends, never hangs or vanishes', async () => {
      const doomed = worker();
      await waitForOutput(doomed, /worker ready/);
      const job = (
        await post(gatewayB, GenerateDocument, { user: 'u-001', count: 64, sampler: 'DDPM', seed: 5 })
      ).generate;
      let killed = false;
      let replacement: GatewayProcess | undefined;
      const events = (
        await collect(
          client,
          WatchGenerationDocument,
          { job: job.id },
          {
            until: finished,
            timeoutMs: 150_000,
            onEvent: (event) => {
              if (!killed && event.generationProgress.step >= 5) {
                killed = true;
                doomed.child.kill('SIGKILL');
                replacement = worker();
              }
            },
          },
        )
      ).map((event) => event.generationProgress);
      expect(killed).toBe(true);
      // One loss is within BullMQ's recoveries: another worker runs the job again from the start (same
      // seed) and it succeeds; subscribers see the steps restart.
      const last = events.at(-1);
      expect(last).toMatchObject({ status: 'SUCCEEDED', step: 1000 });
      expect(last?.job.items).toHaveLength(64);
      const steps = events.slice(1, -1).map((event) => event.step);
      const restartedAt = steps.findIndex((step, i) => i > 0 && step < (steps[i - 1] as number));
      expect(restartedAt).toBeGreaterThan(0);
      await replacement?.stop();
    }, 200_000);
  },
);
