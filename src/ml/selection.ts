/**
 * Candidate selection: the best rows by score such that no two picked rows are more alike than a cosine
 * floor (centred, standardised space), never a row that is not eligible (out of the data's range).
 * Same algorithm as training/rebeca/sampling.py `select_diverse`.
 */
export function selectDiverse(
  scores: ArrayLike<number>,
  standardized: Float32Array,
  dim: number,
  keep: number,
  maxCosine: number,
  eligible?: ArrayLike<boolean>,
): number[] {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i)
    .filter((i) => eligible === undefined || eligible[i] === true)
    .sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    let squares = 0;
    for (let k = 0; k < dim; k += 1) squares += (standardized[i * dim + k] as number) ** 2;
    norms[i] = Math.max(Math.sqrt(squares), 1e-12);
  }
  const cosine = (a: number, b: number): number => {
    let sum = 0;
    for (let k = 0; k < dim; k += 1)
      sum += (standardized[a * dim + k] as number) * (standardized[b * dim + k] as number);
    return sum / ((norms[a] as number) * (norms[b] as number));
  };
  const picked: number[] = [];
  for (const i of order) {
    if (picked.length === keep) break;
    if (picked.every((j) => cosine(i, j) <= maxCosine)) picked.push(i);
  }
  // The floor may leave too few: fill with the best remaining eligible rows.
  for (const i of order) {
    if (picked.length === keep) break;
    if (!picked.includes(i)) picked.push(i);
  }
  return picked;
}

/** Raw rows ([n, D]) in the standardised space the diversity floor measures cosines in. */
export function standardizeRows(
  rows: Float32Array,
  { mean, std }: { mean: Float32Array; std: Float32Array },
): Float32Array {
  const D = mean.length;
  const out = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i += 1) {
    const k = i % D;
    out[i] = ((rows[i] as number) - (mean[k] as number)) / (std[k] as number);
  }
  return out;
}
