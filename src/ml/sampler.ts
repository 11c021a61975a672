import { DdimScheduler } from './ddim.js';
import { DdpmScheduler } from './ddpm.js';
import { abortError, type Denoiser } from './denoiser.js';
import {
  type CleanEstimateBounds,
  type CleanEstimateHook,
  type PredictionType,
  splitOutput,
} from './prediction.js';
import { SeededRandom } from './rng.js';
import type { DenoisingScheduler, NoiseSchedule } from './schedule.js';
import type { PriorConditioning, PriorInputs } from './session.js';

/** What the sampler needs from a model (a loaded {@link RebecaModel} has all of it). */
export interface PriorModel {
  embeddingDim: number;
  schedule: NoiseSchedule;
  /** What the prior's output means. */
  predictionType: PredictionType;
  /** How the prior knows the user: a learned row per training user, or the user's taste vector. */
  conditioning: PriorConditioning;
  defaultGuidanceScale: number;
  standardization: { mean: Float32Array; std: Float32Array };
  /** The catalog's per-dimension range in standardised space: the clean estimate is clamped into it. */
  dataRange: CleanEstimateBounds | null;
  prior: Denoiser;
}

/** Who a sample is for: a prior row (table-conditioned priors), a taste vector (taste-conditioned), or nobody. */
export type UserCondition =
  { kind: 'row'; row: number } | { kind: 'taste'; vector: Float32Array } | { kind: 'none' };

export type SamplingMethod = 'ddpm' | 'ddim';
export type Rating = 'like' | 'dislike';

export interface SampleOptions {
  /** The user to condition on; it must suit the prior's conditioning (or be `none`: unconditional). */
  user: UserCondition;
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
  /** Clamp the clean estimate into the model's bounds at every step (default true when it has bounds). */
  clip?: boolean;
  /** Moves the clean estimate at every step after the clamp (verifier guidance, see guidance.ts). */
  guide?: CleanEstimateHook;
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

/** The conditioning inputs of `rows` rows: the first `count` for the user (or nobody), the rest null. */
function conditionInputs(
  model: PriorModel,
  user: UserCondition,
  rating: Rating,
  count: number,
  branches: readonly ('cond' | 'null')[],
): Omit<PriorInputs, 'noisyEmbedding' | 'timestep'> {
  const rows = count * branches.length;
  const ratings = new BigInt64Array(rows);
  branches.forEach((branch, b) =>
    ratings.fill(branch === 'cond' ? RATING_ROW[rating] : NULL_RATING, b * count, (b + 1) * count),
  );
  const conditioning = model.conditioning;
  if (conditioning.kind === 'table') {
    const userRow = new BigInt64Array(rows);
    branches.forEach((branch, b) => {
      const row = branch === 'cond' && user.kind === 'row' ? user.row : conditioning.nullUserRow;
      userRow.fill(BigInt(row), b * count, (b + 1) * count);
    });
    return { rating: ratings, userRow };
  }
  const k = conditioning.tasteDim;
  const userVector = new Float32Array(rows * k);
  const userPresent = new Float32Array(rows);
  branches.forEach((branch, b) => {
    if (branch !== 'cond' || user.kind !== 'taste') return;
    for (let r = b * count; r < (b + 1) * count; r += 1) {
      userVector.set(user.vector, r * k);
      userPresent[r] = 1;
    }
  });
  return { rating: ratings, userVector, userPresent };
}

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
  const conditions = conditionInputs(model, options.user, options.rating ?? 'like', count, branches);
  const noisy = new Float32Array(rows * D);
  const timestep = new BigInt64Array(rows);
  const guided = new Float32Array(count * D);
  const estimate = new Float32Array(count * D);
  const predictedNoise = new Float32Array(count * D);
  const noise = new Float32Array(count * D);
  const bounds = options.clip === false ? undefined : (model.dataRange ?? undefined);
  const { mean, std } = model.standardization;
  const totalSteps = scheduler.timesteps.length;

  const unregister = denoiser.register?.();
  try {
    for (let index = 0; index < totalSteps; index += 1) {
      if (signal?.aborted) throw abortError(signal);
      const t = scheduler.timesteps[index] as number;
      for (let b = 0; b < branches.length; b += 1) noisy.set(x, b * count * D);
      timestep.fill(BigInt(t));
      const output = await denoiser.denoise({ noisyEmbedding: noisy, timestep, ...conditions }, signal);
      if (branches.length === 2) {
        const nullOffset = count * D;
        for (let i = 0; i < count * D; i += 1) {
          const uncond = output[nullOffset + i] as number;
          guided[i] = uncond + guidance * ((output[i] as number) - uncond);
        }
      } else {
        guided.set(output.subarray(0, count * D));
      }
      splitOutput(
        model.schedule,
        t,
        model.predictionType,
        x,
        guided,
        estimate,
        predictedNoise,
        bounds,
        options.guide,
      );
      const stepNoise = scheduler.stepNeedsNoise(index) ? noise : undefined;
      if (stepNoise) rng.fillNormal(stepNoise);
      const prev = new Float32Array(count * D);
      scheduler.stepFrom(index, x, estimate, predictedNoise, stepNoise, prev);
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
  checkUser(model.conditioning, options.user);
  if (!Number.isFinite(guidance)) throw new RangeError(`guidanceScale must be finite, got ${guidance}`);
  if (!Number.isSafeInteger(options.seed))
    throw new RangeError(`seed must be an integer, got ${options.seed}`);
  if (options.initialNoise && options.initialNoise.length !== options.count * D) {
    throw new RangeError(
      `initialNoise holds ${options.initialNoise.length} values, expected ${options.count} x ${D}`,
    );
  }
}

function checkUser(conditioning: PriorConditioning, user: UserCondition): void {
  if (user.kind === 'none') return;
  if (conditioning.kind === 'table') {
    if (user.kind !== 'row') throw new RangeError('this prior conditions on user rows, not taste vectors');
    const nullRow = conditioning.nullUserRow;
    if (!Number.isInteger(user.row) || user.row < 0 || user.row > nullRow) {
      throw new RangeError(`userRow ${user.row} is outside 0..${nullRow} (${nullRow} = no user)`);
    }
    return;
  }
  if (user.kind !== 'taste') throw new RangeError('this prior conditions on taste vectors, not user rows');
  if (user.vector.length !== conditioning.tasteDim || !user.vector.every(Number.isFinite)) {
    throw new RangeError(
      `the taste vector must hold ${conditioning.tasteDim} finite values, got ${user.vector.length}`,
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
