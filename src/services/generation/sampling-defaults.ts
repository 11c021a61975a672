import { type RebecaModel } from '../../ml/index.js';

/** What `generate` does when not told otherwise. */
export interface SamplingDefaults {
  guidanceScale: number;
  verifierScale: number;
  candidates: number;
  /** No two kept items of a job have a (centred, standardised) cosine above this. */
  maxCosine: number;
  steps: number;
}

/**
 * The diversity floor: in the taste world, two pictures with the same attributes (the same picture
 * rendered twice, differing only by the embedding noise) have a standardised cosine of about 0.9, so
 * kept items must be less alike than that. Models may record their own (manifest guidance.maxCosine).
 */
export const DEFAULT_MAX_COSINE = 0.9;
/** DDIM steps by default (the sampler's own default). */
export const DEFAULT_STEPS = 50;

/** The model's measured defaults (manifest `guidance`), or none of the extras for older artifacts. */
export function samplingDefaults(model: RebecaModel): SamplingDefaults {
  const guidance = model.manifest.guidance;
  return {
    guidanceScale: guidance.defaultScale,
    verifierScale: guidance.verifierScale ?? 0,
    candidates: guidance.candidates ?? 1,
    maxCosine: guidance.maxCosine ?? DEFAULT_MAX_COSINE,
    steps: DEFAULT_STEPS,
  };
}
