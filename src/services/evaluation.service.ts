import { type Database } from '../db/client.js';
import {
  type EvaluationReportRow,
  insertEvaluationReport,
  listEvaluationReports,
} from '../db/queries/evaluations.js';
import { BadUserInputError, ModelNotReadyError } from '../errors.js';
import { type ProgressListener } from '../lib/progress.js';
import { permutationTest, sampleToEnd, type SamplingMethod } from '../ml/index.js';
import { type ActiveModel, type ModelRuntime } from './model-runtime.js';

/** Parameters of the personalisation test (the paper's Algorithm 1). */
export interface PersonalisationOptions {
  /** Embeddings generated per user (the reference code uses 25). */
  samplesPerUser: number;
  /** Shuffles of the embedding -> user assignment for the null distribution (the paper: 1000). */
  permutations: number;
  sampler: SamplingMethod;
  /** DDIM steps (DDPM runs every training step). */
  steps: number;
  /** Guidance w; default the model's. */
  guidanceScale?: number | undefined;
  seed: number;
}

export interface PersonalisationResult {
  users: number;
  samplesPerUser: number;
  /** Mean over users of the verifier's average score of their own embeddings. */
  statistic: number;
  permutationMean: number;
  permutationStd: number;
  /** (statistic - permutation mean) / permutation std. */
  z: number;
  /** (k + 1) / (permutations + 1), k = permutations whose statistic is at least the real one. */
  pValue: number;
  /** Mean score of a user's own embeddings minus the mean score of other users' embeddings for them. */
  ownVsOthersGap: number;
  samplingSeconds: number;
}

export class EvaluationService {
  constructor(
    private readonly db: Database,
    private readonly runtime: ModelRuntime,
  ) {}

  /**
   * The paper's personalisation test: sample embeddings for every user the prior and the verifier both
   * know, score each under the verifier for the user it was made for, and compare with the same scores
   * under random reassignments of embeddings to users. Stores the report and returns it.
   */
  async personalisation(
    options: PersonalisationOptions,
    onProgress?: ProgressListener,
  ): Promise<EvaluationReportRow> {
    if (
      !Number.isInteger(options.samplesPerUser) ||
      options.samplesPerUser < 1 ||
      options.samplesPerUser > 1000
    ) {
      throw new BadUserInputError('samples per user must be 1..1000');
    }
    if (
      !Number.isInteger(options.permutations) ||
      options.permutations < 1 ||
      options.permutations > 100_000
    ) {
      throw new BadUserInputError('permutations must be 1..100000');
    }
    const active = await this.runtime.active();
    if (active === null) throw new ModelNotReadyError(this.runtime.notReadyReason ?? 'no model is loaded');
    const results = await personalisationTest(active, options, onProgress);
    return insertEvaluationReport(this.db, {
      modelVersionId: active.version.id,
      kind: 'personalisation',
      parameters: { ...options, guidanceScale: options.guidanceScale ?? active.model.defaultGuidanceScale },
      results,
    });
  }

  list(filter: { modelVersionId?: number | undefined; kind?: string | undefined }, limit: number) {
    return listEvaluationReports(this.db, filter, limit);
  }
}

export async function personalisationTest(
  active: ActiveModel,
  options: PersonalisationOptions,
  onProgress?: ProgressListener,
): Promise<PersonalisationResult> {
  const { model } = active;
  // Users the prior was trained with and the verifier knows: their trained vectors, their prior condition.
  const users = model.manifest.users.flatMap((id) => {
    const row = model.verifier.userRow(id);
    if (row === undefined) return [];
    const factors = model.verifier.userFactors(row);
    const condition = model.userCondition(id, factors);
    return condition === undefined ? [] : [{ id, factors, condition }];
  });
  if (users.length < 2)
    throw new BadUserInputError('the test needs at least two users known to prior and verifier');
  const n = options.samplesPerUser;
  const dim = model.embeddingDim;
  const U = users.length;
  // scores[s * U + v]: the verifier's probability that user v likes sample s (made for user s / n).
  const scores = new Float64Array(U * n * U);
  const started = performance.now();
  for (let u = 0; u < U; u += 1) {
    const user = users[u]!;
    const samples = await sampleToEnd(model, {
      user: user.condition,
      rating: 'like',
      count: n,
      method: options.sampler,
      ...(options.sampler === 'ddim' ? { steps: options.steps } : {}),
      ...(options.guidanceScale === undefined ? {} : { guidanceScale: options.guidanceScale }),
      seed: options.seed + u,
      denoiser: active.denoiser,
    });
    for (let k = 0; k < n; k += 1) {
      const embedding = samples.subarray(k * dim, (k + 1) * dim);
      for (let v = 0; v < U; v += 1)
        scores[(u * n + k) * U + v] = model.verifier.probability(users[v]!.factors, embedding);
    }
    onProgress?.({ phase: 'sampling users', done: u + 1, total: U });
  }
  const samplingSeconds = (performance.now() - started) / 1000;
  const owner = Int32Array.from({ length: U * n }, (_, i) => Math.floor(i / n));
  const test = permutationTest(scores, owner, U, options.permutations, options.seed ^ 0x5eed);
  return {
    users: U,
    samplesPerUser: n,
    statistic: test.statistic,
    permutationMean: test.permutationMean,
    permutationStd: test.permutationStd,
    z: test.z,
    pValue: test.pValue,
    ownVsOthersGap: test.ownVsOthersGap,
    samplingSeconds,
  };
}
