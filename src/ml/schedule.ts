/** Noise schedules as diffusers' DDPMScheduler/DDIMScheduler build them, in float64. */

/** Sampling runs in float32; golden tests feed float64 to compare against NumPy without rounding. */
export type Vector = Float32Array | Float64Array;

/** The schedule fields of a model manifest. */
export interface NoiseScheduleConfig {
  /** `linear` betas, or `cosine` (squaredcos_cap_v2, Nichol & Dhariwal). */
  kind: 'linear' | 'cosine';
  /** Number of training timesteps T; timesteps run 0..T-1. */
  timesteps: number;
  /** First beta of a linear schedule (ignored by cosine). */
  betaStart: number;
  /** Last beta of a linear schedule (ignored by cosine). */
  betaEnd: number;
}

export interface NoiseSchedule {
  readonly config: NoiseScheduleConfig;
  readonly timesteps: number;
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  readonly alphasCumprod: Float64Array;
}

/** Cosine schedules cap beta so that the last steps do not divide by a vanishing alpha. */
const COSINE_MAX_BETA = 0.999;

export function makeNoiseSchedule(config: NoiseScheduleConfig): NoiseSchedule {
  const steps = config.timesteps;
  if (!Number.isInteger(steps) || steps < 1)
    throw new RangeError(`timesteps must be a positive integer, got ${steps}`);
  const betas = config.kind === 'linear' ? linearBetas(config, steps) : cosineBetas(steps);
  const alphas = new Float64Array(steps);
  const alphasCumprod = new Float64Array(steps);
  let product = 1;
  for (let t = 0; t < steps; t += 1) {
    const alpha = 1 - (betas[t] ?? 0);
    alphas[t] = alpha;
    product *= alpha;
    alphasCumprod[t] = product;
  }
  return { config, timesteps: steps, betas, alphas, alphasCumprod };
}

function linearBetas(config: NoiseScheduleConfig, steps: number): Float64Array {
  const betas = new Float64Array(steps);
  if (steps === 1) {
    betas[0] = config.betaStart;
    return betas;
  }
  const delta = (config.betaEnd - config.betaStart) / (steps - 1);
  for (let t = 0; t < steps; t += 1) betas[t] = config.betaStart + delta * t;
  return betas;
}

function cosineBetas(steps: number): Float64Array {
  const alphaBar = (s: number): number => Math.cos(((s + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const betas = new Float64Array(steps);
  for (let t = 0; t < steps; t += 1) {
    betas[t] = Math.min(1 - alphaBar((t + 1) / steps) / alphaBar(t / steps), COSINE_MAX_BETA);
  }
  return betas;
}

/**
 * Inference timesteps with diffusers' "leading" spacing: `t_k = k * floor(T / n)`, descending.
 * With n = T this is every training step, T-1 down to 0.
 */
export function leadingTimesteps(trainTimesteps: number, inferenceSteps: number): Int32Array {
  if (!Number.isInteger(inferenceSteps) || inferenceSteps < 1 || inferenceSteps > trainTimesteps) {
    throw new RangeError(`steps must be an integer in 1..${trainTimesteps}, got ${inferenceSteps}`);
  }
  const ratio = Math.floor(trainTimesteps / inferenceSteps);
  const out = new Int32Array(inferenceSteps);
  for (let k = 0; k < inferenceSteps; k += 1) out[k] = (inferenceSteps - 1 - k) * ratio;
  return out;
}

/**
 * One reverse-diffusion method (DDPM or DDIM) over a fixed list of inference timesteps.
 * Pure maths: noise comes in as an argument so that tests can pin it.
 */
export interface DenoisingScheduler {
  readonly kind: 'ddpm' | 'ddim';
  /** Inference timesteps, descending. */
  readonly timesteps: Int32Array;
  /** Whether step `index` adds fresh noise (the caller then passes `noise`). */
  stepNeedsNoise(index: number): boolean;
  /**
   * Step `index` from x_t to x_{prev}: writes the previous sample into `prev` and the clean estimate
   * x0_hat into `estimate` (both may be omitted views of the same length as `sample`).
   */
  step(
    index: number,
    sample: Vector,
    predictedNoise: Vector,
    noise: Vector | undefined,
    prev: Vector,
    estimate: Vector,
  ): void;
  /** Step `index` given the clean estimate x0 and the noise eps it implies (prediction.ts splitOutput). */
  stepFrom(
    index: number,
    sample: Vector,
    x0: Vector,
    eps: Vector,
    noise: Vector | undefined,
    prev: Vector,
  ): void;
}

/** The training timestep of inference step `index`, or a RangeError naming the valid steps. */
export function timestepAt(timesteps: Int32Array, index: number): number {
  const t = timesteps[index];
  if (t === undefined) throw new RangeError(`step index ${index} is outside 0..${timesteps.length - 1}`);
  return t;
}

/** alpha_bar for a previous timestep; diffusers uses 1 before the first step ("set_alpha_to_one"). */
export function alphaCumprodAt(schedule: NoiseSchedule, t: number): number {
  return t >= 0 ? (schedule.alphasCumprod[t] ?? Number.NaN) : 1;
}
