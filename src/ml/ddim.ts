import { alphaCumprodAt, leadingTimesteps, type DenoisingScheduler, type NoiseSchedule } from './schedule.js';

/**
 * DDIM as diffusers' DDIMScheduler: epsilon prediction, "leading" timestep spacing, steps_offset 0,
 * set_alpha_to_one, no clipping or thresholding. eta = 0 is deterministic; eta = 1 matches DDPM's variance.
 */
export class DdimScheduler implements DenoisingScheduler {
  readonly kind = 'ddim';
  readonly timesteps: Int32Array;
  private readonly stride: number;

  constructor(
    private readonly schedule: NoiseSchedule,
    steps: number,
    /** Share of the DDPM posterior noise to add (0: deterministic). */
    readonly eta = 0,
  ) {
    if (!(eta >= 0)) throw new RangeError(`eta must be >= 0, got ${eta}`);
    this.timesteps = leadingTimesteps(schedule.timesteps, steps);
    this.stride = Math.floor(schedule.timesteps / steps);
  }

  stepNeedsNoise(): boolean {
    return this.eta > 0;
  }

  step(
    index: number,
    sample: Float32Array,
    predictedNoise: Float32Array,
    noise: Float32Array | undefined,
    prev: Float32Array,
    estimate: Float32Array,
  ): void {
    const t = this.timesteps[index];
    if (t === undefined)
      throw new RangeError(`step index ${index} is outside 0..${this.timesteps.length - 1}`);
    const alphaProd = alphaCumprodAt(this.schedule, t);
    const alphaProdPrev = alphaCumprodAt(this.schedule, t - this.stride);
    const betaProd = 1 - alphaProd;
    const variance = ((1 - alphaProdPrev) / betaProd) * (1 - alphaProd / alphaProdPrev);
    const sigma = this.eta * Math.sqrt(variance);
    const sqrtBetaProd = Math.sqrt(betaProd);
    const sqrtAlphaProd = Math.sqrt(alphaProd);
    const sqrtAlphaProdPrev = Math.sqrt(alphaProdPrev);
    // Rounding can push 1 - a_prev - sigma^2 a hair below zero at eta = 1.
    const directionCoeff = Math.sqrt(Math.max(1 - alphaProdPrev - sigma * sigma, 0));
    const addNoise = this.eta > 0;
    if (addNoise && noise === undefined) throw new Error(`DDIM step with eta ${this.eta} needs noise`);
    for (let i = 0; i < sample.length; i += 1) {
      const eps = predictedNoise[i] as number;
      const x0 = ((sample[i] as number) - sqrtBetaProd * eps) / sqrtAlphaProd;
      estimate[i] = x0;
      let value = sqrtAlphaProdPrev * x0 + directionCoeff * eps;
      if (addNoise) value += sigma * ((noise as Float32Array)[i] as number);
      prev[i] = value;
    }
  }
}
