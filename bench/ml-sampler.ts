/**
 * One request (10 embeddings, guidance on): DDPM over every training step vs DDIM-50, and the share of
 * the sampler's wall time spent inside ONNX Runtime's session.run.
 */
import { sampleEmbeddings, type SampleOptions } from '../src/ml/index.js';
import { fixed, flagNumber, median, openModel, table, trainedUser } from './ml-common.js';

const model = await openModel();
const runs = flagNumber('runs', 5);
const count = flagNumber('count', 10);
const T = model.schedule.timesteps;
const guidanceScale = model.defaultGuidanceScale;

async function measure(
  options: Omit<SampleOptions, 'seed'>,
): Promise<{ wall: number; inRun: number; steps: number }> {
  const walls: number[] = [];
  const shares: number[] = [];
  let steps = 0;
  for (let r = 0; r <= runs; r += 1) {
    const before = model.prior.stats.milliseconds;
    const started = performance.now();
    steps = 0;
    for await (const event of sampleEmbeddings(model, { ...options, seed: r }))
      if (event.type === 'step') steps += 1;
    const wall = performance.now() - started;
    if (r === 0) continue; // warm-up
    walls.push(wall);
    shares.push((model.prior.stats.milliseconds - before) / wall);
  }
  return { wall: median(walls), inRun: median(shares), steps };
}

const base = { user: trainedUser(model, 0), count, guidanceScale };
const ddpm = await measure({ ...base, method: 'ddpm' });
const ddim = await measure({ ...base, method: 'ddim', steps: 50 });
console.log(
  `one request: ${count} embeddings, guidance w = ${guidanceScale} (2 x ${count} rows per run), median of ${runs}\n`,
);
console.log(
  table(
    ['sampler', 'steps', 'wall time (ms)', 'ms per step', 'share inside session.run'],
    [
      [
        `DDPM (every step)`,
        ddpm.steps,
        fixed(ddpm.wall, 1),
        fixed(ddpm.wall / ddpm.steps, 3),
        `${fixed(ddpm.inRun * 100, 1)}%`,
      ],
      [
        'DDIM-50',
        ddim.steps,
        fixed(ddim.wall, 1),
        fixed(ddim.wall / ddim.steps, 3),
        `${fixed(ddim.inRun * 100, 1)}%`,
      ],
    ],
  ),
);
console.log(`\nDDPM / DDIM-50 wall-time ratio: ${fixed(ddpm.wall / ddim.wall, 1)}x (T = ${T})`);
await model.dispose();
