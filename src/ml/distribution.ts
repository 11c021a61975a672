/**
 * Evaluation statistics of generated embeddings (issue 12), on row-major matrices `[n, D]`:
 *
 * - Frechet distance between two sets, each summarised by its mean and (unbiased, n - 1) covariance;
 *   the matrix square root through a symmetric eigen-decomposition (Householder tridiagonalisation and
 *   implicit QL, EISPACK's tred2 / tql2 as in JAMA, in float64);
 * - CMMD (google-research/cmmd): an RBF-kernel MMD of L2-normalised embeddings, sigma 10, scale 1000;
 * - precision / recall at k as the REBECA reference code defines them;
 * - diversity (mean pairwise cosine distance) and a histogram.
 *
 * Every function is pure and synchronous. training/tests/make_distribution_case.py computes the same
 * figures with NumPy into tests/fixtures/distribution-case.json, which both test suites check.
 */
import { dot } from './dot.js';
import { SeededRandom } from './rng.js';

/** A row-major `[rows, D]` matrix. */
export type Matrix = Float32Array | Float64Array;

const EPS = 2 ** -52;

function checkShape(name: string, data: Matrix, rows: number, dim: number): void {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(dim) || dim < 1) {
    throw new RangeError(`${name}: rows ${rows} and D ${dim} must be integers (D >= 1)`);
  }
  if (data.length !== rows * dim) {
    throw new RangeError(`${name} holds ${data.length} values, expected ${rows} x ${dim}`);
  }
}

function checkFinite(name: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i += 1) {
    if (!Number.isFinite(data[i] as number)) throw new RangeError(`${name}[${i}] is not finite`);
  }
}

// -------------------------------------------------------------------------------------------------
// Kernels: blocks of dot products, four rows of `a` against two rows of `b` at a time (8 running sums
// per pass over the two rows: about twice the throughput of one dot product at a time in V8).
// -------------------------------------------------------------------------------------------------

function dot64(a: Float64Array, aOffset: number, b: Float64Array, bOffset: number, length: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    s0 += (a[aOffset + i] as number) * (b[bOffset + i] as number);
    s1 += (a[aOffset + i + 1] as number) * (b[bOffset + i + 1] as number);
    s2 += (a[aOffset + i + 2] as number) * (b[bOffset + i + 2] as number);
    s3 += (a[aOffset + i + 3] as number) * (b[bOffset + i + 3] as number);
  }
  for (; i < length; i += 1) s0 += (a[aOffset + i] as number) * (b[bOffset + i] as number);
  return s0 + s1 + (s2 + s3);
}

/**
 * `out[outOffset + i * stride + j] += <a row aRow + i, b row bRow + j>` over rows of `length` values,
 * for i < aRows, j < bRows. `upper`: only j >= the start of i's group of four (the upper triangle of a
 * symmetric product, plus a few entries below it that the caller ignores).
 */
function crossDot64(
  a: Float64Array,
  aRow: number,
  aRows: number,
  b: Float64Array,
  bRow: number,
  bRows: number,
  length: number,
  out: Float64Array,
  outOffset: number,
  stride: number,
  upper: boolean,
): void {
  let i = 0;
  for (; i + 4 <= aRows; i += 4) {
    const a0 = (aRow + i) * length;
    const a1 = a0 + length;
    const a2 = a1 + length;
    const a3 = a2 + length;
    let j = upper ? i : 0;
    for (; j + 2 <= bRows; j += 2) {
      const b0 = (bRow + j) * length;
      const b1 = b0 + length;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let k = 0; k < length; k += 1) {
        const y0 = b[b0 + k] as number;
        const y1 = b[b1 + k] as number;
        const x0 = a[a0 + k] as number;
        const x1 = a[a1 + k] as number;
        const x2 = a[a2 + k] as number;
        const x3 = a[a3 + k] as number;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s30 += x3 * y0;
        s31 += x3 * y1;
      }
      const o = outOffset + i * stride + j;
      out[o] = (out[o] as number) + s00;
      out[o + 1] = (out[o + 1] as number) + s01;
      out[o + stride] = (out[o + stride] as number) + s10;
      out[o + stride + 1] = (out[o + stride + 1] as number) + s11;
      out[o + 2 * stride] = (out[o + 2 * stride] as number) + s20;
      out[o + 2 * stride + 1] = (out[o + 2 * stride + 1] as number) + s21;
      out[o + 3 * stride] = (out[o + 3 * stride] as number) + s30;
      out[o + 3 * stride + 1] = (out[o + 3 * stride + 1] as number) + s31;
    }
    for (; j < bRows; j += 1) {
      const bo = (bRow + j) * length;
      for (let r = 0; r < 4; r += 1) {
        const o = outOffset + (i + r) * stride + j;
        out[o] = (out[o] as number) + dot64(a, a0 + r * length, b, bo, length);
      }
    }
  }
  for (; i < aRows; i += 1) {
    for (let j = upper ? i : 0; j < bRows; j += 1) {
      const o = outOffset + i * stride + j;
      out[o] = (out[o] as number) + dot64(a, (aRow + i) * length, b, (bRow + j) * length, length);
    }
  }
}

