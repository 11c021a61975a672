import { SeededRandom } from './rng.js';

/** Differences below this are rounding, not signal (scores are probabilities). */
const TIE = 1e-12;

/** The paper's personalisation test (Algorithm 1) on one score matrix. */
export interface PermutationResult {
  users: number;
  samples: number;
  /** Mean over users of the mean score of the samples generated for them. */
  statistic: number;
  permutationMean: number;
  permutationStd: number;
  /** (statistic - permutation mean) / permutation std (0 when the null has no spread). */
  z: number;
  /** (k + 1) / (permutations + 1), k = shuffles whose statistic is at least the real one. */
  pValue: number;
  permutations: number;
  /** Mean over users of (mean score of own samples - mean score of the other users' samples). */
  ownVsOthersGap: number;
  ownMean: number;
  othersMean: number;
  /** The statistic of each shuffle, in the order drawn (the null distribution, e.g. for a histogram). */
  nulls: Float64Array;
}

/**
 * `scores[s * users + u]`: the score of sample s for user u; `owner[s]`: the user sample s was made for.
 * The null shuffles the sample -> user assignment `permutations` times (Fisher-Yates, seeded), keeping
 * each user's number of samples. training/rebeca/quality.py `permutation_test` is the same test (tests
 * compare both against the closed-form permutation mean on a fixed case).
 */
export function permutationTest(
  scores: ArrayLike<number>,
  owner: Int32Array,
  users: number,
  permutations: number,
  seed: number,
): PermutationResult {
  const samples = owner.length;
  if (scores.length !== samples * users) {
    throw new RangeError(`scores hold ${scores.length} values, expected ${samples} x ${users}`);
  }
  const statisticOf = (assignment: Int32Array): number => {
    const sums = new Float64Array(users);
    const counts = new Float64Array(users);
    for (let s = 0; s < samples; s += 1) {
      const u = assignment[s] as number;
      sums[u] = (sums[u] as number) + (scores[s * users + u] as number);
      counts[u] = (counts[u] as number) + 1;
    }
    let total = 0;
    for (let u = 0; u < users; u += 1) total += (sums[u] as number) / Math.max(counts[u] as number, 1);
    return total / users;
  };
  const statistic = statisticOf(owner);
  const own = new Float64Array(users);
  const ownCount = new Float64Array(users);
  const others = new Float64Array(users);
  const othersCount = new Float64Array(users);
  for (let s = 0; s < samples; s += 1) {
    for (let u = 0; u < users; u += 1) {
      const value = scores[s * users + u] as number;
      if (owner[s] === u) {
        own[u] = (own[u] as number) + value;
        ownCount[u] = (ownCount[u] as number) + 1;
      } else {
        others[u] = (others[u] as number) + value;
        othersCount[u] = (othersCount[u] as number) + 1;
      }
    }
  }
  let gap = 0;
  let ownMean = 0;
  let othersMean = 0;
  for (let u = 0; u < users; u += 1) {
    const o = (own[u] as number) / Math.max(ownCount[u] as number, 1);
    const x = (others[u] as number) / Math.max(othersCount[u] as number, 1);
    gap += o - x;
    ownMean += o;
    othersMean += x;
  }
  const rng = new SeededRandom(seed);
  const shuffled = Int32Array.from(owner);
  const nulls = new Float64Array(permutations);
  let atLeast = 0;
  for (let p = 0; p < permutations; p += 1) {
    for (let i = samples - 1; i > 0; i -= 1) {
      const j = Math.floor(rng.nextFloat() * (i + 1));
      const swap = shuffled[i] as number;
      shuffled[i] = shuffled[j] as number;
      shuffled[j] = swap;
    }
    const value = statisticOf(shuffled);
    nulls[p] = value;
    // Ties count as at least as large: equal statistics summed in another order differ by rounding.
    if (value >= statistic - TIE) atLeast += 1;
  }
  let mean = 0;
  for (const value of nulls) mean += value;
  mean /= Math.max(permutations, 1);
  let variance = 0;
  for (const value of nulls) variance += (value - mean) ** 2;
  const std = Math.sqrt(variance / Math.max(permutations, 1));
  return {
    users,
    samples,
    statistic,
    permutationMean: mean,
    permutationStd: std,
    z: std > TIE ? (statistic - mean) / std : 0,
    pValue: (atLeast + 1) / (permutations + 1),
    permutations,
    ownVsOthersGap: gap / users,
    ownMean: ownMean / users,
    othersMean: othersMean / users,
    nulls,
  };
}
