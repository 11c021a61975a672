import { DdimScheduler } from './ddim.js';
import { DdpmScheduler } from './ddpm.js';
import { abortError, type Denoiser } from './denoiser.js';
import { SeededRandom } from './rng.js';
import type { DenoisingScheduler, NoiseSchedule } from './schedule.js';

/** What the sampler needs from a model (a loaded {@link RebecaModel} has all of it). */
export interface PriorModel {
  embeddingDim: number;
  schedule: NoiseSchedule;
  nullUserRow: number;
  defaultGuidanceScale: number;
  standardization: { mean: Float32Array; std: Float32Array };
  prior: Denoiser;
}

export type SamplingMethod = 'ddpm' | 'ddim';
export type Rating = 'like' | 'dislike';

export interface SampleOptions {
  /** The prior's user row to condition on (`nullUserRow`: unconditional). */
  userRow: number;
  /** Condition on liked (default) or disliked items. */
  rating?: Rating;
  /** Embeddings to draw. */
  count: number;
  /** Classifier-free guidance w (default: the manifest's); 1 runs the conditional branch only. */
  guidanceScale?: number;
  /** `ddim` (default) or `ddpm` (ancestral; the paper's, over every training step by default). */
  method?: SamplingMethod;
  /** Denoising steps (default: 50 for DDIM, every training step for DDPM). */
  steps?: number;
  /** DDIM noise share (default 0, deterministic given the initial noise). */
  eta?: number;
  /** Seed of the sampler's own PRNG: the same seed, options and model give the same samples. */
  seed: number;
  /** x_T in standardised space, [count, D]; replaces the first draw from the seed (for golden tests). */
  initialNoise?: Float32Array;
  /** Aborting rejects the current step and ends the generator with an AbortError. */
  signal?: AbortSignal;
  /** Where steps run: pass the shared {@link DenoiseBatcher}; default the model's session, alone. */
  denoiser?: Denoiser;
}

export interface SampleStepEvent {
  type: 'step';
  /** Steps done, 1..totalSteps. */
  step: number;
  totalSteps: number;
  /** The timestep just denoised. */
  timestep: number;
  /** Current clean-embedding estimate x0_hat, un-standardised, [count, D]. */
  estimate: Float32Array;
}

export interface SampleResultEvent {
  type: 'result';
  /** The samples, un-standardised, [count, D]. */
  samples: Float32Array;
  count: number;
  dim: number;
}

export type SampleEvent = SampleStepEvent | SampleResultEvent;

const RATING_ROW: Record<Rating, bigint> = { dislike: 0n, like: 1n };
const NULL_RATING = 2n;

/**
 * Draw embeddings from the prior with classifier-free guidance, `eps = eps_null + w (eps_cond - eps_null)`,
 * the conditional and null rows in one run per step. Yields one event per step, then the result.
 * The PRNG draws x_T first (row-major), then each noisy step's noise in step order.
 */
