import { Xoshiro128 } from '../lib/xoshiro128.js';

/**
 * Seeded PRNG for sampling noise: xoshiro128** seeded through splitmix32, normals by Box–Muller.
 * Sampling must be reproducible from a seed across runs and machines, so Math.random is never used.
 */
export class SeededRandom extends Xoshiro128 {
  /** Box–Muller yields normals in pairs; the second one waits here. */
  private spareNormal: number | undefined;

  /** A standard normal deviate. */
  nextNormal(): number {
    if (this.spareNormal !== undefined) {
      const spare = this.spareNormal;
      this.spareNormal = undefined;
      return spare;
    }
    // 1 - u keeps the logarithm's argument in (0, 1].
    const radius = Math.sqrt(-2 * Math.log(1 - this.nextFloat()));
    const angle = 2 * Math.PI * this.nextFloat();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Fill `out` with standard normal deviates. */
  fillNormal(out: Float32Array | Float64Array): void {
    for (let i = 0; i < out.length; i += 1) out[i] = this.nextNormal();
  }
}
