import { alphaCumprodAt, type NoiseSchedule, type Vector } from './schedule.js';

/** What the prior's output means: the noise (the paper), the clean sample x0, or v (Salimans & Ho). */
export type PredictionType = 'epsilon' | 'sample' | 'v_prediction';

/** Per-dimension bounds of the clean estimate, in standardised space (the catalog's range), length D. */
export interface CleanEstimateBounds {
  lower: Float32Array;
  upper: Float32Array;
}

/** Moves the clean estimates `x0` ([rows, D], standardised) in place, e.g. up the verifier's gradient. */
export type CleanEstimateHook = (x0: Float32Array) => void;

/**
 * The clean estimate x0 and the noise eps that a model output implies at timestep `t` (as diffusers'
 * schedulers convert them). With `bounds`, x0 is clamped into the data's range; `hook` may then move it
 * (and it is clamped again); eps is re-derived from the final x0 so that the step stays consistent with it,
 * as diffusers does after clipping. Arrays are [rows, D] row-major; `bounds` repeat every D values.
 */
export function splitOutput(
  schedule: NoiseSchedule,
  t: number,
  predictionType: PredictionType,
  sample: Vector,
  output: Vector,
  x0: Float32Array,
  eps: Float32Array,
  bounds?: CleanEstimateBounds,
  hook?: CleanEstimateHook,
): void {
  const alphaProd = alphaCumprodAt(schedule, t);
  const sa = Math.sqrt(alphaProd);
  const sb = Math.sqrt(1 - alphaProd);
  const n = sample.length;
  for (let i = 0; i < n; i += 1) {
    const x = sample[i] as number;
    const o = output[i] as number;
    switch (predictionType) {
      case 'epsilon':
        eps[i] = o;
        x0[i] = (x - sb * o) / sa;
        break;
      case 'sample':
        x0[i] = o;
        eps[i] = (x - sa * o) / sb;
        break;
      case 'v_prediction':
        x0[i] = sa * x - sb * o;
        eps[i] = sa * o + sb * x;
        break;
      default:
        throw new UnknownPredictionTypeError(predictionType);
    }
  }
  if (bounds === undefined && hook === undefined) return;
  if (bounds) clampRows(x0, bounds);
  if (hook) {
    hook(x0);
    if (bounds) clampRows(x0, bounds);
  }
  for (let i = 0; i < n; i += 1) eps[i] = ((sample[i] as number) - sa * (x0[i] as number)) / sb;
}

/** Clamp every row of `x` ([rows, D]) into the per-dimension bounds. */
export function clampRows(x: Float32Array, bounds: CleanEstimateBounds): void {
  const { lower, upper } = bounds;
  const D = lower.length;
  for (let i = 0; i < x.length; i += 1) {
    const k = i % D;
    const value = x[i] as number;
    const lo = lower[k] as number;
    const hi = upper[k] as number;
    x[i] = value < lo ? lo : value > hi ? hi : value;
  }
}

export class UnknownPredictionTypeError extends Error {
  constructor(value: never) {
    super(`unknown prediction type ${String(value)} (epsilon | sample | v_prediction)`);
  }
}