export async function* sampleEmbeddings(
  model: PriorModel,
  options: SampleOptions,
): AsyncGenerator<SampleEvent, void, undefined> {
  const D = model.embeddingDim;
  const { count, signal } = options;
  const guidance = options.guidanceScale ?? model.defaultGuidanceScale;
  const scheduler = makeScheduler(model.schedule, options);
  checkOptions(model, options, guidance);
  const denoiser = options.denoiser ?? model.prior;
  const rng = new SeededRandom(options.seed);

  let x = new Float32Array(count * D);
  rng.fillNormal(x);
  if (options.initialNoise) x.set(options.initialNoise);
  // w = 1 needs only the conditional branch and w = 0 only the null one, as training/ samples.
  const branches: ('cond' | 'null')[] =
    guidance === 1 ? ['cond'] : guidance === 0 ? ['null'] : ['cond', 'null'];
  const rows = count * branches.length;
  const userRow = new BigInt64Array(rows);
  const rating = new BigInt64Array(rows);
  branches.forEach((branch, b) => {
    userRow.fill(
      branch === 'cond' ? BigInt(options.userRow) : BigInt(model.nullUserRow),
      b * count,
      (b + 1) * count,
    );
    rating.fill(
      branch === 'cond' ? RATING_ROW[options.rating ?? 'like'] : NULL_RATING,
      b * count,
      (b + 1) * count,
    );
  });
  const noisy = new Float32Array(rows * D);
  const timestep = new BigInt64Array(rows);
  const guided = new Float32Array(count * D);
  const estimate = new Float32Array(count * D);
  const noise = new Float32Array(count * D);
  const { mean, std } = model.standardization;
  const totalSteps = scheduler.timesteps.length;

  const unregister = denoiser.register?.();
  try {
    for (let index = 0; index < totalSteps; index += 1) {
      if (signal?.aborted) throw abortError(signal);
      const t = scheduler.timesteps[index] as number;
      for (let b = 0; b < branches.length; b += 1) noisy.set(x, b * count * D);
      timestep.fill(BigInt(t));
      const eps = await denoiser.denoise({ noisyEmbedding: noisy, timestep, userRow, rating }, signal);
      if (branches.length === 2) {
        const nullOffset = count * D;
        for (let i = 0; i < count * D; i += 1) {
          const uncond = eps[nullOffset + i] as number;
          guided[i] = uncond + guidance * ((eps[i] as number) - uncond);
        }
      } else {
        guided.set(eps.subarray(0, count * D));
      }
      const stepNoise = scheduler.stepNeedsNoise(index) ? noise : undefined;
      if (stepNoise) rng.fillNormal(stepNoise);
      const prev = new Float32Array(count * D);
      scheduler.step(index, x, guided, stepNoise, prev, estimate);
      x = prev;
      yield {
        type: 'step',
        step: index + 1,
        totalSteps,
        timestep: t,
        estimate: unstandardize(estimate, mean, std),
      };
    }
  } finally {
    unregister?.();
  }
  yield { type: 'result', samples: unstandardize(x, mean, std), count, dim: D };
}

/** Runs {@link sampleEmbeddings} to the end and returns the samples, [count, D]. */
export async function sampleToEnd(model: PriorModel, options: SampleOptions): Promise<Float32Array> {
  for await (const event of sampleEmbeddings(model, options)) {
    if (event.type === 'result') return event.samples;
  }
  throw new Error('the sampler ended without a result');
}

function makeScheduler(schedule: NoiseSchedule, options: SampleOptions): DenoisingScheduler {
  const method = options.method ?? 'ddim';
  if (method === 'ddpm') return new DdpmScheduler(schedule, options.steps ?? schedule.timesteps);
  if (method === 'ddim')
    return new DdimScheduler(schedule, options.steps ?? Math.min(50, schedule.timesteps), options.eta ?? 0);
  throw new RangeError(`unknown sampling method ${String(method)} (ddpm | ddim)`);
}

function checkOptions(model: PriorModel, options: SampleOptions, guidance: number): void {
  const D = model.embeddingDim;
  if (!Number.isInteger(options.count) || options.count < 1) {
    throw new RangeError(`count must be a positive integer, got ${options.count}`);
  }
  if (!Number.isInteger(options.userRow) || options.userRow < 0 || options.userRow > model.nullUserRow) {
    throw new RangeError(
      `userRow ${options.userRow} is outside 0..${model.nullUserRow} (${model.nullUserRow} = no user)`,
    );
  }
  if (!Number.isFinite(guidance)) throw new RangeError(`guidanceScale must be finite, got ${guidance}`);
  if (!Number.isSafeInteger(options.seed))
    throw new RangeError(`seed must be an integer, got ${options.seed}`);
  if (options.initialNoise && options.initialNoise.length !== options.count * D) {
    throw new RangeError(
      `initialNoise holds ${options.initialNoise.length} values, expected ${options.count} x ${D}`,
    );
  }
}

function unstandardize(x: Float32Array, mean: Float32Array, std: Float32Array): Float32Array {
  const D = mean.length;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i += 1) {
    const k = i % D;
    out[i] = (x[i] as number) * (std[k] as number) + (mean[k] as number);
  }
  return out;
}
