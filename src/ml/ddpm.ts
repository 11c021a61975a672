import {
  alphaCumprodAt,
  leadingTimesteps,
  timestepAt,
  type DenoisingScheduler,
  type NoiseSchedule,
  type Vector,
} from './schedule.js';

/**
 * Ancestral DDPM as diffusers' DDPMScheduler: variance "fixed_small"; `step` takes predicted noise,
 * `stepFrom` a clean estimate (any prediction type, see prediction.ts).
 * The paper samples through every training step (`steps` = T, the default); fewer steps use
 * diffusers' "leading" spacing.
 */
export class DdpmScheduler implements DenoisingScheduler {
  readonly kind = 'ddpm';
  readonly timesteps: Int32Array;
  private readonly stride: number;

  constructor(
    private readonly schedule: NoiseSchedule,
    steps: number = schedule.timesteps,
  ) {
    this.timesteps = leadingTimesteps(schedule.timesteps, steps);
    this.stride = Math.floor(schedule.timesteps / steps);
  }

  stepNeedsNoise(index: number): boolean {
    return (this.timesteps[index] ?? 0) > 0;
  }

  /** The posterior variance of step `index` (fixed_small, floored at 1e-20 as diffusers). */
  variance(index: number): number {
    const t = timestepAt(this.timesteps, index);
    const alphaProd = alphaCumprodAt(this.schedule, t);
    const alphaProdPrev = alphaCumprodAt(this.schedule, t - this.stride);
    const currentBeta = 1 - alphaProd / alphaProdPrev;
    return Math.max(((1 - alphaProdPrev) / (1 - alphaProd)) * currentBeta, 1e-20);
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
    ddpmStep(this.schedule, t, t - this.stride, sample, predictedNoise, noise, prev, estimate);
  }

  stepFrom(
    index: number,
    sample: Vector,
    x0: Vector,
    _eps: Vector,
    noise: Vector | undefined,
    prev: Vector,
  ): void {
    const t = timestepAt(this.timesteps, index);
    ddpmPosterior(this.schedule, t, t - this.stride, sample, x0, noise, prev);
  }
}

/** One DDPM step from timestep `t` to `prevT` (diffusers' DDPMScheduler.step; noise is used when t > 0). */
export function ddpmStep(
  schedule: NoiseSchedule,
  t: number,
  prevT: number,
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
  ddpmPosterior(schedule, t, prevT, sample, estimate, noise, prev);
}

/** The DDPM posterior step (fixed_small) from x_t to x_prevT given the clean estimate x0. */
export function ddpmPosterior(
  schedule: NoiseSchedule,
  t: number,
  prevT: number,
  sample: Vector,
  x0: Vector,
  noise: Vector | undefined,
  prev: Vector,
): void {
  const alphaProd = alphaCumprodAt(schedule, t);
  const alphaProdPrev = alphaCumprodAt(schedule, prevT);
  const betaProd = 1 - alphaProd;
  const betaProdPrev = 1 - alphaProdPrev;
  const currentAlpha = alphaProd / alphaProdPrev;
  const currentBeta = 1 - currentAlpha;
  const estimateCoeff = (Math.sqrt(alphaProdPrev) * currentBeta) / betaProd;
  const sampleCoeff = (Math.sqrt(currentAlpha) * betaProdPrev) / betaProd;
  const addNoise = t > 0;
  if (addNoise && noise === undefined) throw new Error(`DDPM step at timestep ${t} needs noise`);
  const sigma = addNoise ? Math.sqrt(Math.max((betaProdPrev / betaProd) * currentBeta, 1e-20)) : 0;
  for (let i = 0; i < sample.length; i += 1) {
    let mean = estimateCoeff * (x0[i] as number) + sampleCoeff * (sample[i] as number);
    if (addNoise) mean += sigma * ((noise as Vector)[i] as number);
    prev[i] = mean;
  }
}