/** As crossDot64 on float32 rows (sums in float64), writing (not adding) into `out`; no `upper`. */
function crossDot32(
  a: Float32Array,
  aRow: number,
  aRows: number,
  b: Float32Array,
  bRow: number,
  bRows: number,
  length: number,
  out: Float64Array,
  stride: number,
): void {
  let i = 0;
  for (; i + 4 <= aRows; i += 4) {
    const a0 = (aRow + i) * length;
    const a1 = a0 + length;
    const a2 = a1 + length;
    const a3 = a2 + length;
    let j = 0;
    for (; j + 2 <= bRows; j += 2) {
      const b0 = (bRow + j) * length;
      const b1 = b0 + length;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let k = 0; k < length; k += 1) {
        const y0 = b[b0 + k] as number;
        const y1 = b[b1 + k] as number;
        const x0 = a[a0 + k] as number;
        const x1 = a[a1 + k] as number;
        const x2 = a[a2 + k] as number;
        const x3 = a[a3 + k] as number;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s30 += x3 * y0;
        s31 += x3 * y1;
      }
      const o = i * stride + j;
      out[o] = s00;
      out[o + 1] = s01;
      out[o + stride] = s10;
      out[o + stride + 1] = s11;
      out[o + 2 * stride] = s20;
      out[o + 2 * stride + 1] = s21;
      out[o + 3 * stride] = s30;
      out[o + 3 * stride + 1] = s31;
    }
    for (; j < bRows; j += 1) {
      const bo = (bRow + j) * length;
      for (let r = 0; r < 4; r += 1) out[(i + r) * stride + j] = dot(a, a0 + r * length, b, bo, length);
    }
  }
  for (; i < aRows; i += 1) {
    for (let j = 0; j < bRows; j += 1) {
      out[i * stride + j] = dot(a, (aRow + i) * length, b, (bRow + j) * length, length);
    }
  }
}

// -------------------------------------------------------------------------------------------------
// Symmetric eigen-decomposition (tred2 + tql2)
// -------------------------------------------------------------------------------------------------

/** sqrt(a^2 + b^2) without overflow or underflow. */
function hypot(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x < y) {
    const r = x / y;
    return y * Math.sqrt(1 + r * r);
  }
  if (x === 0) return 0;
  const r = y / x;
  return x * Math.sqrt(1 + r * r);
}

/** The most QL iterations for one eigenvalue (EISPACK allows 30; two or three are usual). */
const MAX_QL_ITERATIONS = 60;

/**
 * Eigen-decomposition of the symmetric matrix held in `w` (n x n, row-major; overwritten). Returns the
 * eigenvalues in ascending order; with `vectors`, `w` then holds V, column k the unit eigenvector of
 * value k (A = V diag(values) V^T), otherwise scratch. JAMA's tred2 / tql2; tred2 keeps its `V[r][c]` at
 * `w[c * n + r]` so that its inner loops run over contiguous memory, then V is transposed back for tql2.
 */
function eigenInPlace(w: Float64Array, n: number, vectors: boolean): Float64Array {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return d;
  // tred2: Householder reduction to tridiagonal form (d: diagonal, e: sub-diagonal in e[1..n-1]).
  for (let j = 0; j < n; j += 1) d[j] = w[j * n + n - 1] as number;
  for (let i = n - 1; i > 0; i -= 1) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k += 1) scale += Math.abs(d[k] as number);
    if (scale === 0) {
      e[i] = d[i - 1] as number;
      for (let j = 0; j < i; j += 1) {
        d[j] = w[j * n + i - 1] as number;
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k += 1) {
        const v = (d[k] as number) / scale;
        d[k] = v;
        h += v * v;
      }
      let f = d[i - 1] as number;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j += 1) e[j] = 0;
      for (let j = 0; j < i; j += 1) {
        f = d[j] as number;
        w[i * n + j] = f;
        const row = j * n;
        // Two running sums: one would chain every add on the previous one.
        let g0 = (e[j] as number) + (w[row + j] as number) * f;
        let g1 = 0;
        let k = j + 1;
        for (; k + 1 <= i - 1; k += 2) {
          const v0 = w[row + k] as number;
          const v1 = w[row + k + 1] as number;
          g0 += v0 * (d[k] as number);
          g1 += v1 * (d[k + 1] as number);
          e[k] = (e[k] as number) + v0 * f;
          e[k + 1] = (e[k + 1] as number) + v1 * f;
        }
        if (k <= i - 1) {
          const v = w[row + k] as number;
          g0 += v * (d[k] as number);
          e[k] = (e[k] as number) + v * f;
        }
        e[j] = g0 + g1;
      }
      f = 0;
      for (let j = 0; j < i; j += 1) {
        const v = (e[j] as number) / h;
        e[j] = v;
        f += v * (d[j] as number);
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j += 1) e[j] = (e[j] as number) - hh * (d[j] as number);
      for (let j = 0; j < i; j += 1) {
        f = d[j] as number;
        g = e[j] as number;
        const row = j * n;
        for (let k = j; k <= i - 1; k += 1) {
          w[row + k] = (w[row + k] as number) - (f * (e[k] as number) + g * (d[k] as number));
        }
        d[j] = w[row + i - 1] as number;
        w[row + i] = 0;
      }
    }
    d[i] = h;
  }
  if (vectors) {
    // Accumulate the transformations.
    for (let i = 0; i < n - 1; i += 1) {
      w[i * n + n - 1] = w[i * n + i] as number;
      w[i * n + i] = 1;
      const h = d[i + 1] as number;
      const next = (i + 1) * n;
      if (h !== 0) {
        for (let k = 0; k <= i; k += 1) d[k] = (w[next + k] as number) / h;
        for (let j = 0; j <= i; j += 1) {
          const row = j * n;
          const g = dot64(w, next, w, row, i + 1);
          for (let k = 0; k <= i; k += 1) w[row + k] = (w[row + k] as number) - g * (d[k] as number);
        }
      }
      for (let k = 0; k <= i; k += 1) w[next + k] = 0;
    }
    for (let j = 0; j < n; j += 1) {
      d[j] = w[j * n + n - 1] as number;
      w[j * n + n - 1] = 0;
    }
    w[(n - 1) * n + n - 1] = 1;
  } else {
    for (let j = 0; j < n; j += 1) d[j] = w[j * n + j] as number;
  }
  e[0] = 0;

  if (vectors) transposeInPlace(w, n);

  // tql2: implicit QL on the tridiagonal matrix. Each sweep's rotations are recorded, then applied to
  // V one row at a time (a row of V holds one component of every eigenvector: contiguous, one read and
  // one write per element per sweep).
  const cosines = vectors ? new Float64Array(n) : d;
  const sines = vectors ? new Float64Array(n) : d;
  for (let i = 1; i < n; i += 1) e[i - 1] = e[i] as number;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l += 1) {
    tst1 = Math.max(tst1, Math.abs(d[l] as number) + Math.abs(e[l] as number));
    let m = l;
    while (m < n - 1 && Math.abs(e[m] as number) > EPS * tst1) m += 1;
    if (m > l) {
      let iterations = 0;
      do {
        iterations += 1;
        if (iterations > MAX_QL_ITERATIONS) {
          throw new Error(`symmetric eigen-decomposition did not converge (eigenvalue ${l} of ${n})`);
        }
        let g = d[l] as number;
        let p = ((d[l + 1] as number) - g) / (2 * (e[l] as number));
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = (e[l] as number) / (p + r);
        d[l + 1] = (e[l] as number) * (p + r);
        const dl1 = d[l + 1] as number;
        let h = g - (d[l] as number);
        for (let i = l + 2; i < n; i += 1) d[i] = (d[i] as number) - h;
        f += h;
        p = d[m] as number;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1] as number;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i -= 1) {
          c3 = c2;
          c2 = c;
          s2 = s;
          const ei = e[i] as number;
          g = c * ei;
          h = c * p;
          r = hypot(p, ei);
          e[i + 1] = s * r;
          s = ei / r;
          c = p / r;
          const di = d[i] as number;
          p = c * di - s * g;
          d[i + 1] = h + s * (c * g + s * di);
          if (vectors) {
            cosines[i] = c;
            sines[i] = s;
          }
        }
        if (vectors) {
          applyRotations(w, n, l, m, cosines, sines);
        }
        p = (-s * s2 * c3 * el1 * (e[l] as number)) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l] as number) > EPS * tst1);
    }
    d[l] = (d[l] as number) + f;
    e[l] = 0;
  }

  // Ascending order (columns of V move with their values).
  if (!vectors) return d.sort();
  for (let i = 0; i < n - 1; i += 1) {
    let k = i;
    let p = d[i] as number;
    for (let j = i + 1; j < n; j += 1) {
      if ((d[j] as number) < p) {
        k = j;
        p = d[j] as number;
      }
    }
    if (k !== i) {
      d[k] = d[i] as number;
      d[i] = p;
      for (let j = 0; j < n; j += 1) {
        const swap = w[j * n + i] as number;
        w[j * n + i] = w[j * n + k] as number;
        w[j * n + k] = swap;
      }
    }
  }
  return d;
}

