import {
  alphaCumprodAt,
  leadingTimesteps,
  timestepAt,
  type DenoisingScheduler,
  type NoiseSchedule,
  type Vector,
} from './schedule.js';

/**
 * Ancestral DDPM as diffusers' DDPMScheduler: epsilon prediction, variance "fixed_small", no clipping.
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
  const alphaProd = alphaCumprodAt(schedule, t);
  const alphaProdPrev = alphaCumprodAt(schedule, prevT);
  const betaProd = 1 - alphaProd;
  const betaProdPrev = 1 - alphaProdPrev;
  const currentAlpha = alphaProd / alphaProdPrev;
  const currentBeta = 1 - currentAlpha;
  const sqrtBetaProd = Math.sqrt(betaProd);
  const sqrtAlphaProd = Math.sqrt(alphaProd);
  const estimateCoeff = (Math.sqrt(alphaProdPrev) * currentBeta) / betaProd;
  const sampleCoeff = (Math.sqrt(currentAlpha) * betaProdPrev) / betaProd;
  const addNoise = t > 0;
  if (addNoise && noise === undefined) throw new Error(`DDPM step at timestep ${t} needs noise`);
  const sigma = addNoise ? Math.sqrt(Math.max((betaProdPrev / betaProd) * currentBeta, 1e-20)) : 0;
  for (let i = 0; i < sample.length; i += 1) {
    const x = sample[i] as number;
    const x0 = (x - sqrtBetaProd * (predictedNoise[i] as number)) / sqrtAlphaProd;
    estimate[i] = x0;
    let mean = estimateCoeff * x0 + sampleCoeff * x;
    if (addNoise) mean += sigma * ((noise as Vector)[i] as number);
    prev[i] = mean;
  }
}
