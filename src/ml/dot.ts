/**
 * The hot-path dot product. Four running sums break the floating-point add dependency chain, which
 * otherwise bounds the loop at one multiply-add per add latency (about 4x slower in V8).
 */
export function dot(
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  bOffset: number,
  length: number,
): number {
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