/**
 * One QL sweep's rotations applied to the rows of V (row-major n x n): JAMA's, for i from m - 1 down to l,
 * V[k][i+1] = s_i V[k][i] + c_i V[k][i+1] and V[k][i] = c_i V[k][i] - s_i V[k][i+1]. The new V[k][i] is
 * the next rotation's V[k][i+1], carried in a register; four rows at a time, so that four such chains of
 * dependent multiply-adds run side by side.
 */
function applyRotations(
  v: Float64Array,
  n: number,
  l: number,
  m: number,
  cosines: Float64Array,
  sines: Float64Array,
): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const r0 = k * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    let c0 = v[r0 + m] as number;
    let c1 = v[r1 + m] as number;
    let c2 = v[r2 + m] as number;
    let c3 = v[r3 + m] as number;
    for (let i = m - 1; i >= l; i -= 1) {
      const c = cosines[i] as number;
      const s = sines[i] as number;
      const x0 = v[r0 + i] as number;
      const x1 = v[r1 + i] as number;
      const x2 = v[r2 + i] as number;
      const x3 = v[r3 + i] as number;
      v[r0 + i + 1] = s * x0 + c * c0;
      v[r1 + i + 1] = s * x1 + c * c1;
      v[r2 + i + 1] = s * x2 + c * c2;
      v[r3 + i + 1] = s * x3 + c * c3;
      c0 = c * x0 - s * c0;
      c1 = c * x1 - s * c1;
      c2 = c * x2 - s * c2;
      c3 = c * x3 - s * c3;
    }
    v[r0 + l] = c0;
    v[r1 + l] = c1;
    v[r2 + l] = c2;
    v[r3 + l] = c3;
  }
  for (; k < n; k += 1) {
    const row = k * n;
    let carried = v[row + m] as number;
    for (let i = m - 1; i >= l; i -= 1) {
      const x = v[row + i] as number;
      const c = cosines[i] as number;
      const s = sines[i] as number;
      v[row + i + 1] = s * x + c * carried;
      carried = c * x - s * carried;
    }
    v[row + l] = carried;
  }
}

function transposeInPlace(a: Float64Array, n: number): void {
  for (let i = 0; i < n; i += 1) {
    for (let j = i + 1; j < n; j += 1) {
      const swap = a[i * n + j] as number;
      a[i * n + j] = a[j * n + i] as number;
      a[j * n + i] = swap;
    }
  }
}

/** The symmetric part (a + a^T) / 2 of a square matrix, as a new float64 array. */
function symmetrised(a: ArrayLike<number>, n: number): Float64Array {
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i += 1) {
    w[i * n + i] = a[i * n + i] as number;
    for (let j = i + 1; j < n; j += 1) {
      const v = ((a[i * n + j] as number) + (a[j * n + i] as number)) / 2;
      w[i * n + j] = v;
      w[j * n + i] = v;
    }
  }
  return w;
}

export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /**
   * Row-major n x n V with the unit eigenvector of `values[k]` in column k (`vectors[i * n + k]`), so
   * that A = V diag(values) V^T, as numpy.linalg.eigh's second result. Empty with `vectors: false`.
   */
  vectors: Float64Array;
}

/**
 * Eigenvalues and eigenvectors of a symmetric n x n matrix (row-major; only its symmetric part
 * (A + A^T) / 2 is used; the input is not modified). Householder tridiagonalisation and implicit QL
 * (tred2 / tql2) in float64: O(n^3), roughly 9n^3 flops with vectors and 4n^3/3 without.
 */
export function symmetricEigen(
  a: ArrayLike<number>,
  n: number,
  options: { vectors?: boolean } = {},
): SymmetricEigen {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) {
    throw new RangeError(`symmetricEigen: ${a.length} values is not ${n} x ${n}`);
  }
  checkFinite('symmetricEigen input', a);
  const vectors = options.vectors ?? true;
  const w = symmetrised(a, n);
  const values = eigenInPlace(w, n, vectors);
  return { values, vectors: vectors ? w : new Float64Array(0) };
}

