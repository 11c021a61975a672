import type { CatalogIndex } from './catalog.js';
import type { UserFactors } from './verifier.js';

/** How a cold-start user vector is fitted. */
export interface ColdStartOptions {
  /** L2 strength pulling [theta, b] towards the prior (larger: closer to the prior with few ratings). */
  l2?: number;
  /** The vector the penalty pulls towards: zero (default) or e.g. the verifier's mean user. */
  prior?: UserFactors;
  /** Newton iterations at most; each solves a (d+1) x (d+1) system. */
  maxIterations?: number;
  /** Stop when the largest coordinate change falls below this. */
  tolerance?: number;
}

export interface ColdStartFit extends UserFactors {
  iterations: number;
  converged: boolean;
}

/** One rating of a catalog item, for fitting. */
export interface CatalogRating {
  row: number;
  liked: boolean;
}

/**
 * Fit a user's verifier factors from ratings by L2-regularised logistic regression on the frozen item
 * features `[Ma^T e, 1]` with `mb . e` as a fixed offset, by damped Newton (IRLS).
 * `features` is [n, d] row-major; `labels[i]` is 1 for a like, 0 for a dislike.
 */
export function fitUserFactors(
  features: Float32Array,
  offsets: Float32Array,
  labels: ArrayLike<number>,
  options: ColdStartOptions = {},
): ColdStartFit {
  const n = offsets.length;
  if (labels.length !== n) throw new Error(`${labels.length} labels for ${n} rated items`);
  if (n === 0 ? features.length !== 0 : features.length % n !== 0) {
    throw new Error(`features of length ${features.length} do not split into ${n} rows`);
  }
  const d = n === 0 ? (options.prior?.vector.length ?? 0) : features.length / n;
  const m = d + 1;
  const l2 = options.l2 ?? 1;
  if (!(l2 > 0)) throw new RangeError(`l2 must be > 0 so that the fit exists for any ratings, got ${l2}`);
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-8;
  const prior = new Float64Array(m);
  if (options.prior) {
    if (options.prior.vector.length !== d)
      throw new Error(`prior width ${options.prior.vector.length} is not ${d}`);
    prior.set(options.prior.vector);
    prior[d] = options.prior.bias;
  }

  // Design rows [Ma^T e, 1], in float64 once.
  const design = new Float64Array(n * m);
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < d; j += 1) design[i * m + j] = features[i * d + j] as number;
    design[i * m + d] = 1;
  }
  const logit = (weights: Float64Array, i: number): number => {
    let z = offsets[i] as number;
    for (let j = 0; j < m; j += 1) z += (design[i * m + j] as number) * (weights[j] as number);
    return z;
  };
  const objective = (weights: Float64Array): number => {
    let total = 0;
    for (let i = 0; i < n; i += 1) {
      const z = logit(weights, i);
      // log(1 + e^z) - y z, written to stay finite for large |z|.
      total += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - (labels[i] as number) * z;
    }
    for (let j = 0; j < m; j += 1) total += 0.5 * l2 * ((weights[j] as number) - (prior[j] as number)) ** 2;
    return total;
  };

  const w = Float64Array.from(prior);
  const gradient = new Float64Array(m);
  const curvature = new Float64Array(n);
  const trial = new Float64Array(m);
  let iterations = 0;
  let converged = false;
  let current = objective(w);
  while (iterations < maxIterations && !converged) {
    iterations += 1;
    for (let a = 0; a < m; a += 1) gradient[a] = l2 * ((w[a] as number) - (prior[a] as number));
    for (let i = 0; i < n; i += 1) {
      const p = 1 / (1 + Math.exp(-logit(w, i)));
      const residual = p - (labels[i] as number);
      curvature[i] = p * (1 - p);
      for (let a = 0; a < m; a += 1)
        gradient[a] = (gradient[a] as number) + residual * (design[i * m + a] as number);
    }
    const step = newtonStep(design, curvature, gradient, l2, n, m);
    // Newton can overshoot far from the optimum; halve until the objective decreases.
    let scale = 1;
    let next = current;
    for (let attempt = 0; attempt < 30; attempt += 1) {
      for (let a = 0; a < m; a += 1) trial[a] = (w[a] as number) - scale * (step[a] as number);
      next = objective(trial);
      if (next <= current) break;
      scale /= 2;
    }
    let largest = 0;
    for (let a = 0; a < m; a += 1)
      largest = Math.max(largest, Math.abs((trial[a] as number) - (w[a] as number)));
    w.set(trial);
    current = next;
    converged = largest < tolerance;
  }
  return { vector: Float32Array.from(w.subarray(0, d)), bias: w[d] as number, iterations, converged };
}

