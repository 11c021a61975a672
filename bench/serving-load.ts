/**
 * Load generator of the serving benchmarks, run as its own process (never inside the gateway):
 * `npx tsx bench/serving-load.ts '<json config>'`. It drives autocannon's programmatic API so that
 * consecutive requests can carry different bodies (a different user each), and prints one JSON line.
 *
 * Config: { url, connections, duration (s), bodies: string[] (cycled, one per request),
 *           expect: substring every 2xx body must contain (others count as mismatches) }
 */
import { createRequire } from 'node:module';

interface LoadConfig {
  url: string;
  connections: number;
  duration: number;
  bodies: string[];
  expect: string;
}

interface Histogram {
  average: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  total: number;
}

interface AutocannonResult {
  latency: Histogram;
  requests: Histogram & { sent: number };
  duration: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  non2xx: number;
  '2xx': number;
}

type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as Autocannon;

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
  if (config.bodies.length === 0) throw new Error('no request bodies');
  let next = 0;
  const result = await autocannon({
    url: `${config.url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections: config.connections,
    duration: config.duration,
    body: config.bodies[0],
    requests: [
      {
        setupRequest: (request: Record<string, unknown>) => {
          request.body = config.bodies[next % config.bodies.length];
          next += 1;
          return request;
        },
      },
    ],
    verifyBody: (body: string) => body.includes(config.expect) && !body.includes('"errors"'),
  });
  const summary = {
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
    durationS: result.duration,
    rps: result.requests.total / result.duration,
    latency: {
      average: result.latency.average,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