// -------------------------------------------------------------------------------------------------
// Frechet distance
// -------------------------------------------------------------------------------------------------

/** Rows per block of the covariance: the block is transposed into float64 columns of this length. */
const COVARIANCE_BLOCK = 256;

/** Column means and the unbiased covariance (numpy.cov(x, rowvar=False)), both float64. */
export function meanAndCovariance(
  x: Matrix,
  n: number,
  dim: number,
): { mean: Float64Array; covariance: Float64Array } {
  checkShape('x', x, n, dim);
  if (n < 2) throw new RangeError(`a covariance needs at least 2 rows, got ${n}`);
  checkFinite('x', x);
  const mean = new Float64Array(dim);
  for (let r = 0; r < n; r += 1) {
    const row = r * dim;
    for (let j = 0; j < dim; j += 1) mean[j] = (mean[j] as number) + (x[row + j] as number);
  }
  for (let j = 0; j < dim; j += 1) mean[j] = (mean[j] as number) / n;
  const covariance = new Float64Array(dim * dim);
  const block = new Float64Array(dim * Math.min(COVARIANCE_BLOCK, n));
  for (let r0 = 0; r0 < n; r0 += COVARIANCE_BLOCK) {
    const rows = Math.min(COVARIANCE_BLOCK, n - r0);
    // block[j * rows + r]: centred value of dimension j in row r0 + r.
    for (let r = 0; r < rows; r += 1) {
      const row = (r0 + r) * dim;
      for (let j = 0; j < dim; j += 1) block[j * rows + r] = (x[row + j] as number) - (mean[j] as number);
    }
    crossDot64(block, 0, dim, block, 0, dim, rows, covariance, 0, dim, true);
  }
  for (let i = 0; i < dim; i += 1) {
    for (let j = i; j < dim; j += 1) {
      const v = (covariance[i * dim + j] as number) / (n - 1);
      covariance[i * dim + j] = v;
      covariance[j * dim + i] = v;
    }
  }
  return { mean, covariance };
}

/** One side of the Frechet distance, with the eigen-decomposition of its covariance (reusable). */
export interface FrechetReference {
  n: number;
  dim: number;
  mean: Float64Array;
  covariance: Float64Array;
  trace: number;
  /** Eigenvalues of the covariance (ascending; negatives from rounding are kept here, clamped in use). */
  values: Float64Array;
  /** Row k: the unit eigenvector of `values[k]` (row-major dim x dim). */
  eigenvectorRows: Float64Array;
}

/**
 * Precomputes one set's mean, covariance and the covariance's eigen-decomposition, for Frechet distances
 * of many sets against it (`frechetAgainst`). At D = 1024 and 40,000 rows this is the expensive part
 * (the covariance's ~2.1e10 multiply-adds, then the decomposition): see BENCHMARKS.md.
 */
export function frechetReference(y: Matrix, ny: number, dim: number): FrechetReference {
  const { mean, covariance } = meanAndCovariance(y, ny, dim);
  let trace = 0;
  for (let j = 0; j < dim; j += 1) trace += covariance[j * dim + j] as number;
  const eigenvectorRows = Float64Array.from(covariance);
  const values = eigenInPlace(eigenvectorRows, dim, true);
  transposeInPlace(eigenvectorRows, dim);
  return { n: ny, dim, mean, covariance, trace, values, eigenvectorRows };
}

/**
 * tr sqrt(A^1/2 B A^1/2) for PSD A (given by its eigen-decomposition) and symmetric PSD B. With
 * A^1/2 = W^T diag(s) W (rows of W: eigenvectors, s = sqrt of the eigenvalues clamped at 0), the matrix
 * A^1/2 B A^1/2 is orthogonally similar to diag(s) (W B W^T) diag(s), whose rows and columns with s = 0
 * vanish: only the r eigenvectors with a positive eigenvalue enter (r = rank of A, fewer than D when
 * A's set has fewer rows than dimensions). Eigenvalues of A or of the product below dim * eps * the
 * largest are rounding noise of a singular matrix and count as 0.
 */
function traceSqrtProduct(values: Float64Array, rows: Float64Array, b: Float64Array, dim: number): number {
  let largest = 0;
  for (const v of values) largest = Math.max(largest, v);
  if (largest <= 0) return 0;
  const tolerance = dim * EPS * largest;
  const keep: number[] = [];
  for (let k = 0; k < dim; k += 1) if ((values[k] as number) > tolerance) keep.push(k);
  const r = keep.length;
  const kept = new Float64Array(r * dim);
  const s = new Float64Array(r);
  for (let a = 0; a < r; a += 1) {
    const k = keep[a] as number;
    kept.set(rows.subarray(k * dim, (k + 1) * dim), a * dim);
    s[a] = Math.sqrt(values[k] as number);
  }
  // t = W_r B (B symmetric: row j of B is its column j), then m = t W_r^T, upper triangle.
  const t = new Float64Array(r * dim);
  crossDot64(kept, 0, r, b, 0, dim, dim, t, 0, dim, false);
  const m = new Float64Array(r * r);
  crossDot64(t, 0, r, kept, 0, r, dim, m, 0, r, true);
  for (let i = 0; i < r; i += 1) {
    for (let j = i; j < r; j += 1) {
      const v = (m[i * r + j] as number) * (s[i] as number) * (s[j] as number);
      m[i * r + j] = v;
      m[j * r + i] = v;
    }
  }
  return sumOfRoots(eigenInPlace(m, r, false));
}

/**
 * The Frechet distance of `x` [nx, dim] against a precomputed reference set (the reference's covariance
 * is the decomposed one: the distance is symmetric, so this is frechetDistance(x, y) up to rounding).
 * Per call: x's covariance (nx D^2 / 2), two D x D x r products and an eigenvalues-only decomposition.
 */
