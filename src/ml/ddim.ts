import {
  alphaCumprodAt,
  leadingTimesteps,
  timestepAt,
  type DenoisingScheduler,
  type NoiseSchedule,
  type Vector,
} from './schedule.js';

/**
 * DDIM as diffusers' DDIMScheduler: "leading" timestep spacing, steps_offset 0, set_alpha_to_one;
 * `step` takes predicted noise, `stepFrom` a clean estimate and its noise (see prediction.ts). eta = 0 is deterministic; eta = 1 matches DDPM's variance.
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

  stepFrom(
    index: number,
    _sample: Vector,
    x0: Vector,
    eps: Vector,
    noise: Vector | undefined,
    prev: Vector,
  ): void {
    const t = timestepAt(this.timesteps, index);
    ddimFrom(this.schedule, t, t - this.stride, this.eta, x0, eps, noise, prev);
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
  const sqrtBetaProd = Math.sqrt(1 - alphaCumprodAt(schedule, t));
  const sqrtAlphaProd = Math.sqrt(alphaCumprodAt(schedule, t));
  for (let i = 0; i < sample.length; i += 1) {
    estimate[i] = ((sample[i] as number) - sqrtBetaProd * (predictedNoise[i] as number)) / sqrtAlphaProd;
  }
  ddimFrom(schedule, t, prevT, eta, estimate, predictedNoise, noise, prev);
}

/** The DDIM update to `prevT` from the clean estimate x0 and its noise eps. */
export function ddimFrom(
  schedule: NoiseSchedule,
  t: number,
  prevT: number,
  eta: number,
  x0: Vector,
  eps: Vector,
  noise: Vector | undefined,
  prev: Vector,
): void {
  const alphaProd = alphaCumprodAt(schedule, t);
  const alphaProdPrev = alphaCumprodAt(schedule, prevT);
  const variance = ((1 - alphaProdPrev) / (1 - alphaProd)) * (1 - alphaProd / alphaProdPrev);
  const sigma = eta * Math.sqrt(Math.max(variance, 0));
  const sqrtAlphaProdPrev = Math.sqrt(alphaProdPrev);
  // Rounding can push 1 - a_prev - sigma^2 a hair below zero at eta = 1.
  const directionCoeff = Math.sqrt(Math.max(1 - alphaProdPrev - sigma * sigma, 0));
  const addNoise = eta > 0;
  if (addNoise && noise === undefined) throw new Error(`DDIM step with eta ${eta} needs noise`);
  for (let i = 0; i < x0.length; i += 1) {
    let value = sqrtAlphaProdPrev * (x0[i] as number) + directionCoeff * (eps[i] as number);
    if (addNoise) value += sigma * ((noise as Vector)[i] as number);
    prev[i] = value;
  }
}
