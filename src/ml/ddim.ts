import {
  alphaCumprodAt,
  leadingTimesteps,
  timestepAt,
  type DenoisingScheduler,
  type NoiseSchedule,
  type Vector,
} from './schedule.js';

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
    sample: Vector,
    predictedNoise: Vector,
    noise: Vector | undefined,
    prev: Vector,
    estimate: Vector,
  ): void {
    const t = timestepAt(this.timesteps, index);
    ddimStep(this.schedule, t, t - this.stride, this.eta, sample, predictedNoise, noise, prev, estimate);
  }
}

/** One DDIM step from timestep `t` to `prevT` (diffusers' DDIMScheduler.step; noise is used when eta > 0). */
export function ddimStep(
  schedule: NoiseSchedule,
  t: number,
  prevT: number,
  eta: number,
  sample: Vector,
  predictedNoise: Vector,
  noise: Vector | undefined,
  prev: Vector,
  estimate: Vector,
): void {
  const alphaProd = alphaCumprodAt(schedule, t);
  const alphaProdPrev = alphaCumprodAt(schedule, prevT);
  const betaProd = 1 - alphaProd;
  const variance = ((1 - alphaProdPrev) / betaProd) * (1 - alphaProd / alphaProdPrev);
  const sigma = eta * Math.sqrt(Math.max(variance, 0));
  const sqrtBetaProd = Math.sqrt(betaProd);
  const sqrtAlphaProd = Math.sqrt(alphaProd);
  const sqrtAlphaProdPrev = Math.sqrt(alphaProdPrev);
  // Rounding can push 1 - a_prev - sigma^2 a hair below zero at eta = 1.
  const directionCoeff = Math.sqrt(Math.max(1 - alphaProdPrev - sigma * sigma, 0));
  const addNoise = eta > 0;
  if (addNoise && noise === undefined) throw new Error(`DDIM step with eta ${eta} needs noise`);
  for (let i = 0; i < sample.length; i += 1) {
    const eps = predictedNoise[i] as number;
    const x0 = ((sample[i] as number) - sqrtBetaProd * eps) / sqrtAlphaProd;
    estimate[i] = x0;
    let value = sqrtAlphaProdPrev * x0 + directionCoeff * eps;
    if (addNoise) value += sigma * ((noise as Vector)[i] as number);
    prev[i] = value;
  }
}
