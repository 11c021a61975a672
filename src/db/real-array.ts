/**
 * Float32 values as PostgreSQL array text; 9 significant digits round-trip a float32 exactly. Each value
 * is rounded to float32 first: a double too small for float32 (1e-50, 5e-324) is written as the 0 it is
 * stored as, where its own text would make PostgreSQL's `real` input fail with an underflow.
 */
export function toRealArrayLiteral(embedding: ArrayLike<number>): string {
  const parts = new Array<string>(embedding.length);
  for (let i = 0; i < embedding.length; i += 1) parts[i] = Math.fround(Number(embedding[i])).toPrecision(9);
  return `{${parts.join(',')}}`;
}
