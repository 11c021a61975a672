import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/lib/logger.js';
import { type Denoiser } from '../../src/ml/index.js';
import { buildGatewaySchema } from '../../src/resolvers/schema.js';
import { type RunningGateway, startGateway } from '../../src/server/gateway.js';
import { type Services, startServices } from '../../src/services/index.js';
import { GenerateDocument, RateItemDocument } from '../graphql/generated/graphql.js';
import { testServiceConfig } from '../helpers/gateway.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { importTinyDataset, TINY_DATASET_DIR, TINY_MODEL_DIR } from '../helpers/tiny-world.js';

const adminUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.REDIS_URL_TEST;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Readyz {
  status: string;
  ready: boolean;
  dependencies: Record<string, { ok: boolean; detail: string }>;
}

/**
 * A gateway and a worker in this process, on the real PostgreSQL and Redis, each reached through a TCP
 * proxy that the test cuts and restores: outages in the middle of traffic must leave no job queued or
 * running for good, lose no acknowledged write, and show on /readyz. Runs where TEST_DATABASE_URL and
 * REDIS_URL_TEST are set (CI sets both).
 */
describe.runIf(adminUrl !== undefined && redisUrl !== undefined)(
  'faults: PostgreSQL and Redis outages',
  () => {
    const suffix = randomBytes(4).toString('hex');
    const name = `rebeca_faults_${suffix}`;
    const prefix = `rebeca-faults-${suffix}`;
    const log: string[] = [];
    const logger = createLogger(
      'warn',
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          log.push(chunk.toString().trim());
          done();
        },
      }),
    );
    let databaseUrl: string;
    let pgProxy: TcpProxy;
    let redisProxy: TcpProxy;
    let gatewayDb: DatabaseHandle;
    let workerDb: DatabaseHandle;
    let gatewayServices: Services;
    let workerServices: Services;
    let gateway: RunningGateway;
    let direct: pg.Client;
    /** A client key: the traffic is a frontend's, with authentication on as by default. */
    let key: string;

    beforeAll(async () => {
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      await admin.end();
      const url = new URL(adminUrl as string);
      url.pathname = `/${name}`;
      databaseUrl = url.toString();
      const setup = await openDatabase({ url: databaseUrl, dataDir: null });
      await setup.migrate();
      await importTinyDataset(setup);
      await setup.close();
      direct = new pg.Client({ connectionString: databaseUrl });
      await direct.connect();

      const pgTarget = new URL(databaseUrl);
      const redisTarget = new URL(redisUrl as string);
      pgProxy = await startTcpProxy({ host: pgTarget.hostname, port: Number(pgTarget.port || 5432) });
      redisProxy = await startTcpProxy({
        host: redisTarget.hostname,
        port: Number(redisTarget.port || 6379),
      });
      const config = {
        ...testServiceConfig,
        MODEL_DIR: TINY_MODEL_DIR,
        REDIS_URL: redisProxy.url(redisUrl as string),
        GENERATION_CONCURRENCY: 8,
      };
      gatewayDb = await openDatabase({ url: pgProxy.url(databaseUrl), dataDir: null, maxConnections: 6 });
      workerDb = await openDatabase({ url: pgProxy.url(databaseUrl), dataDir: null, maxConnections: 6 });
      gatewayServices = await startServices({
        db: gatewayDb.db,
        logger,
        config,
        demoFallback: false,
        queuePrefix: prefix,
        // Short enough that the test sees repairs within seconds.
        reconciler: {
          intervalMs: 500,
          queuedGraceMs: 2_000,
          runningStaleMs: 3_000,
          maxRecoveries: 3,
          advisoryLock: true,
        },
      });
      workerServices = await startServices({
        db: workerDb.db,
        logger,
        config,
        role: 'worker',
        demoFallback: false,
        queuePrefix: prefix,
        // Steps slowed down so that jobs are mid-run when a connection is cut.
        wrapDenoiser: (inner): Denoiser => ({
          validate: (inputs) => inner.validate(inputs),
          register: () => inner.register?.() ?? (() => undefined),
          denoise: async (inputs, signal) => {
            await sleep(20);
            return inner.denoise(inputs, signal);
          },
        }),
      });
      gateway = await startGateway({
        schema: await buildGatewaySchema(),
        services: gatewayServices,
        database: gatewayDb,
        logger,
        port: 0,
        host: '127.0.0.1',
      });
      ({ key } = await gatewayServices.apiKeys.create({ name: 'faults', role: 'client' }));
    }, 120_000);

    afterAll(async () => {
      pgProxy?.restore();
      redisProxy?.restore();
      // Each close is bounded: after the outages a close that waits on a dead connection must not hang
      // the suite (it is reported, and the next one runs).
      const bounded = async (what: string, close: (() => Promise<unknown>) | undefined) => {
        if (close === undefined) return;
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 20_000)));
        const result = await Promise.race([close().then(() => 'closed' as const), late]);
        clearTimeout(timer);
        if (result === 'late') console.warn(`faults teardown: ${what} did not close within 20 s`);
      };
      await bounded('gateway', gateway?.stop);
      await bounded('gateway services', gatewayServices?.close);
      await bounded('worker services', workerServices?.close);
      await bounded('gateway database', gatewayDb?.close);
      await bounded('worker database', workerDb?.close);
      await pgProxy?.close();
      await redisProxy?.close();
      await direct?.end();
      const redis = new Redis(redisUrl as string);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }, 180_000);

    async function post<T, V>(document: TypedDocumentNode<T, V>, variables: V): Promise<T | null> {
      try {
        const response = await fetch(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ query: print(document), variables }),
          signal: AbortSignal.timeout(15_000),
        });
        const body = (await response.json()) as { data?: T | null; errors?: unknown };
        return body.errors === undefined && body.data != null ? body.data : null;
      } catch {
        return null;
      }
    }

    async function readyz(): Promise<{ status: number; body: Readyz }> {
      const response = await fetch(gateway.url.replace('/graphql', '/readyz'));
      return { status: response.status, body: (await response.json()) as Readyz };
    }

    async function waitForReadyz(
      predicate: (answer: { status: number; body: Readyz }) => boolean,
      timeoutMs = 15_000,
    ): Promise<{ status: number; body: Readyz }> {
      const deadline = Date.now() + timeoutMs;
      let last = await readyz();
      while (!predicate(last)) {
        if (Date.now() > deadline) throw new Error(`readyz never matched; last: ${JSON.stringify(last)}`);
        await sleep(200);
        last = await readyz();
      }
      return last;
    }

    it('/readyz names Redis, then the database (unreachable, not migrations), and is 200 after each restore', async () => {
      const healthy = await waitForReadyz((answer) => answer.status === 200);
      expect(healthy.body).toMatchObject({
        status: 'ready',
        ready: true,
        dependencies: {
          database: { ok: true, detail: expect.stringMatching(/^postgres: (\d+) of \1 migrations applied$/) },
          redis: { ok: true },
          model: { ok: true },
        },
      });

      redisProxy.cut();
      const noRedis = await waitForReadyz((answer) => answer.status === 503);
      redisProxy.restore();
      expect(noRedis.body.ready).toBe(false);
      expect(noRedis.body.dependencies.redis).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/^unreachable/),
      });
      expect(noRedis.body.dependencies.database?.ok).toBe(true);
      await waitForReadyz((answer) => answer.status === 200);

      pgProxy.cut();
      const noDatabase = await waitForReadyz((answer) => answer.status === 503);
      pgProxy.restore();
      expect(noDatabase.body.dependencies.database).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/^unreachable: /),
      });
      expect(noDatabase.body.dependencies.database?.detail).not.toMatch(/migrations/);
      expect(noDatabase.body.dependencies.redis?.ok).toBe(true);
      await waitForReadyz((answer) => answer.status === 200);
    }, 60_000);

    it('jobs all end and acknowledged writes stay through a Redis outage and a PostgreSQL outage', async () => {
      // Pairs nobody has rated yet: each is rated once, so "present afterwards" has one answer.
      const rated = new Set(
        (await readFile(join(TINY_DATASET_DIR, 'ratings.csv'), 'utf8'))
          .trim()
          .split('\n')
          .slice(1)
          .map((line) => line.split(',').slice(0, 2).join(',')),
      );
      const users = Array.from({ length: 15 }, (_, i) => `u${String(i).padStart(2, '0')}`);
      const unrated: { user: string; item: string }[] = [];
      for (let i = 0; i < 300 && unrated.length < 2_000; i += 1) {
        for (const user of users) {
          const item = `img${String(i).padStart(4, '0')}`;
          if (!rated.has(`${user},${item}`)) unrated.push({ user, item });
        }
      }
      const jobs: string[] = [];
      const acknowledged: { user: string; item: string; score: number }[] = [];
      let attempts = 0;
      let stop = false;
      const traffic = (async () => {
        for (let i = 0; !stop; i += 1) {
          attempts += 1;
          const user = users[i % users.length] as string;
          const [job, rating] = await Promise.all([
            post(GenerateDocument, { user, count: 2, steps: 30, sampler: 'DDIM', seed: i }),
            (async () => {
              const pair = unrated[i % unrated.length] as { user: string; item: string };
              const score = 1 + (i % 5);
              const answer = await post(RateItemDocument, { ...pair, score });
              return answer === null ? null : { ...pair, score };
            })(),
          ]);
          if (job !== null) jobs.push(job.generate.id);
          if (rating !== null) acknowledged.push(rating);
          await sleep(100);
        }
      })();

      await sleep(2_000);
      redisProxy.cut();
      await sleep(4_000);
      redisProxy.restore();
      await sleep(3_000);
      pgProxy.cut();
      await sleep(4_000);
      pgProxy.restore();
      await sleep(3_000);
      stop = true;
      await traffic;

      // Within a bounded time, every job has ended: succeeded, or failed with a code.
      const deadline = Date.now() + 60_000;
      let open = -1;
      while (Date.now() < deadline) {
        const { rows } = await direct.query<{ count: number }>(
          `select count(*)::int as count from generation_jobs where status in ('queued', 'running')`,
        );
        open = rows[0]?.count ?? -1;
        if (open === 0) break;
        await sleep(500);
      }
      const { rows: ended } = await direct.query<{ id: string; status: string; error_code: string | null }>(
        'select id, status, error_code from generation_jobs',
      );
      const summary: Record<string, number> = {};
      for (const row of ended) {
        const key = `${row.status}${row.error_code === null ? '' : `/${row.error_code}`}`;
        summary[key] = (summary[key] ?? 0) + 1;
      }
      const counts = gatewayServices.reconciler?.counts;
      console.info('faults:', {
        attempts,
        acknowledgedJobs: jobs.length,
        acknowledgedRatings: acknowledged.length,
        jobs: summary,
        reconciler: counts,
        repairs: log.filter((line) => line.includes('stuck generation job')).length,
      });
      expect(
        open,
        log
          .filter((line) => /stuck|reconciler/.test(line))
          .slice(-10)
          .join('\n'),
      ).toBe(0);
      expect(jobs.length).toBeGreaterThan(10);
      for (const row of ended) {
        expect(['succeeded', 'failed', 'cancelled']).toContain(row.status);
        if (row.status === 'failed') expect(row.error_code).not.toBeNull();
      }
      const stored = new Set(ended.map((row) => row.id));
      expect(jobs.filter((id) => !stored.has(id))).toEqual([]);
      expect(summary.succeeded ?? 0).toBeGreaterThan(0);

      // Every acknowledged rating is there with its score.
      const { rows: ratings } = await direct.query<{ user_id: string; item_id: string; score: number }>(
        `select u.external_id as user_id, i.external_id as item_id, r.score
         from ratings r join users u on u.id = r.user_id join items i on i.id = r.item_id`,
      );
      const scores = new Map(ratings.map((row) => [`${row.user_id},${row.item_id}`, row.score]));
      const missing = acknowledged.filter(
        (entry) => scores.get(`${entry.user},${entry.item}`) !== entry.score,
      );
      expect(acknowledged.length).toBeGreaterThan(10);
      expect(missing).toEqual([]);

      // And the gateway says so.
      await waitForReadyz((answer) => answer.status === 200);
    }, 180_000);
  },
);
