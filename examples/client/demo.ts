/**
 * The typed client against a running gateway (`npm start`):
 *   npx tsx examples/client/demo.ts [http://localhost:4000/graphql] [u-003]
 * recommends for the user, starts a short generation and follows it to its end.
 */
import WebSocket from 'ws';
import { connect, followGeneration, generate, recommend } from './index.js';

const endpoint = process.argv[2] ?? 'http://localhost:4000/graphql';
const user = process.argv[3] ?? 'u-003';

const recommendation = await recommend(endpoint, { user, first: 5, includeGenerated: true });
for (const { rank, score, reason, item } of recommendation.items) {
  const label = item.__typename === 'Item' ? `${item.id} ${item.title ?? ''}` : `generated ${item.id}`;
  console.log(`${rank}. ${score.toFixed(3)} ${reason} ${label}`);
}

const job = await generate(endpoint, { user, count: 2, steps: 25 });
// Browsers have a WebSocket; Node 20 takes the `ws` package's.
const client = connect(endpoint.replace(/^http/, 'ws'), { webSocketImpl: WebSocket });
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
