/**
 * The typed client against a running gateway (`npm start`):
 *   REBECA_API_KEY=rbk_... npx tsx examples/client/demo.ts [http://localhost:4000/graphql] [u-003]
 * recommends for the user, starts a short generation and follows it to its end. The key is a client
 * key (`npm run cli -- keys create --role client --name demo`) or the admin key of the first start.
 */
import WebSocket from 'ws';
import { connect, followGeneration, generate, recommend } from './index.js';

const endpoint = process.argv[2] ?? 'http://localhost:4000/graphql';
const user = process.argv[3] ?? 'u-003';
// A standalone script for frontend teams: it has no src/config.ts to read its one setting through.
// eslint-disable-next-line no-restricted-syntax
const apiKey = process.env.REBECA_API_KEY;
if (apiKey === undefined || apiKey === '') {
  console.error('set REBECA_API_KEY to an API key (rbk_...): the gateway answers nobody without one');
  process.exit(1);
}

const recommendation = await recommend(endpoint, { user, first: 5, includeGenerated: true }, { apiKey });
for (const { rank, score, reason, item } of recommendation.items) {
  const label = item.__typename === 'Item' ? `${item.id} ${item.title ?? ''}` : `generated ${item.id}`;
  console.log(`${rank}. ${score.toFixed(3)} ${reason} ${label}`);
}

const job = await generate(endpoint, { user, count: 2, steps: 25 }, { apiKey });
// Browsers have a WebSocket; Node 20 takes the `ws` package's.
const client = connect(endpoint.replace(/^http/, 'ws'), { webSocketImpl: WebSocket, apiKey });
try {
  const last = await followGeneration(client, { job: job.id, every: 5 }, (event) =>
    console.log(
      `${event.status} step ${event.step}/${event.totalSteps} nearest ${event.previewNearest?.id ?? '-'}`,
    ),
  );
  for (const item of last.job.items) {
    console.log(
      `${item.id} verifier ${item.verifierScore.toFixed(3)} ${item.image?.mimeType ?? 'no picture'}`,
    );
  }
} finally {
  await client.dispose();
}
