/**
 * Evaluation statistics of issue 12 at the paper's sizes, on random data (src/ml/distribution.ts and the
 * permutation test):
 *
 * (a) the permutation test of 94 users x 25 embeddings x 1000 shuffles on a random score matrix of the
 *     right shape (2,350 x 94): the verifier scoring that fills that matrix is not included;
 * (b) Frechet distance and CMMD of 2,350 generated embeddings against 40,000 reference items at D = 1024:
 *     each reference precompute (FD: mean, covariance and its eigen-decomposition; CMMD: normalised rows
 *     and mean k_yy) timed apart from the per-evaluation call. The exact 40k x 40k k_yy would take tens of
 *     minutes here: by default it is timed on a seeded subsample (`--ref-pairs`, as `maxReferencePairs`)
 *     and extrapolated by the pair count; `--exact` times the exact term once as well;
 * (c) FD at D = 64 and 256 for scale, and the per-user case (25 samples against 50 items at D = 1024)
 *     through both routes of `frechetDistance`.
 *
 *   npx tsx bench/evaluation-stats.ts [--runs 3] [--items 40000] [--width 1024] [--users 94]
 *     [--per-user 25] [--permutations 1000] [--ref-pairs 5000000] [--exact]
 *
 * Medians of `--runs` runs (no warm-up run for the multi-second operations), wall and process CPU time.
 */
import { cpus } from 'node:os';
import {
  cmmdAgainst,
  cmmdReference,
  frechetAgainst,
  frechetDistance,
  frechetReference,
  permutationTest,
  SeededRandom,
} from '../src/ml/index.js';
import { fixed, flagNumber, loadLine, median, table } from './ml-common.js';

const runs = flagNumber('runs', 3);
const N = flagNumber('items', 40_000);
const D = flagNumber('width', 1024);
const U = flagNumber('users', 94);
const K = flagNumber('per-user', 25);
const P = flagNumber('permutations', 1000);
const refPairs = flagNumber('ref-pairs', 5_000_000);
const exact = process.argv.includes('--exact');
const S = U * K;

interface Timing {
  wall: number;
  cpu: number;
}
/** Median wall and CPU ms of `count` calls (and the last result). */
function timed<T>(count: number, fn: () => T): Timing & { result: T } {
  const walls: number[] = [];
  const cpu: number[] = [];
  let result: T | undefined;
  for (let i = 0; i < count; i += 1) {
    const before = process.cpuUsage();
    const started = performance.now();
    result = fn();
    walls.push(performance.now() - started);
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall: median(walls), cpu: median(cpu), result: result as T };
}
const seconds = (t: Timing): string[] => [fixed(t.wall / 1000, 2), fixed(t.cpu / 1000, 2)];

/** Random rows with a per-dimension mean and scale (so covariances and kernels are not trivial). */
function randomRows(rng: SeededRandom, n: number, dim: number, shift: number): Float32Array {
  const mean = Float64Array.from({ length: dim }, () => rng.nextNormal() * 0.5 + shift);
  const scale = Float64Array.from({ length: dim }, () => 0.5 + rng.nextFloat());
  const out = new Float32Array(n * dim);
  for (let r = 0; r < n; r += 1) {
    for (let j = 0; j < dim; j += 1)
      out[r * dim + j] = (mean[j] as number) + (scale[j] as number) * rng.nextNormal();
  }
  return out;
}

