import type { ModelManifest } from './artifact.js';
import type { CleanEstimateBounds } from './prediction.js';

/**
 * The catalog's range: per-dimension min and max in standardised space (the clamp of the clean estimate)
 * and the raw L2 norm range (the check of a finished sample), as training/rebeca/quality.py records it.
 */
export interface DataRange extends CleanEstimateBounds {
  normMin: number;
  normMax: number;
  /** A finished sample's norm may lie this factor outside [normMin, normMax]. */
  normTolerance: number;
}

/** Finished samples may exceed the catalog's norm range by this factor (the manifest may say otherwise). */
export const NORM_TOLERANCE = 1.25;
/** Float rounding allowance on the per-dimension check (standardised units). */
const DIMENSION_SLACK = 1e-3;

export function dataRangeFromManifest(manifest: ModelManifest): DataRange | null {
  const range = manifest.dataRange;
  if (range === undefined) return null;
  return {
    lower: Float32Array.from(range.lower),
    upper: Float32Array.from(range.upper),
    normMin: range.normMin,
    normMax: range.normMax,
    normTolerance: range.normTolerance ?? NORM_TOLERANCE,
  };
}

/** The range of `count` raw embeddings ([count, D]) under a standardisation (for artifacts without one). */
export function dataRangeOf(
  embeddings: Float32Array,
  count: number,
  standardization: { mean: Float32Array; std: Float32Array },
): DataRange {
  const { mean, std } = standardization;
  const D = mean.length;
  const lower = new Float32Array(D).fill(Infinity);
  const upper = new Float32Array(D).fill(-Infinity);
  let normMin = Infinity;
  let normMax = 0;
  for (let r = 0; r < count; r += 1) {
    let squares = 0;
    for (let k = 0; k < D; k += 1) {
      const e = embeddings[r * D + k] as number;
      squares += e * e;
      const z = (e - (mean[k] as number)) / (std[k] as number);
      if (z < (lower[k] as number)) lower[k] = z;
      if (z > (upper[k] as number)) upper[k] = z;
    }
    const norm = Math.sqrt(squares);
    normMin = Math.min(normMin, norm);
    normMax = Math.max(normMax, norm);
  }
  return { lower, upper, normMin, normMax, normTolerance: NORM_TOLERANCE };
}

/**
 * Why a finished raw sample lies outside the data (non-finite, norm out of range, a dimension outside the
 * catalog's spread), or null when it is inside.
 */
export function outOfRange(
  sample: Float32Array,
  range: DataRange,
  standardization: { mean: Float32Array; std: Float32Array },
): string | null {
  const { mean, std } = standardization;
  let squares = 0;
  let worstDimension = -1;
  for (let k = 0; k < sample.length; k += 1) {
    const e = sample[k] as number;
    if (!Number.isFinite(e)) return `value ${k} is not finite`;
    squares += e * e;
    const z = (e - (mean[k] as number)) / (std[k] as number);
    if (
      worstDimension < 0 &&
      (z < (range.lower[k] as number) - DIMENSION_SLACK || z > (range.upper[k] as number) + DIMENSION_SLACK)
    )
      worstDimension = k;
  }
  const norm = Math.sqrt(squares);
  const low = range.normMin / range.normTolerance;
  const high = range.normMax * range.normTolerance;
  if (norm < low || norm > high)
    return `norm ${norm.toPrecision(4)} is outside the catalog's ${low.toPrecision(4)}..${high.toPrecision(4)}`;
  if (worstDimension >= 0) return `dimension ${worstDimension} is outside the catalog's spread`;
  return null;
}
