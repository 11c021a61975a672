/**
 * Does DDIM-50 personalise as well as DDPM over every step? For each prior user, sample embeddings
 * (guided, liked) with both samplers and score them with the verifier: for the user they were made
 * for ("own") and for every other user ("other"). The gap own - other is the paper's personalisation
 * signal; the paper's permutation test (Algorithm 1, shuffling sample -> user) gives z and p.
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
const perUser = flagNumber('count', 25);
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
  // score[k][v]: verifier probability of sample k for verifier user v; sample k was made for owner[k].
  const owner = users.flatMap((_, u) => Array.from({ length: perUser }, () => u));
  const score = owner.map((u, k) => {
    const i = k % perUser;
    const e = (samples[u] as Float32Array).subarray(i * D, (i + 1) * D);
    return users.map((other) => model.verifier.probability(other.verifierRow, e));
  });
  const n = users.length;
  // Algorithm 1: per-user mean score of the samples assigned to them, averaged over users.
  const statistic = (assignment: number[]): number => {
    const sums = new Float64Array(n);
    const counts = new Float64Array(n);
    assignment.forEach((v, k) => {
      sums[v] = (sums[v] as number) + (score[k]?.[v] as number);
      counts[v] = (counts[v] as number) + 1;
    });
    let total = 0;
    for (let v = 0; v < n; v += 1) total += (sums[v] as number) / Math.max(counts[v] as number, 1);
    return total / n;
  };
  const own = statistic(owner);
  let other = 0;
  score.forEach((row, k) => row.forEach((value, v) => (other += v === owner[k] ? 0 : value)));
  other /= score.length * (n - 1);
  // The null: shuffle the sample -> user assignment.
  const rng = new SeededRandom(7);
  const permutations = 1000;
  let atLeast = 0;
  const nulls: number[] = [];
  for (let p = 0; p < permutations; p += 1) {
    const assignment = [...owner];
    for (let i = assignment.length - 1; i > 0; i -= 1) {
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
