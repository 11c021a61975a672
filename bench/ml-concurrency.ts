/** Throughput of 16 concurrent requests: shared dynamic batches vs one request at a time. */
import { DenoiseBatcher, sampleToEnd, type SampleOptions } from '../src/ml/index.js';
import { fixed, flagNumber, median, openModel, table } from './ml-common.js';

const model = await openModel();
const runs = flagNumber('runs', 3);
const concurrent = flagNumber('requests', 16);
const count = flagNumber('count', 4);
const steps = flagNumber('steps', 50);
const users = model.nullUserRow;
// Mixed users, guidance scales and step counts, as live traffic would be.
const requests: SampleOptions[] = Array.from({ length: concurrent }, (_, i) => ({
  userRow: i % users,
  count,
  guidanceScale: [3, 5, 7, 10][i % 4] as number,
  method: 'ddim',
  steps: i % 2 === 0 ? steps : Math.max(1, Math.round(steps * 0.8)),
  seed: i,
}));
const embeddings = concurrent * count;

async function oneAtATime(): Promise<void> {
  for (const options of requests) await sampleToEnd(model, options);
}
async function unbatchedConcurrent(): Promise<void> {
  await Promise.all(requests.map((options) => sampleToEnd(model, options)));
}
const batcher = new DenoiseBatcher(model.prior, {
  maxBatchRows: flagNumber('max-rows', 256),
  maxQueueDelayMs: 2,
});
async function batched(): Promise<void> {
  await Promise.all(requests.map((options) => sampleToEnd(model, { ...options, denoiser: batcher })));
}

const results: (string | number)[][] = [];
let sequentialMs = 0;
for (const [name, fn] of [
  ['one at a time', oneAtATime],
  ['concurrent, no batcher (one run per request step)', unbatchedConcurrent],
  ['concurrent, DenoiseBatcher', batched],
] as const) {
  const times: number[] = [];
  const statsBefore = { ...batcher.stats };
  for (let r = 0; r <= runs; r += 1) {
    const started = performance.now();
    await fn();
    if (r > 0) times.push(performance.now() - started);
  }
  const ms = median(times);
  if (name === 'one at a time') sequentialMs = ms;
  const batchRuns = batcher.stats.runs - statsBefore.runs;
  const meanRows = batchRuns > 0 ? fixed((batcher.stats.rows - statsBefore.rows) / batchRuns, 1) : '-';
  results.push([
    name,
    fixed(ms, 0),
    fixed((embeddings / ms) * 1000, 1),
    `${fixed(sequentialMs / ms, 1)}x`,
    meanRows,
  ]);
}
console.log(
  `${concurrent} requests x ${count} embeddings, DDIM ${steps}/${Math.round(steps * 0.8)} steps, ` +
    `guidance 3..10, median of ${runs}\n`,
);
console.log(table(['mode', 'wall time (ms)', 'embeddings/s', 'speed-up', 'mean rows per run'], results));
await model.dispose();