export function frechetAgainst(reference: FrechetReference, x: Matrix, nx: number): number {
  const dim = reference.dim;
  const { mean, covariance } = meanAndCovariance(x, nx, dim);
  let meanTerm = 0;
  let trace = 0;
  for (let j = 0; j < dim; j += 1) {
    meanTerm += ((mean[j] as number) - (reference.mean[j] as number)) ** 2;
    trace += covariance[j * dim + j] as number;
  }
  const cross = traceSqrtProduct(reference.values, reference.eigenvectorRows, covariance, dim);
  return meanTerm + trace + reference.trace - 2 * cross;
}

export interface FrechetOptions {
  /**
   * How tr sqrt(Cx^1/2 Cy Cx^1/2) is computed (the result is the same up to rounding):
   * - 'covariance': the D x D covariances; Cx^1/2 from Cx's eigen-decomposition, then the eigenvalues of
   *   Cx^1/2 Cy Cx^1/2 (O(n D^2) for the covariances, about 10 D^3 for the rest);
   * - 'samples': from the centred rows alone, without a D x D matrix: the sum of the singular values of
   *   Xc Yc^T / sqrt((nx - 1)(ny - 1)), i.e. the square roots of the eigenvalues of its smaller Gram
   *   matrix (O(nx ny D) plus a min(nx, ny)^3 decomposition): far cheaper when a set has fewer rows than
   *   dimensions (a user's 25 samples at D = 1024);
   * - 'auto' (default): whichever of the two costs fewer operations by those estimates.
   * Why they agree: with Xc = Ux Sx Vx^T (thin SVD), Cx^1/2 = Vx Sx Vx^T / sqrt(nx - 1), so Xc Yc^T equals
   * Ux Vx^T (sqrt((nx - 1)(ny - 1)) Cx^1/2 Cy^1/2) Vy Uy^T: the same singular values as Cx^1/2 Cy^1/2 up to
   * that factor, and the sum of those is tr sqrt((Cy^1/2 Cx^1/2)^T (Cy^1/2 Cx^1/2)) = tr sqrt(Cx^1/2 Cy Cx^1/2).
   */
  method?: 'auto' | 'covariance' | 'samples';
}

/** Centred float64 copy of the rows, their mean, and tr of their covariance (sum of squares / (n - 1)). */
function centred(
  x: Matrix,
  n: number,
  dim: number,
): { rows: Float64Array; mean: Float64Array; trace: number } {
  checkShape('x', x, n, dim);
  if (n < 2) throw new RangeError(`a covariance needs at least 2 rows, got ${n}`);
  checkFinite('x', x);
  const mean = new Float64Array(dim);
  for (let r = 0; r < n; r += 1) {
    for (let j = 0; j < dim; j += 1) mean[j] = (mean[j] as number) + (x[r * dim + j] as number);
  }
  for (let j = 0; j < dim; j += 1) mean[j] = (mean[j] as number) / n;
  const rows = new Float64Array(n * dim);
  let squares = 0;
  for (let r = 0; r < n; r += 1) {
    for (let j = 0; j < dim; j += 1) {
      const v = (x[r * dim + j] as number) - (mean[j] as number);
      rows[r * dim + j] = v;
      squares += v * v;
    }
  }
  return { rows, mean, trace: squares / (n - 1) };
}

/** The 'samples' route of FrechetOptions: sum of singular values of Xc Yc^T / sqrt((nx - 1)(ny - 1)). */
function traceSqrtFromSamples(
  xc: Float64Array,
  nx: number,
  yc: Float64Array,
  ny: number,
  dim: number,
): number {
  // The smaller set's rows index the Gram matrix: A = S L^T with S the smaller set, G = A A^T.
  const [small, nSmall, large, nLarge] = nx <= ny ? [xc, nx, yc, ny] : [yc, ny, xc, nx];
  const a = new Float64Array(nSmall * nLarge);
  crossDot64(small, 0, nSmall, large, 0, nLarge, dim, a, 0, nLarge, false);
  const gram = new Float64Array(nSmall * nSmall);
  crossDot64(a, 0, nSmall, a, 0, nSmall, nLarge, gram, 0, nSmall, true);
  const scale = 1 / ((nx - 1) * (ny - 1));
  for (let i = 0; i < nSmall; i += 1) {
    for (let j = i; j < nSmall; j += 1) {
      const v = (gram[i * nSmall + j] as number) * scale;
      gram[i * nSmall + j] = v;
      gram[j * nSmall + i] = v;
    }
  }
  return sumOfRoots(eigenInPlace(gram, nSmall, false));
}

/** Sum of the square roots of PSD eigenvalues; those below n * eps * the largest are rounding noise. */
function sumOfRoots(values: Float64Array): number {
  let top = 0;
  for (const v of values) top = Math.max(top, v);
  const floor = Math.max(values.length, 1) * EPS * top;
  let sum = 0;
  for (const v of values) if (v > floor) sum += Math.sqrt(v);
  return sum;
}

/**
 * Frechet distance ||mu_x - mu_y||^2 + tr(Cx) + tr(Cy) - 2 tr sqrt(Cx^1/2 Cy Cx^1/2) between the rows
 * of x [nx, dim] and y [ny, dim] (covariances with the n - 1 normaliser, as numpy.cov; both sets need
 * at least 2 rows; fewer rows than dimensions, so singular covariances, are fine). The result can come
 * out a little below 0 for identical sets (rounding). For many sets against one, `frechetReference`
 * once and `frechetAgainst` for each.
 */
export function frechetDistance(
  x: Matrix,
  nx: number,
  y: Matrix,
  ny: number,
  dim: number,
  options: FrechetOptions = {},
): number {
  checkShape('x', x, nx, dim);
  checkShape('y', y, ny, dim);
  const method = options.method ?? 'auto';
  let useSamples = method === 'samples';
  if (method === 'auto') {
    const k = Math.min(nx, ny);
    const samplesCost = nx * ny * dim + (k * k * Math.max(nx, ny)) / 2 + 2 * k ** 3;
    const covarianceCost = ((nx + ny) * dim * dim) / 2 + 10 * dim ** 3;
    useSamples = samplesCost < covarianceCost;
  }
  if (!useSamples) return frechetAgainst(frechetReference(x, nx, dim), y, ny);
  const a = centred(x, nx, dim);
  const b = centred(y, ny, dim);
  let meanTerm = 0;
  for (let j = 0; j < dim; j += 1) meanTerm += ((a.mean[j] as number) - (b.mean[j] as number)) ** 2;
  return meanTerm + a.trace + b.trace - 2 * traceSqrtFromSamples(a.rows, nx, b.rows, ny, dim);
}

