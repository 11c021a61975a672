/**
 * Does DDIM-50 personalise as well as DDPM over every step? For each prior user, sample embeddings
 * (guided, liked) with both samplers and score them with the verifier: for the user they were made
 * for ("own") and for every other user ("other"). The gap own - other is the paper's personalisation
 * signal; the paper's permutation test (Algorithm 1, shuffling sample -> user) gives z and p.
 */
import {
  DenoiseBatcher,
  permutationTest,
  sampleToEnd,
  type RebecaModel,
  type SamplingMethod,
} from '../src/ml/index.js';
import { fixed, flagNumber, openModel, table, trainedUser } from './ml-common.js';

const model = await openModel();
const perUser = flagNumber('count', 25);
const maxUsers = flagNumber('users', 24);
const D = model.embeddingDim;
// Users known to both the prior and the verifier.
const users = model.manifest.users
  .map((id, index) => ({ id, condition: trainedUser(model, index), verifierRow: model.verifier.userRow(id) }))
  .filter((user): user is typeof user & { verifierRow: number } => user.verifierRow !== undefined)
  .slice(0, maxUsers);

async function evaluate(method: SamplingMethod, steps: number | undefined) {
  const batcher = new DenoiseBatcher(model.prior, { maxBatchRows: 4096, maxQueueDelayMs: 5 });
  const started = performance.now();
  const samples = await Promise.all(
    users.map((user, u) =>
      sampleToEnd(model, {
        user: user.condition,
        count: perUser,
        method,
        steps,
        seed: 1000 + u,
        denoiser: batcher,
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  // scores[s * n + v]: verifier probability of sample s for user v; sample s was made for owner[s].
  const n = users.length;
  const owner = Int32Array.from({ length: n * perUser }, (_, s) => Math.floor(s / perUser));
  const scores = new Float64Array(n * perUser * n);
  owner.forEach((u, s) => {
    const i = s % perUser;
    const e = (samples[u] as Float32Array).subarray(i * D, (i + 1) * D);
    users.forEach((other, v) => (scores[s * n + v] = model.verifier.probability(other.verifierRow, e)));
  });
  const test = permutationTest(scores, owner, n, 1000, 7);
  return {
    own: test.ownMean,
    other: test.othersMean,
    z: test.z,
    p: test.pValue,
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
