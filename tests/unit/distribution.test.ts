import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  cmmd,
  cmmdAgainst,
  cmmdReference,
  frechetAgainst,
  frechetDistance,
  frechetReference,
  histogram,
  meanAndCovariance,
  meanPairwiseCosineDistance,
  precisionRecallAtK,
  symmetricEigen,
} from '../../src/ml/distribution.js';
import { permutationTest } from '../../src/ml/permutation.js';
import { SeededRandom } from '../../src/ml/rng.js';

/** tests/fixtures/distribution-case.json, written by training/tests/make_distribution_case.py (NumPy). */
interface Case {
  dim: number;
  inputs: {
    x: number[][];
    y: number[][];
    singular: number[][];
    singular2: number[][];
    users: number;
    generated: number[][];
    generatedOwners: number[];
    heldOut: number[][];
    heldOutOwners: number[];
    liked: number[];
    symmetric: number[][];
    values: number[];
  };
  frechet: Record<'xy' | 'yx' | 'singularY' | 'ySingular' | 'singularSingular2', number>;
  cmmd: Record<'xy' | 'singularY' | 'xySigma1Scale1', number>;
  precisionRecall: {
    precision: number;
    recall: number;
    perUserPrecision: (number | null)[];
    perUserRecall: (number | null)[];
    matched: number[];
  };
  diversity: Record<'x' | 'y' | 'singular', number>;
  histogram: { bins: number; edges: number[]; counts: number[] };
  eigen: { values: number[]; vectors: number[][] };
}

const fixture = JSON.parse(readFileSync('tests/fixtures/distribution-case.json', 'utf8')) as Case;
const D = fixture.dim;
const rows = (m: number[][]) => ({ data: Float32Array.from(m.flat()), n: m.length });
const X = rows(fixture.inputs.x);
const Y = rows(fixture.inputs.y);
const S1 = rows(fixture.inputs.singular);
const S2 = rows(fixture.inputs.singular2);

/** |actual - expected| <= rel * |expected| (+ a tiny absolute floor). */
function expectClose(actual: number, expected: number, rel = 1e-6, abs = 1e-12): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected) + abs);
}

function randomMatrix(rng: SeededRandom, n: number, dim: number, scale = 1, shift = 0): Float64Array {
  const out = new Float64Array(n * dim);
  for (let i = 0; i < out.length; i += 1) out[i] = rng.nextNormal() * scale + shift;
  return out;
}