// -------------------------------------------------------------------------------------------------
// CMMD
// -------------------------------------------------------------------------------------------------

export interface CmmdOptions {
  /** RBF bandwidth: k(a, b) = exp(-||a - b||^2 / (2 sigma^2)). The reference's 10. */
  sigma?: number;
  /** Multiplier of the MMD^2. The reference's 1000. */
  scale?: number;
  /**
   * The most distinct reference pairs (i < j) the k_yy term may compute (default: no limit, exact).
   * Above it, k_yy's off-diagonal mean is estimated from all pairs of m reference rows drawn without
   * replacement (seeded, so deterministic), m the largest with m (m - 1) / 2 <= the limit: an unbiased
   * estimate of that mean, no longer the exact value. The result records which it was.
   */
  maxReferencePairs?: number;
  /** Seed of that draw (default 0). */
  seed?: number;
}

/** One side of CMMD, prepared once: normalised rows and the mean of k over its pairs. */
export interface CmmdReference {
  n: number;
  dim: number;
  sigma: number;
  scale: number;
  gamma: number;
  /** L2-normalised rows (float32), row-major [n, dim]. */
  rows: Float32Array;
  /** Squared norms of those rows, as float32 values summed in float64 (1, or 0 for a zero row). */
  squaredNorms: Float64Array;
  /** Mean of k over all n^2 ordered pairs, the diagonal included (exact, or estimated: see below). */
  meanKyy: number;
  /** Whether `meanKyy` covers every pair; false: estimated from `kyyRows` rows drawn at random. */
  kyyExact: boolean;
  kyyRows: number;
}

/** L2-normalised copy (float32) and the squared norms of the copy; zero rows stay zero. */
function normaliseRows(
  x: Matrix,
  n: number,
  dim: number,
): { rows: Float32Array; squaredNorms: Float64Array } {
  checkShape('x', x, n, dim);
  checkFinite('x', x);
  const rows = new Float32Array(n * dim);
  const squaredNorms = new Float64Array(n);
  for (let r = 0; r < n; r += 1) {
    const o = r * dim;
    let sum = 0;
    for (let j = 0; j < dim; j += 1) sum += (x[o + j] as number) ** 2;
    const norm = Math.sqrt(sum);
    if (norm > 0) for (let j = 0; j < dim; j += 1) rows[o + j] = (x[o + j] as number) / norm;
    squaredNorms[r] = dot(rows, o, rows, o, dim);
  }
  return { rows, squaredNorms };
}

/** Rows per tile of the kernel sums: 128 x 64 dot products at a time. */
const TILE_A = 128;
const TILE_B = 64;

/**
 * Sum of exp(-gamma (|a_i|^2 + |b_j|^2 - 2 <a_i, b_j>)) over i < aRows, j < bRows (the reference's
 * expansion of ||a - b||^2). `symmetric` (a and b the same rows): computes the tiles on and above the
 * diagonal once and counts the others twice, the same all-pairs sum at about half the cost.
 */
function kernelSum(
  a: Float32Array,
  aNorms: Float64Array,
  aRows: number,
  b: Float32Array,
  bNorms: Float64Array,
  bRows: number,
  dim: number,
  gamma: number,
  symmetric: boolean,
): number {
  const tileA = symmetric ? TILE_B : TILE_A;
  const buffer = new Float64Array(tileA * TILE_B);
  let total = 0;
  for (let j0 = 0; j0 < bRows; j0 += TILE_B) {
    const bCount = Math.min(TILE_B, bRows - j0);
    const aEnd = symmetric ? Math.min(j0 + bCount, aRows) : aRows;
    for (let i0 = 0; i0 < aEnd; i0 += tileA) {
      const aCount = Math.min(tileA, aRows - i0);
      crossDot32(a, i0, aCount, b, j0, bCount, dim, buffer, TILE_B);
      let sum = 0;
      for (let i = 0; i < aCount; i += 1) {
        const ai = aNorms[i0 + i] as number;
        const o = i * TILE_B;
        for (let j = 0; j < bCount; j += 1) {
          sum += Math.exp(-gamma * (ai + (bNorms[j0 + j] as number) - 2 * (buffer[o + j] as number)));
        }
      }
      total += symmetric && i0 !== j0 ? 2 * sum : sum;
    }
  }
  return total;
}

function cmmdParameters(options: CmmdOptions): { sigma: number; scale: number; gamma: number } {
  const sigma = options.sigma ?? 10;
  const scale = options.scale ?? 1000;
  if (!(sigma > 0) || !Number.isFinite(sigma) || !Number.isFinite(scale)) {
    throw new RangeError(`CMMD needs sigma > 0 and a finite scale (got ${sigma}, ${scale})`);
  }
  return { sigma, scale, gamma: 1 / (2 * sigma * sigma) };
}

/**
 * Prepares the reference side of CMMD (e.g. the 40,000 catalog or held-out items) once: normalised
 * rows and mean k_yy. Exact by default, O(ny^2 D); see `maxReferencePairs` for a documented estimate.
 */
