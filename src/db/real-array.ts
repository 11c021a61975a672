/** Float32 values as PostgreSQL array text; 9 significant digits round-trip a float32 exactly. */
export function toRealArrayLiteral(embedding: ArrayLike<number>): string {
  const parts = new Array<string>(embedding.length);
  for (let i = 0; i < embedding.length; i += 1) parts[i] = Number(embedding[i]).toPrecision(9);
  return `{${parts.join(',')}}`;
}
