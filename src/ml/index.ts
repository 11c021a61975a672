/** The public surface of the inference module: services import from here only. */
export { loadModel, RebecaModel, type LoadModelOptions } from './model.js';
export { ArtifactError, parseManifest, readManifest, type ModelManifest } from './artifact.js';
export {
  ExecutionProviderError,
  ModelInputError,
  PriorSession,
  type ExecutionProvider,
  type PriorConditioning,
  type PriorInputs,
  type RunStats,
} from './session.js';
export {
  sampleEmbeddings,
  sampleToEnd,
  type PriorModel,
  type UserCondition,
  type Rating,
  type SampleEvent,
  type SampleOptions,
  type SampleResultEvent,
  type SampleStepEvent,
  type SamplingMethod,
} from './sampler.js';
export { DenoiseBatcher, type BatcherOptions, type BatcherStats } from './batcher.js';
export { abortError, type Denoiser } from './denoiser.js';
export {
  Verifier,
  sigmoid,
  type ItemFeatures,
  type UserFactors,
  type VerifierParameters,
} from './verifier.js';
export { CatalogIndex, type Catalog, type CatalogHit } from './catalog.js';
export {
  fitCatalogUser,
  fitUserFactors,
  type CatalogRating,
  type ColdStartFit,
  type ColdStartOptions,
} from './cold-start.js';
export {
  leadingTimesteps,
  makeNoiseSchedule,
  type DenoisingScheduler,
  type NoiseSchedule,
  type NoiseScheduleConfig,
} from './schedule.js';
export { DdpmScheduler, ddpmPosterior, ddpmStep } from './ddpm.js';
export { DdimScheduler, ddimFrom, ddimStep } from './ddim.js';
export {
  clampRows,
  splitOutput,
  type CleanEstimateBounds,
  type CleanEstimateHook,
  type PredictionType,
} from './prediction.js';
export { verifierGuidanceHook } from './guidance.js';
export {
  dataRangeFromManifest,
  dataRangeOf,
  outOfRange,
  NORM_TOLERANCE,
  type DataRange,
} from './data-range.js';
export { selectDiverse, standardizeRows } from './selection.js';
export { SeededRandom } from './rng.js';
export { permutationTest, type PermutationResult } from './permutation.js';
export {
  cmmd,
  cmmdAgainst,
  cmmdReference,
  frechetAgainst,
  frechetDistance,
  frechetReference,
  histogram,
  meanAndCovariance,
  meanPairwiseCosineDistance,
  precisionRecallAtK,
  symmetricEigen,
  type CmmdOptions,
  type CmmdReference,
  type FrechetOptions,
  type FrechetReference,
  type HeldOutItems,
  type HistogramResult,
  type Matrix,
  type PrecisionRecall,
  type SymmetricEigen,
} from './distribution.js';