export function cmmdReference(y: Matrix, ny: number, dim: number, options: CmmdOptions = {}): CmmdReference {
  const { sigma, scale, gamma } = cmmdParameters(options);
  if (ny < 1) throw new RangeError('a CMMD reference needs at least one row');
  const { rows, squaredNorms } = normaliseRows(y, ny, dim);
  const maxPairs = options.maxReferencePairs ?? Number.POSITIVE_INFINITY;
  if (!(maxPairs >= 1)) throw new RangeError(`maxReferencePairs must be at least 1 (got ${maxPairs})`);
  const allPairs = (ny * (ny - 1)) / 2;
  if (allPairs <= maxPairs) {
    const sum = kernelSum(rows, squaredNorms, ny, rows, squaredNorms, ny, dim, gamma, true);
    return {
      n: ny,
      dim,
      sigma,
      scale,
      gamma,
      rows,
      squaredNorms,
      meanKyy: sum / (ny * ny),
      kyyExact: true,
      kyyRows: ny,
    };
  }
  // m rows drawn without replacement (a partial Fisher-Yates shuffle), all their pairs.
  let m = Math.floor((1 + Math.sqrt(1 + 8 * maxPairs)) / 2);
  while ((m * (m - 1)) / 2 > maxPairs) m -= 1;
  m = Math.max(m, 2);
  const order = Int32Array.from({ length: ny }, (_, i) => i);
  const rng = new SeededRandom(options.seed ?? 0);
  for (let i = 0; i < m; i += 1) {
    const j = i + Math.floor(rng.nextFloat() * (ny - i));
    const swap = order[i] as number;
    order[i] = order[j] as number;
    order[j] = swap;
  }
  const sample = new Float32Array(m * dim);
  const sampleNorms = new Float64Array(m);
  for (let i = 0; i < m; i += 1) {
    const r = order[i] as number;
    sample.set(rows.subarray(r * dim, (r + 1) * dim), i * dim);
    sampleNorms[i] = squaredNorms[r] as number;
  }
  const sum = kernelSum(sample, sampleNorms, m, sample, sampleNorms, m, dim, gamma, true);
  // The diagonal: k = exp(-gamma * (2|a|^2 - 2|a|^2)) = 1 for every row, sampled or not.
  let diagonal = 0;
  for (let i = 0; i < m; i += 1) {
    const v = sampleNorms[i] as number;
    diagonal += Math.exp(-gamma * (v + v - 2 * dot(sample, i * dim, sample, i * dim, dim)));
  }
  const offDiagonalMean = (sum - diagonal) / (m * (m - 1));
  const meanKyy = (ny + ny * (ny - 1) * offDiagonalMean) / (ny * ny);
  return { n: ny, dim, sigma, scale, gamma, rows, squaredNorms, meanKyy, kyyExact: false, kyyRows: m };
}

/**
 * CMMD of `x` [nx, reference.dim] against a prepared reference: scale * (mean k_xx + mean k_yy -
 * 2 mean k_xy), means over all pairs with the diagonal (the reference code's biased estimator, so 0 for
 * identical sets). k_xx is O(nx^2 D), k_xy O(nx ny D): at 2,350 x 40,000 x 1024 the cross term dominates.
 */
export function cmmdAgainst(reference: CmmdReference, x: Matrix, nx: number): number {
  if (nx < 1) throw new RangeError('CMMD needs at least one row');
  const { rows, squaredNorms } = normaliseRows(x, nx, reference.dim);
  const { gamma, dim } = reference;
  const kxx = kernelSum(rows, squaredNorms, nx, rows, squaredNorms, nx, dim, gamma, true) / (nx * nx);
  const kxy =
    kernelSum(
      rows,
      squaredNorms,
      nx,
      reference.rows,
      reference.squaredNorms,
      reference.n,
      dim,
      gamma,
      false,
    ) /
    (nx * reference.n);
  return reference.scale * (kxx + reference.meanKyy - 2 * kxy);
}

/** CMMD between x [nx, dim] and y [ny, dim] (google-research/cmmd: L2-normalised rows, sigma 10, scale 1000). */
export function cmmd(
  x: Matrix,
  nx: number,
  y: Matrix,
  ny: number,
  dim: number,
  options: Omit<CmmdOptions, 'maxReferencePairs' | 'seed'> = {},
): number {
  checkShape('x', x, nx, dim);
  return cmmdAgainst(cmmdReference(y, ny, dim, options), x, nx);
}

// -------------------------------------------------------------------------------------------------
// Precision and recall at k (the REBECA reference code)
// -------------------------------------------------------------------------------------------------

export interface HeldOutItems {
  /** Row-major [rows, D] embeddings of the held-out items. */
  embeddings: Matrix;
  /** The user (0 .. users - 1) each held-out row belongs to. */
  owners: Int32Array;
  /** 1 where the user liked that held-out item. */
  liked: Uint8Array;
}

export interface PrecisionRecall {
  /** Mean of the per-user precision over users for which it is defined (NaN if none). */
  precision: number;
  /** Mean of the per-user recall over users for which it is defined (NaN if none). */
  recall: number;
  /**
   * Per user: the share of their generated embeddings whose nearest held-out item of theirs is liked.
   * NaN for a user without generated embeddings or without held-out rows.
   */
  perUserPrecision: Float64Array;
  /**
   * Per user: the share of their liked held-out items that are the nearest of at least one of their
   * generated embeddings. NaN for a user without liked held-out items; 0 if they have some but no
   * generated embedding.
   */
  perUserRecall: Float64Array;
  /** For each generated row, the held-out row it matched (-1: its user has no held-out rows). */
  matched: Int32Array;
}

/**
 * Precision and recall at k as the REBECA reference code defines them: each generated embedding of user u
 * is matched to its nearest held-out item of u by cosine similarity (ties: the first held-out row);
 * precision = the share of matches that u liked; recall = the share of u's liked held-out items matched
 * by at least one of u's generated embeddings. k is the number of generated embeddings per user. Zero
 * vectors have cosine 0 with everything.
 */
