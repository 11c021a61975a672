/** The public surface of the inference module: services import from here only. */
export { loadModel, RebecaModel, type LoadModelOptions } from './model.js';
export { ArtifactError, parseManifest, readManifest, type ModelManifest } from './artifact.js';
export {
  ExecutionProviderError,
  ModelInputError,
  PriorSession,
  type ExecutionProvider,
  type PriorInputs,
  type RunStats,
} from './session.js';
export {
  sampleEmbeddings,
  sampleToEnd,
  type PriorModel,
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
export { DdpmScheduler, ddpmStep } from './ddpm.js';
export { DdimScheduler, ddimStep } from './ddim.js';
export { SeededRandom } from './rng.js';