function reconstructionError(a: ArrayLike<number>, n: number): number {
  const { values, vectors } = symmetricEigen(a, n);
  let worst = 0;
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < n; j += 1) {
      let s = 0;
      for (let k = 0; k < n; k += 1)
        s += (vectors[i * n + k] as number) * (values[k] as number) * (vectors[j * n + k] as number);
      worst = Math.max(worst, Math.abs(s - ((a[i * n + j] as number) + (a[j * n + i] as number)) / 2));
      let o = 0;
      for (let k = 0; k < n; k += 1) o += (vectors[k * n + i] as number) * (vectors[k * n + j] as number);
      worst = Math.max(worst, Math.abs(o - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

describe('symmetricEigen', () => {
  it('matches numpy.linalg.eigh on the fixture (values, and vectors up to sign)', () => {
    const n = fixture.inputs.symmetric.length;
    const { values, vectors } = symmetricEigen(fixture.inputs.symmetric.flat(), n);
    fixture.eigen.values.forEach((v, k) => expectClose(values[k] as number, v, 1e-12, 1e-13));
    for (let k = 0; k < n; k += 1) {
      const sign = Math.sign(vectors[k] as number) * Math.sign(fixture.eigen.vectors[0]![k]!);
      for (let i = 0; i < n; i += 1) {
        expect(Math.abs((vectors[i * n + k] as number) * sign - fixture.eigen.vectors[i]![k]!)).toBeLessThan(
          1e-12,
        );
      }
    }
  });

  it('decomposes a 3 x 3 matrix by hand', () => {
    // [[2, 1, 0], [1, 2, 0], [0, 0, 3]]: eigenvalues 1 ((1, -1, 0) / sqrt 2), 3 and 3.
    const a = [2, 1, 0, 1, 2, 0, 0, 0, 3];
    const { values, vectors } = symmetricEigen(a, 3);
    expect(Array.from(values).map((v) => Number(v.toFixed(12)))).toEqual([1, 3, 3]);
    expect(Math.abs(vectors[0 * 3 + 0] as number)).toBeCloseTo(Math.SQRT1_2, 12);
    expect((vectors[0] as number) * (vectors[3] as number)).toBeCloseTo(-0.5, 12);
    expect(vectors[6] as number).toBeCloseTo(0, 12);
    expect(reconstructionError(a, 3)).toBeLessThan(1e-14);
    expect(Array.from(symmetricEigen(a, 3, { vectors: false }).values)).toEqual(Array.from(values));
  });

  it('reconstructs A = V diag(w) V^T with orthonormal V on a random symmetric 50 x 50', () => {
    const rng = new SeededRandom(5);
    const a = randomMatrix(rng, 50, 50);
    expect(reconstructionError(a, 50)).toBeLessThan(1e-12);
    const { values } = symmetricEigen(a, 50);
    for (let k = 1; k < 50; k += 1)
      expect(values[k] as number).toBeGreaterThanOrEqual(values[k - 1] as number);
    // Only the symmetric part counts; the input is not modified.
    const copy = Float64Array.from(a);
    symmetricEigen(a, 50);
    expect(a).toEqual(copy);
  });

  it('handles degenerate matrices: zero, diagonal, 1 x 1, and refuses NaN', () => {
    expect(Array.from(symmetricEigen(new Float64Array(16), 4).values)).toEqual([0, 0, 0, 0]);
    expect(Array.from(symmetricEigen([3, 0, 0, 0, -1, 0, 0, 0, 2], 3).values)).toEqual([-1, 2, 3]);
    expect(Array.from(symmetricEigen([7], 1).values)).toEqual([7]);
    expect(reconstructionError([3, 0, 0, 0, -1, 0, 0, 0, 2], 3)).toBe(0);
    expect(() => symmetricEigen([1, Number.NaN, Number.NaN, 1], 2)).toThrow(RangeError);
    expect(() => symmetricEigen([1, 2, 3], 2)).toThrow(RangeError);
  });
});

describe('frechetDistance', () => {
  const pairs = [
    ['xy', X, Y],
    ['yx', Y, X],
    ['singularY', S1, Y],
    ['ySingular', Y, S1],
    ['singularSingular2', S1, S2],
  ] as const;

  it.each(['covariance', 'samples', 'auto'] as const)(
    'matches NumPy on the fixture, singular covariances included (%s)',
    (method) => {
      for (const [name, a, b] of pairs) {
        expectClose(frechetDistance(a.data, a.n, b.data, b.n, D, { method }), fixture.frechet[name], 1e-6);
      }
    },
  );

  it('gives the same value through a precomputed reference, and with float64 input', () => {
    const reference = frechetReference(Y.data, Y.n, D);
    expectClose(frechetAgainst(reference, X.data, X.n), fixture.frechet.yx, 1e-6);
    expectClose(frechetAgainst(reference, S1.data, S1.n), fixture.frechet.ySingular, 1e-6);
    expectClose(frechetDistance(Float64Array.from(X.data), X.n, Y.data, Y.n, D), fixture.frechet.xy, 1e-6);
  });

  it('is about 0 for a set against itself', () => {
    for (const method of ['covariance', 'samples'] as const) {
      expect(Math.abs(frechetDistance(X.data, X.n, X.data, X.n, D, { method }))).toBeLessThan(1e-9);
      expect(Math.abs(frechetDistance(S1.data, S1.n, S1.data, S1.n, D, { method }))).toBeLessThan(1e-9);
    }
  });

  it('matches the closed form for Gaussians with known means and diagonal covariances, rotated or not', () => {
    // Rows mu +- c s_i e_i (two per dimension): sample mean mu, unbiased covariance diag(s^2) exactly.
    const dim = 4;
    const design = (mu: number[], s: number[]): Float64Array => {
      const n = 2 * dim;
      const c = Math.sqrt((n - 1) / 2);
      const out = new Float64Array(n * dim);
      for (let i = 0; i < dim; i += 1) {
        for (let sign = 0; sign < 2; sign += 1) {
          const row = (2 * i + sign) * dim;
          for (let j = 0; j < dim; j += 1) out[row + j] = mu[j] as number;
          out[row + i] = (out[row + i] as number) + (sign === 0 ? c : -c) * (s[i] as number);
        }
      }
      return out;
    };
    const muX = [0, 1, -2, 0.5];
    const sX = [1, 2, 0.5, 3];
    const muY = [1, 1, 0, -0.5];
    const sY = [2, 0.5, 0.5, 1];
    const x = design(muX, sX);
    const y = design(muY, sY);
    const { mean, covariance } = meanAndCovariance(x, 2 * dim, dim);
    expect(Array.from(mean).map((v) => Number(v.toFixed(12)))).toEqual(muX);
    expect(covariance[1 * dim + 1] as number).toBeCloseTo(4, 12);
    expect(covariance[1 * dim + 2] as number).toBeCloseTo(0, 12);
    let closed = 0;
    for (let j = 0; j < dim; j += 1) closed += (muX[j]! - muY[j]!) ** 2 + (sX[j]! - sY[j]!) ** 2;
    expectClose(frechetDistance(x, 2 * dim, y, 2 * dim, dim, { method: 'covariance' }), closed, 1e-12);
    expectClose(frechetDistance(x, 2 * dim, y, 2 * dim, dim, { method: 'samples' }), closed, 1e-12);
    // An orthogonal map of both sets changes nothing, and makes the covariances non-diagonal.
    const q = symmetricEigen(randomMatrix(new SeededRandom(9), dim, dim), dim).vectors;
    const rotate = (m: Float64Array): Float64Array => {
      const out = new Float64Array(m.length);
      for (let r = 0; r < m.length / dim; r += 1) {
        for (let i = 0; i < dim; i += 1) {
          let s = 0;
          for (let j = 0; j < dim; j += 1) s += (q[i * dim + j] as number) * (m[r * dim + j] as number);
          out[r * dim + i] = s;
        }
      }
      return out;
    };
    expectClose(frechetDistance(rotate(x), 2 * dim, rotate(y), 2 * dim, dim), closed, 1e-10);
  });

  it('refuses sets of fewer than 2 rows and misshapen input', () => {
    expect(() => frechetDistance(X.data.subarray(0, D), 1, Y.data, Y.n, D)).toThrow(RangeError);
    expect(() => frechetDistance(X.data, X.n + 1, Y.data, Y.n, D)).toThrow(RangeError);
  });
});

describe('cmmd', () => {
  it('matches the google-research/cmmd formula in NumPy on the fixture', () => {
    expectClose(cmmd(X.data, X.n, Y.data, Y.n, D), fixture.cmmd.xy, 1e-6);
    expectClose(cmmd(S1.data, S1.n, Y.data, Y.n, D), fixture.cmmd.singularY, 1e-6);
    expectClose(cmmd(X.data, X.n, Y.data, Y.n, D, { sigma: 1, scale: 1 }), fixture.cmmd.xySigma1Scale1, 1e-6);
  });

  it('gives the same value through a precomputed reference, and ignores row norms', () => {
    const reference = cmmdReference(Y.data, Y.n, D);
    expect(reference.kyyExact).toBe(true);
    expectClose(cmmdAgainst(reference, X.data, X.n), fixture.cmmd.xy, 1e-6);
    const scaled = X.data.map((v, i) => v * (1 + Math.floor(i / D)));
    expectClose(cmmdAgainst(reference, scaled, X.n), fixture.cmmd.xy, 1e-5);
  });

  it('is 0 for identical sets (the biased estimator counts the diagonal)', () => {
    expect(Math.abs(cmmd(X.data, X.n, X.data, X.n, D))).toBeLessThan(1e-9);
    expect(Math.abs(cmmd(S1.data, S1.n, S1.data, S1.n, D))).toBeLessThan(1e-9);
  });

  it('estimates k_yy from a seeded subsample when maxReferencePairs is below the pair count', () => {
    const rng = new SeededRandom(3);
    const dim = 16;
    const big = Float32Array.from(randomMatrix(rng, 300, dim, 1, 0.2));
    const x = Float32Array.from(randomMatrix(rng, 40, dim, 1.2, 0));
    const exact = cmmdReference(big, 300, dim);
    const sampled = cmmdReference(big, 300, dim, { maxReferencePairs: 2000, seed: 1 });
    expect(sampled.kyyExact).toBe(false);
    expect(sampled.kyyRows).toBe(63); // 63 * 62 / 2 = 1953 <= 2000 < 64 * 63 / 2
    expect(cmmdReference(big, 300, dim, { maxReferencePairs: 2000, seed: 1 }).meanKyy).toBe(sampled.meanKyy);
    expect(cmmdReference(big, 300, dim, { maxReferencePairs: 300 * 299 }).kyyExact).toBe(true);
    // Unbiased, and noisy at 63 rows: CMMD is a small difference of kernel means near 1, so k_yy's
    // sampling error (here up to ~0.2 on the 1000 scale, for a CMMD of ~0.5) matters. Over 30 seeds
    // (deterministic) the estimates centre on the exact value.
    const errors = Array.from(
      { length: 30 },
      (_, seed) => cmmdReference(big, 300, dim, { maxReferencePairs: 2000, seed }).meanKyy - exact.meanKyy,
    );
    const value = cmmdAgainst(exact, x, 40);
    expect(value).toBeGreaterThan(0.3);
    for (const error of errors) expect(Math.abs(error) * 1000).toBeLessThan(0.3);
    expect(Math.abs(errors.reduce((a, b) => a + b, 0) / 30) * 1000).toBeLessThan(0.03);
    expectClose(cmmdAgainst(sampled, x, 40) - value, 1000 * (sampled.meanKyy - exact.meanKyy), 1e-9, 1e-12);
  });
});

describe('precisionRecallAtK', () => {
  it('matches the reference definition in NumPy on the fixture', () => {
    const i = fixture.inputs;
    const result = precisionRecallAtK(
      Float32Array.from(i.generated.flat()),
      i.generated.length,
      Int32Array.from(i.generatedOwners),
      {
        embeddings: Float32Array.from(i.heldOut.flat()),
        owners: Int32Array.from(i.heldOutOwners),
        liked: Uint8Array.from(i.liked),
      },
      i.users,
    );
    const pr = fixture.precisionRecall;
    expectClose(result.precision, pr.precision, 1e-12);
    expectClose(result.recall, pr.recall, 1e-12);
    expect(Array.from(result.perUserPrecision).map((v) => (Number.isNaN(v) ? null : v))).toEqual(
      pr.perUserPrecision,
    );
    expect(Array.from(result.perUserRecall).map((v) => (Number.isNaN(v) ? null : v))).toEqual(
      pr.perUserRecall,
    );
    expect(Array.from(result.matched)).toEqual(pr.matched);
  });

  it('works out a two-user case by hand', () => {
    // User 0: held-out a = (1, 0) liked, b = (0, 1) not; both generated rows are nearest a.
    // User 1: c = (1, 1) liked, d = (-1, 0) liked, e = (0, -1) not; generated rows nearest d and e.
    const heldOut = {
      embeddings: Float32Array.from([1, 0, 0, 1, 1, 1, -1, 0, 0, -1]),
      owners: Int32Array.from([0, 0, 1, 1, 1]),
      liked: Uint8Array.from([1, 0, 1, 1, 0]),
    };
    const generated = Float32Array.from([0.9, 0.1, 0.8, 0.3, -1, 0.1, 0.1, -1]);
    const r = precisionRecallAtK(generated, 4, Int32Array.from([0, 0, 1, 1]), heldOut, 2);
    expect(Array.from(r.matched)).toEqual([0, 0, 3, 4]);
    expect(Array.from(r.perUserPrecision)).toEqual([1, 0.5]);
    expect(Array.from(r.perUserRecall)).toEqual([1, 0.5]);
    expect(r.precision).toBe(0.75);
    expect(r.recall).toBe(0.75);
    // A user with liked held-out items but nothing generated: recall 0, precision undefined.
    const none = precisionRecallAtK(generated.subarray(0, 4), 2, Int32Array.from([0, 0]), heldOut, 2);
    expect(Array.from(none.perUserRecall)).toEqual([1, 0]);
    expect(Number.isNaN(none.perUserPrecision[1] as number)).toBe(true);
    expect(none.precision).toBe(1);
    expect(none.recall).toBe(0.5);
    expect(() => precisionRecallAtK(generated, 4, Int32Array.from([0, 0, 1, 2]), heldOut, 2)).toThrow(
      RangeError,
    );
  });
});

describe('meanPairwiseCosineDistance and histogram', () => {
  it('matches NumPy on the fixture', () => {
    expectClose(meanPairwiseCosineDistance(X.data, X.n, D), fixture.diversity.x, 1e-12);
    expectClose(meanPairwiseCosineDistance(Y.data, Y.n, D), fixture.diversity.y, 1e-12);
    expectClose(meanPairwiseCosineDistance(S1.data, S1.n, D), fixture.diversity.singular, 1e-12);
    const h = histogram(fixture.inputs.values, fixture.histogram.bins);
    expect(h.counts).toEqual(fixture.histogram.counts);
    h.edges.forEach((edge, k) => expectClose(edge, fixture.histogram.edges[k]!, 1e-15, 1e-15));
  });

  it('works out small cases by hand', () => {
    expect(meanPairwiseCosineDistance(Float32Array.from([1, 2]), 1, 2)).toBe(0);
    expect(meanPairwiseCosineDistance(Float32Array.from([1, 0, 0, 3]), 2, 2)).toBeCloseTo(1, 15);
    expect(meanPairwiseCosineDistance(Float32Array.from([1, 0, -2, 0]), 2, 2)).toBeCloseTo(2, 15);
    expect(meanPairwiseCosineDistance(Float32Array.from([1, 1, 2, 2, 3, 3]), 3, 2)).toBeCloseTo(0, 15);
    // (1,0), (0,1), (-1,0): distances 1, 2, 1.
    expect(meanPairwiseCosineDistance(Float32Array.from([1, 0, 0, 1, -1, 0]), 3, 2)).toBeCloseTo(4 / 3, 15);

    const constant = histogram([2, 2, 2], 5);
    expect(constant.counts).toEqual([0, 0, 3, 0, 0]);
    expect(constant.edges[0]).toBe(1.5);
    expect(constant.edges[5]).toBe(2.5);
    const h = histogram([0, 1, 2, 3, 4], 4);
    expect(h.edges).toEqual([0, 1, 2, 3, 4]);
    expect(h.counts).toEqual([1, 1, 1, 2]); // the last bin includes its right edge
    expect(histogram([], 2).counts).toEqual([0, 0]);
    expect(() => histogram([1, Number.NaN], 2)).toThrow(RangeError);
  });
});

describe('permutationTest nulls', () => {
  it('returns the statistic of every shuffle, whose mean and spread are the reported ones', () => {
    const rng = new SeededRandom(11);
    const users = 5;
    const owner = Int32Array.from({ length: 40 }, (_, s) => s % users);
    const scores = Float64Array.from({ length: 40 * users }, () => rng.nextFloat());
    const result = permutationTest(scores, owner, users, 300, 4);
    expect(result.nulls.length).toBe(300);
    const mean = result.nulls.reduce((a, b) => a + b, 0) / 300;
    expect(mean).toBeCloseTo(result.permutationMean, 14);
    const sd = Math.sqrt(result.nulls.reduce((a, b) => a + (b - mean) ** 2, 0) / 300);
    expect(sd).toBeCloseTo(result.permutationStd, 14);
    const atLeast = result.nulls.filter((v) => v >= result.statistic - 1e-12).length;
    expect(result.pValue).toBe((atLeast + 1) / 301);
  });
});