export function precisionRecallAtK(
  generated: Matrix,
  nGen: number,
  owners: Int32Array,
  heldOut: HeldOutItems,
  users: number,
): PrecisionRecall {
  const nHeld = heldOut.owners.length;
  if (heldOut.liked.length !== nHeld) {
    throw new RangeError(`held-out liked has ${heldOut.liked.length} entries for ${nHeld} rows`);
  }
  if (owners.length !== nGen) throw new RangeError(`owners has ${owners.length} entries for ${nGen} rows`);
  const dim = nHeld > 0 ? heldOut.embeddings.length / nHeld : nGen > 0 ? generated.length / nGen : 1;
  checkShape('heldOut.embeddings', heldOut.embeddings, nHeld, dim);
  checkShape('generated', generated, nGen, dim);
  for (const owner of [owners, heldOut.owners]) {
    for (const u of owner) {
      if (!(u >= 0 && u < users)) throw new RangeError(`user index ${u} is outside 0 .. ${users - 1}`);
    }
  }
  const gen = normaliseRows(generated, nGen, dim).rows;
  const held = normaliseRows(heldOut.embeddings, nHeld, dim).rows;
  const heldByUser: number[][] = Array.from({ length: users }, () => []);
  for (let h = 0; h < nHeld; h += 1) heldByUser[heldOut.owners[h] as number]?.push(h);
  const matched = new Int32Array(nGen).fill(-1);
  const hits = new Float64Array(users);
  const generatedCount = new Float64Array(users);
  const matchedLiked = new Uint8Array(nHeld);
  for (let g = 0; g < nGen; g += 1) {
    const u = owners[g] as number;
    generatedCount[u] = (generatedCount[u] as number) + 1;
    const candidates = heldByUser[u] as number[];
    let best = -1;
    let bestCosine = Number.NEGATIVE_INFINITY;
    for (const h of candidates) {
      const cosine = dot(gen, g * dim, held, h * dim, dim);
      if (cosine > bestCosine) {
        bestCosine = cosine;
        best = h;
      }
    }
    matched[g] = best;
    if (best >= 0 && heldOut.liked[best] === 1) {
      hits[u] = (hits[u] as number) + 1;
      matchedLiked[best] = 1;
    }
  }
  const perUserPrecision = new Float64Array(users).fill(Number.NaN);
  const perUserRecall = new Float64Array(users).fill(Number.NaN);
  const likedCount = new Float64Array(users);
  const likedMatched = new Float64Array(users);
  for (let h = 0; h < nHeld; h += 1) {
    if (heldOut.liked[h] !== 1) continue;
    const u = heldOut.owners[h] as number;
    likedCount[u] = (likedCount[u] as number) + 1;
    likedMatched[u] = (likedMatched[u] as number) + (matchedLiked[h] as number);
  }
  let precision = 0;
  let precisionUsers = 0;
  let recall = 0;
  let recallUsers = 0;
  for (let u = 0; u < users; u += 1) {
    if ((generatedCount[u] as number) > 0 && (heldByUser[u] as number[]).length > 0) {
      const p = (hits[u] as number) / (generatedCount[u] as number);
      perUserPrecision[u] = p;
      precision += p;
      precisionUsers += 1;
    }
    if ((likedCount[u] as number) > 0) {
      const r = (likedMatched[u] as number) / (likedCount[u] as number);
      perUserRecall[u] = r;
      recall += r;
      recallUsers += 1;
    }
  }
  return {
    precision: precisionUsers > 0 ? precision / precisionUsers : Number.NaN,
    recall: recallUsers > 0 ? recall / recallUsers : Number.NaN,
    perUserPrecision,
    perUserRecall,
    matched,
  };
}

// -------------------------------------------------------------------------------------------------
// Diversity and histograms
// -------------------------------------------------------------------------------------------------

/**
 * Diversity: the mean of 1 - cos(a_i, a_j) over the n (n - 1) / 2 distinct pairs of rows (0 for n < 2;
 * a zero row has cosine 0 with every row). O(n D): the sum of cosines over all ordered pairs is
 * ||sum of unit rows||^2, and the diagonal contributes the number of non-zero rows.
 */
export function meanPairwiseCosineDistance(x: Matrix, n: number, dim: number): number {
  checkShape('x', x, n, dim);
  checkFinite('x', x);
  if (n < 2) return 0;
  const total = new Float64Array(dim);
  let diagonal = 0;
  for (let r = 0; r < n; r += 1) {
    const o = r * dim;
    let sum = 0;
    for (let j = 0; j < dim; j += 1) sum += (x[o + j] as number) ** 2;
    if (sum === 0) continue;
    const inverse = 1 / Math.sqrt(sum);
    let unitSquares = 0;
    for (let j = 0; j < dim; j += 1) {
      const v = (x[o + j] as number) * inverse;
      total[j] = (total[j] as number) + v;
      unitSquares += v * v;
    }
    diagonal += unitSquares;
  }
  let all = 0;
  for (let j = 0; j < dim; j += 1) all += (total[j] as number) ** 2;
  const meanCosine = (all - diagonal) / (n * (n - 1));
  return 1 - meanCosine;
}

/** Plain arrays, so that a report can store it as JSON as it is. */
export interface HistogramResult {
  /** bins + 1 edges, from the smallest value to the largest. */
  edges: number[];
  /** counts[i]: values in [edges[i], edges[i + 1]) (the last bin includes its right edge). */
  counts: number[];
}

/**
 * numpy.histogram(values, bins): equal-width bins over [min, max]; a constant input v gets the range
 * [v - 0.5, v + 0.5] (so one bin, the middle one, is non-empty); no values: the range [0, 1]. Non-finite
 * values are an error.
 */
export function histogram(values: ArrayLike<number>, bins: number): HistogramResult {
  if (!Number.isInteger(bins) || bins < 1)
    throw new RangeError(`bins must be a positive integer (got ${bins})`);
  checkFinite('values', values);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i += 1) {
    lo = Math.min(lo, values[i] as number);
    hi = Math.max(hi, values[i] as number);
  }
  if (values.length === 0) {
    lo = 0;
    hi = 1;
  } else if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  // As numpy.linspace(lo, hi, bins + 1), so that the edges match NumPy's to the last bit.
  const step = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : i * step + lo));
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i] as number;
    let b = Math.min(Math.floor(((v - lo) / (hi - lo)) * bins), bins - 1);
    // Rounding can put a value on the wrong side of an edge: the edges decide.
    while (b > 0 && v < (edges[b] as number)) b -= 1;
    while (b < bins - 1 && v >= (edges[b + 1] as number)) b += 1;
    counts[b] = (counts[b] as number) + 1;
  }
  return { edges, counts };
}