console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}; ${loadLine()}`);
console.log(`runs: ${runs}; ${U} users x ${K} = ${S} generated, ${N} reference items, D = ${D}\n`);
const rows: string[][] = [];

// (a) The permutation test.
const rng = new SeededRandom(12);
const scores = Float64Array.from({ length: S * U }, () => rng.nextFloat());
const owner = Int32Array.from({ length: S }, (_, s) => Math.floor(s / K));
const permutation = timed(runs, () => permutationTest(scores, owner, U, P, 7));
rows.push([
  `permutation test: ${U} users x ${K} samples x ${P} shuffles (scoring excluded)`,
  ...seconds(permutation),
]);
console.log(
  `permutation test: z ${fixed(permutation.result.z, 2)}, ${permutation.result.nulls.length} nulls kept`,
);

// (b) FD and CMMD at D, then FD at 64 and 256.
for (const dim of [...new Set([64, 256, D])].sort((a, b) => a - b)) {
  const dataRng = new SeededRandom(dim);
  const reference = randomRows(dataRng, N, dim, 0);
  const generated = randomRows(dataRng, S, dim, 0.1);
  const ref = timed(runs, () => frechetReference(reference, N, dim));
  const against = timed(runs, () => frechetAgainst(ref.result, generated, S));
  rows.push([
    `D = ${dim}: FD reference (mean, covariance of ${N} rows, eigen-decomposition)`,
    ...seconds(ref),
  ]);
  rows.push([`D = ${dim}: FD of ${S} generated against it`, ...seconds(against)]);
  console.log(`D = ${dim}: FD ${fixed(against.result, 4)}`);
  if (dim !== D) continue;

  const oneShot = timed(1, () => frechetDistance(generated, S, reference, N, dim));
  rows.push([`D = ${dim}: frechetDistance in one call (${S} vs ${N}; one run)`, ...seconds(oneShot)]);
  console.log(
    `D = ${dim}: FD in one call ${fixed(oneShot.result, 4)} (against: ${fixed(against.result, 4)})`,
  );

  const cmmdRef = timed(runs, () => cmmdReference(reference, N, dim, { maxReferencePairs: refPairs }));
  const m = cmmdRef.result.kyyRows;
  const pairsSampled = (m * (m - 1)) / 2;
  const pairsAll = (N * (N - 1)) / 2;
  rows.push([
    `D = ${dim}: CMMD reference, k_yy on ${m} sampled rows (${(pairsSampled / 1e6).toFixed(1)}M pairs)`,
    ...seconds(cmmdRef),
  ]);
  const factor = pairsAll / pairsSampled;
  rows.push([
    `D = ${dim}: CMMD reference, exact k_yy (${(pairsAll / 1e6).toFixed(0)}M pairs): **extrapolated** x${factor.toFixed(0)}`,
    fixed((cmmdRef.wall * factor) / 1000, 0),
    fixed((cmmdRef.cpu * factor) / 1000, 0),
  ]);
  if (exact) {
    const full = timed(1, () => cmmdReference(reference, N, dim));
    rows.push([`D = ${dim}: CMMD reference, exact k_yy (measured once)`, ...seconds(full)]);
    console.log(`exact mean k_yy ${full.result.meanKyy}, sampled ${cmmdRef.result.meanKyy}`);
  }
  const cmmdCall = timed(runs, () => cmmdAgainst(cmmdRef.result, generated, S));
  rows.push([
    `D = ${dim}: cmmdAgainst: k_xx (${S}^2) + k_xy (${S} x ${N}) of ${S} generated`,
    ...seconds(cmmdCall),
  ]);
  console.log(`D = ${dim}: CMMD ${fixed(cmmdCall.result, 4)} (k_yy sampled: ${m} rows)`);

  // A user's samples against their held-out likes: the route frechetDistance picks by itself.
  const mine = generated.subarray(0, K * dim);
  const theirs = reference.subarray(0, 50 * dim);
  const small = timed(runs, () => frechetDistance(mine, K, theirs, 50, dim, { method: 'samples' }));
  const smallCov = timed(runs, () => frechetDistance(mine, K, theirs, 50, dim, { method: 'covariance' }));
  rows.push([`D = ${dim}: one user's FD, ${K} vs 50 rows, from the samples (auto)`, ...seconds(small)]);
  rows.push([`D = ${dim}: same through the D x D covariances`, ...seconds(smallCov)]);
  console.log(`per-user FD: samples ${fixed(small.result, 6)}, covariance ${fixed(smallCov.result, 6)}`);
}

console.log(`\n${loadLine()}\n`);
console.log(table(['operation', 'wall (s)', 'CPU (s)'], rows));
