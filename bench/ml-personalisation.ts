/**
 * Does DDIM-50 personalise as well as DDPM over every step? For each prior user, sample embeddings
 * (guided, liked) with both samplers and score them with the verifier: for the user they were made
 * for ("own") and for every other user ("other"). The gap own - other is the paper's personalisation
 * signal; a permutation test over users gives its p-value.
 */
import {
  DenoiseBatcher,
  SeededRandom,
  sampleToEnd,
  type RebecaModel,
  type SamplingMethod,
} from '../src/ml/index.js';
import { fixed, flagNumber, openModel, table } from './ml-common.js';

const model = await openModel();
const perUser = flagNumber('count', 4);
const maxUsers = flagNumber('users', 24);
const D = model.embeddingDim;
// Users known to both the prior and the verifier.
const users = model.manifest.users
  .map((id, priorRow) => ({ id, priorRow, verifierRow: model.verifier.userRow(id) }))
  .filter(
    (user): user is { id: string; priorRow: number; verifierRow: number } => user.verifierRow !== undefined,
  )
  .slice(0, maxUsers);

async function evaluate(method: SamplingMethod, steps: number | undefined) {
  const batcher = new DenoiseBatcher(model.prior, { maxBatchRows: 4096, maxQueueDelayMs: 5 });
  const started = performance.now();
  const samples = await Promise.all(
    users.map((user, u) =>
      sampleToEnd(model, {
        userRow: user.priorRow,
        count: perUser,
        method,
        steps,
        seed: 1000 + u,
        denoiser: batcher,
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  // score[u][v]: mean verifier probability of user u's samples for verifier user v.
  const score = users.map((_, u) =>
    users.map((other) => {
      let sum = 0;
      for (let k = 0; k < perUser; k += 1) {
        const e = (samples[u] as Float32Array).subarray(k * D, (k + 1) * D);
        sum += model.verifier.probability(other.verifierRow, e);
      }
      return sum / perUser;
    }),
  );
  const n = users.length;
  const statistic = (assignment: number[]): number =>
    assignment.reduce((sum, v, u) => sum + (score[u]?.[v] as number), 0) / n;
  const own = statistic(users.map((_, u) => u));
  let other = 0;
  for (let u = 0; u < n; u += 1) for (let v = 0; v < n; v += 1) if (u !== v) other += score[u]?.[v] as number;
  other /= n * (n - 1);
  // Algorithm 1: shuffle the sample -> user assignment.
  const rng = new SeededRandom(7);
  const permutations = 1000;
  let atLeast = 0;
  const nulls: number[] = [];
  for (let p = 0; p < permutations; p += 1) {
    const assignment = users.map((_, u) => u);
    for (let i = n - 1; i > 0; i -= 1) {
      const j = Math.floor(rng.nextFloat() * (i + 1));
      [assignment[i], assignment[j]] = [assignment[j] as number, assignment[i] as number];
    }
    const value = statistic(assignment);
    nulls.push(value);
    if (value >= own) atLeast += 1;
  }
  const mean = nulls.reduce((a, b) => a + b, 0) / permutations;
  const sd = Math.sqrt(nulls.reduce((a, b) => a + (b - mean) ** 2, 0) / permutations);
  return {
    own,
    other,
    z: (own - mean) / sd,
    p: (atLeast + 1) / (permutations + 1),
    seconds,
    runs: batcher.stats.runs,
  };
}

function describe(model: RebecaModel): string {
  return `${users.length} users x ${perUser} samples, guidance w = ${model.defaultGuidanceScale}, rating like`;
}

const rows: (string | number)[][] = [];
for (const [name, method, steps] of [
  [`DDPM (all ${model.schedule.timesteps} steps)`, 'ddpm', undefined],
  ['DDIM-50 (eta 0)', 'ddim', Math.min(50, model.schedule.timesteps)],
] as const) {
  const r = await evaluate(method, steps);
  rows.push([
    name,
    fixed(r.own, 3),
    fixed(r.other, 3),
    fixed(r.own - r.other, 3),
    fixed(r.z, 1),
    fixed(r.p, 4),
    fixed(r.seconds, 1),
  ]);
}
console.log(`${describe(model)}; verifier like-probability of the samples\n`);
console.log(
  table(
    ['sampler', 'own user', 'other users', 'gap', 'z vs permutations', 'p (1000 perm.)', 'wall (s)'],
    rows,
  ),
);
await model.dispose();