/** Fit factors for a user from ratings of catalog items, using the index's precomputed projection. */
export function fitCatalogUser(
  index: CatalogIndex,
  ratings: readonly CatalogRating[],
  options: ColdStartOptions = {},
): ColdStartFit {
  const d = index.rank;
  const features = new Float32Array(ratings.length * d);
  const offsets = new Float32Array(ratings.length);
  const labels = new Uint8Array(ratings.length);
  ratings.forEach((rating, i) => {
    if (!Number.isInteger(rating.row) || rating.row < 0 || rating.row >= index.size) {
      throw new RangeError(`catalog row ${rating.row} is outside 0..${index.size - 1}`);
    }
    features.set(index.features.subarray(rating.row * d, (rating.row + 1) * d), i * d);
    offsets[i] = index.offsets[rating.row] as number;
    labels[i] = rating.liked ? 1 : 0;
  });
  return fitUserFactors(features, offsets, labels, options);
}

/**
 * Solves `(X^T C X + l2 I) s = g` for the Newton step, X the n x m design and C the curvatures.
 * With fewer ratings than unknowns (the cold-start case) the Woodbury identity turns the m x m system
 * into an n x n one: `s = (g - B^T (l2 I + B B^T)^-1 B g) / l2` with `B = C^1/2 X`.
 */
function newtonStep(
  design: Float64Array,
  curvature: Float64Array,
  gradient: Float64Array,
  l2: number,
  n: number,
  m: number,
): Float64Array {
  if (n >= m) {
    const hessian = new Float64Array(m * m);
    for (let i = 0; i < n; i += 1) {
      const c = curvature[i] as number;
      const row = i * m;
      for (let a = 0; a < m; a += 1) {
        const scaled = c * (design[row + a] as number);
        // Lower triangle only; Cholesky reads nothing else.
        for (let b = 0; b <= a; b += 1) {
          hessian[a * m + b] = (hessian[a * m + b] as number) + scaled * (design[row + b] as number);
        }
      }
    }
    for (let a = 0; a < m; a += 1) hessian[a * m + a] = (hessian[a * m + a] as number) + l2;
    return choleskySolve(hessian, gradient, m);
  }
  const b = new Float64Array(n * m);
  for (let i = 0; i < n; i += 1) {
    const root = Math.sqrt(curvature[i] as number);
    for (let a = 0; a < m; a += 1) b[i * m + a] = root * (design[i * m + a] as number);
  }
  const kernel = new Float64Array(n * n);
  const projected = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    let bg = 0;
    for (let a = 0; a < m; a += 1) bg += (b[i * m + a] as number) * (gradient[a] as number);
    projected[i] = bg;
    for (let k = 0; k <= i; k += 1) {
      let product = 0;
      for (let a = 0; a < m; a += 1) product += (b[i * m + a] as number) * (b[k * m + a] as number);
      kernel[i * n + k] = product + (i === k ? l2 : 0);
    }
  }
  const z = choleskySolve(kernel, projected, n);
  const step = Float64Array.from(gradient);
  for (let i = 0; i < n; i += 1) {
    const zi = z[i] as number;
    for (let a = 0; a < m; a += 1) step[a] = (step[a] as number) - zi * (b[i * m + a] as number);
  }
  for (let a = 0; a < m; a += 1) step[a] = (step[a] as number) / l2;
  return step;
}

/** Solves H s = g for symmetric positive-definite H given by its lower triangle. */
function choleskySolve(h: Float64Array, g: Float64Array, m: number): Float64Array {
  const L = new Float64Array(m * m);
  for (let i = 0; i < m; i += 1) {
    for (let j = 0; j <= i; j += 1) {
      let sum = h[i * m + j] as number;
      for (let k = 0; k < j; k += 1) sum -= (L[i * m + k] as number) * (L[j * m + k] as number);
      if (i === j) {
        if (!(sum > 0)) throw new Error('cold-start Hessian is not positive definite');
        L[i * m + i] = Math.sqrt(sum);
      } else {
        L[i * m + j] = sum / (L[j * m + j] as number);
      }
    }
  }
  const y = new Float64Array(m);
  for (let i = 0; i < m; i += 1) {
    let sum = g[i] as number;
    for (let k = 0; k < i; k += 1) sum -= (L[i * m + k] as number) * (y[k] as number);
    y[i] = sum / (L[i * m + i] as number);
  }
  const s = new Float64Array(m);
  for (let i = m - 1; i >= 0; i -= 1) {
    let sum = y[i] as number;
    for (let k = i + 1; k < m; k += 1) sum -= (L[k * m + i] as number) * (s[k] as number);
    s[i] = sum / (L[i * m + i] as number);
  }
  return s;
}
