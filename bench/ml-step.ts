/** Per-step latency of the prior and rows per second against batch size. */
import { SeededRandom } from '../src/ml/index.js';
import { fixed, flagNumber, openModel, table, timeMedian } from './ml-common.js';

const model = await openModel();
const D = model.embeddingDim;
const runs = flagNumber('runs', 15);
const rng = new SeededRandom(0);
const rows: (string | number)[][] = [];
for (const batch of [1, 2, 4, 8, 16, 32, 64, 128, 256]) {
  const noisyEmbedding = new Float32Array(batch * D);
  rng.fillNormal(noisyEmbedding);
  const timestep = BigInt64Array.from({ length: batch }, (_, i) =>
    BigInt((i * 37) % model.schedule.timesteps),
  );
  const userRow = BigInt64Array.from({ length: batch }, (_, i) => BigInt(i % (model.nullUserRow + 1)));
  const rating = BigInt64Array.from({ length: batch }, (_, i) => BigInt(i % 3));
  const ms = await timeMedian(runs, () => model.prior.run({ noisyEmbedding, timestep, userRow, rating }), 5);
  // A guided embedding takes two rows (conditional + null) per step, and DDIM-50 takes 50 steps.
  rows.push([
    batch,
    fixed(ms, 3),
    fixed(ms / batch, 4),
    Math.round((batch / ms) * 1000),
    fixed((batch / 2 / 50 / ms) * 1000, 1),
  ]);
}
console.log(`median of ${runs} runs of session.run per batch size\n`);
console.log(
  table(['rows per run', 'step latency (ms)', 'ms per row', 'rows/s', 'embeddings/s (guided DDIM-50)'], rows),
);
await model.dispose();
