/**
 * What access control costs a request (issue 15): the same cheap query over HTTP against two gateways on
 * one database, one with authentication off and one with keys, in the same run:
 *
 *   off      AUTH_DISABLED: no lookup;
 *   cached   the same key every request: its lookup is remembered for 10 s (the usual case);
 *   first    a different key every request, each used for the first time: one indexed lookup by hash
 *            and the best-effort `last_used_at` write (what every key costs once per 10 s and gateway).
 *
 *   npx tsx bench/access-overhead.ts [--requests 400] [--runs 5] [--database-url postgres://...]
 *
 * Requests are sequential (latency, not throughput). Each mode runs on a fresh gateway after 100 warm-up
 * requests, in an order that rotates from run to run (two gateways side by side differed by ~15% with
 * identical settings, so no mode keeps one gateway or one position).
 * Prints the median over runs of each mode's median and p90 (nearest rank) request latency, ratios to
 * `off`, and the cached lookup alone (20,000 calls of the authenticator, no HTTP).
 */
import 'reflect-metadata';
import { type DatabaseHandle, openDatabase } from '../src/db/client.js';
import { createLogger } from '../src/lib/logger.js';
import { buildGatewaySchema } from '../src/resolvers/schema.js';
import { createAuthenticator } from '../src/server/authenticate.js';
import { startGateway } from '../src/server/gateway.js';
import { startServices } from '../src/services/index.js';
import { flag, percentile } from './lib/serving-common.js';
import { fixed, flagNumber, loadLine, median, table } from './ml-common.js';

const requests = flagNumber('requests', 400);
const runs = flagNumber('runs', 5);
const databaseUrl = flag('database-url');
const QUERY = JSON.stringify({ query: '{ items(first: 1) { totalCount } }' });

async function timeRequests(url: string, authorizations: (string | undefined)[]): Promise<number[]> {
  const times: number[] = [];
  for (const authorization of authorizations) {
    const started = performance.now();
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: QUERY,
    });
    const body = (await response.json()) as { errors?: unknown };
    times.push(performance.now() - started);
    if (body.errors !== undefined) throw new Error(`the query failed: ${JSON.stringify(body.errors)}`);
  }
  return times;
}

async function main() {
  const logger = createLogger('error');
  const database: DatabaseHandle = await openDatabase(
    databaseUrl === undefined ? { dataDir: null } : { url: databaseUrl, dataDir: null },
  );
  await database.migrate();
  const services = await startServices({
    db: database.db,
    logger,
    demoFallback: false,
    config: {
      MODEL_DIR: undefined,
      ORT_EXECUTION_PROVIDER: 'cpu',
      REDIS_URL: undefined,
      IMAGE_DECODER: { kind: 'none' },
      GENERATION_CONCURRENCY: 1,
      BATCH_MAX_ROWS: 256,
      BATCH_MAX_DELAY_MS: 2,
    },
  });
  const start = async (authDisabled: boolean) =>
    startGateway({
      schema: await buildGatewaySchema(),
      services,
      database,
      logger,
      port: 0,
      host: '127.0.0.1',
      authDisabled,
    });
  const cachedKey = `Bearer ${(await services.apiKeys.create({ name: 'bench', role: 'client' })).key}`;
  const fresh = async () =>
    Promise.all(
      Array.from(
        { length: requests },
        async (_, i) =>
          `Bearer ${(await services.apiKeys.create({ name: `bench ${i}`, role: 'client' })).key}`,
      ),
    );
  const modes = {
    off: { authDisabled: true, keys: async () => Array.from({ length: requests }, () => undefined) },
    cached: { authDisabled: false, keys: async () => Array.from({ length: requests }, () => cachedKey) },
    first: { authDisabled: false, keys: fresh },
  } as const;
  const results: Record<keyof typeof modes, { p50: number[]; p90: number[] }> = {
    off: { p50: [], p90: [] },
    cached: { p50: [], p90: [] },
    first: { p50: [], p90: [] },
  };
  const names = Object.keys(modes) as (keyof typeof modes)[];
  for (let run = 0; run < runs; run += 1) {
    // Each mode on a fresh gateway, warmed up, in an order that rotates: no gateway or position bias.
    for (const mode of names.map((_, i) => names[(i + run) % names.length]!)) {
      const gateway = await start(modes[mode].authDisabled);
      await timeRequests(
        gateway.url,
        Array.from({ length: 100 }, () => (mode === 'off' ? undefined : cachedKey)),
      );
      const times = await timeRequests(gateway.url, await modes[mode].keys());
      await gateway.stop();
      results[mode].p50.push(median(times));
      results[mode].p90.push(percentile(times, 90));
    }
  }
  // The cached lookup alone, without HTTP: the authenticator as every request calls it.
  const authenticator = createAuthenticator(services.apiKeys, { disabled: false });
  const lookupMicros: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const started = performance.now();
    for (let i = 0; i < 20_000; i += 1) await authenticator.principal(cachedKey);
    lookupMicros.push(((performance.now() - started) / 20_000) * 1000);
  }
  const off = median(results.off.p50);
  console.log(
    `access overhead: ${requests} sequential requests x ${runs} runs, ${databaseUrl ? 'PostgreSQL' : 'PGlite'}; ${loadLine()}`,
  );
  console.log(
    table(
      ['mode', 'p50 ms (median of runs)', 'p90 ms', 'p50 / off'],
      (Object.keys(results) as (keyof typeof results)[]).map((mode) => [
        mode,
        fixed(median(results[mode].p50), 3),
        fixed(median(results[mode].p90), 3),
        `${fixed(median(results[mode].p50) / off, 2)}x`,
      ]),
    ),
  );
  console.log(`cached key lookup alone (authenticator, 20,000 calls): ${fixed(median(lookupMicros), 2)} µs`);
  await services.close();
  await database.close();
}

await main();
