/**
 * Throughput of 16 concurrent requests: shared dynamic batches vs one request at a time. Modes are
 * interleaved round by round so that a shared machine's changing load hits them alike.
 */
import { DenoiseBatcher, sampleToEnd, type Denoiser, type SampleOptions } from '../src/ml/index.js';
import { fixed, flagNumber, median, openModel, table, trainedUser } from './ml-common.js';

const model = await openModel();
const runs = flagNumber('runs', 5);
const concurrent = flagNumber('requests', 16);
const steps = flagNumber('steps', 50);

// Mixed users, guidance scales and step counts, as live traffic would be.
function requests(count: number): SampleOptions[] {
  return Array.from({ length: concurrent }, (_, i) => ({
    user: trainedUser(model, i),
    count,
    guidanceScale: [3, 5, 7, 10][i % 4] as number,
    method: 'ddim',
    steps: i % 2 === 0 ? steps : Math.round(steps * 0.8),
    seed: i,
  }));
}

const modes: { name: string; run: (batch: SampleOptions[]) => Promise<unknown>; batcher?: DenoiseBatcher }[] =
  [
    {
      name: 'one at a time',
      run: async (batch) => {
        for (const options of batch) await sampleToEnd(model, options);
      },
    },
    {
      name: 'concurrent, no batcher',
      run: (batch) => Promise.all(batch.map((options) => sampleToEnd(model, options))),
    },
  ];
for (const maxBatchRows of [32, 256]) {
  const batcher = new DenoiseBatcher(model.prior, { maxBatchRows, maxQueueDelayMs: 2 });
  const denoiser: Denoiser = batcher;
  modes.push({
    name: `DenoiseBatcher, max ${maxBatchRows} rows`,
    run: (batch) => Promise.all(batch.map((options) => sampleToEnd(model, { ...options, denoiser }))),
    batcher,
  });
}

console.log(
  `${concurrent} concurrent requests, DDIM ${steps} or ${Math.round(steps * 0.8)} steps, guidance 3..10; ` +
    `embeddings/s, median of ${runs} interleaved rounds (speed-up over one at a time)\n`,
);
const rows: string[][] = [];
for (const count of [1, 4, 10]) {
  const batch = requests(count);
  const times = modes.map(() => [] as number[]);
  for (let round = 0; round <= runs; round += 1) {
    for (const [m, mode] of modes.entries()) {
      const started = performance.now();
      await mode.run(batch);
      if (round > 0) times[m]?.push(performance.now() - started);
    }
  }
  const embeddings = concurrent * count;
  const medians = times.map((t) => median(t));
  const baseline = medians[0] as number;
  rows.push([
    `${count} (${concurrent * count * 2} rows)`,
    ...medians.map((ms) => `${fixed((embeddings / ms) * 1000, 1)} (${fixed(baseline / ms, 1)}x)`),
  ]);
}
console.log(table(['embeddings per request', ...modes.map((mode) => mode.name)], rows));
for (const mode of modes) {
  if (mode.batcher) {
    const { runs: batchRuns, rows: batchRows } = mode.batcher.stats;
    console.log(`\n${mode.name}: ${batchRuns} runs, mean ${fixed(batchRows / batchRuns, 1)} rows per run`);
  }
}
await model.dispose();
