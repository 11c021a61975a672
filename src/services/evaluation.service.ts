import { type Database } from '../db/client.js';
import {
  type EvaluationReportRow,
  insertEvaluationReport,
  listEvaluationReports,
} from '../db/queries/evaluations.js';
import { BadUserInputError, ModelNotReadyError } from '../errors.js';
import { type ProgressListener } from '../lib/progress.js';
import { sampleToEnd, SeededRandom, type SamplingMethod } from '../ml/index.js';
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
  /** Share of permutations whose statistic is at least the real one. */
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
  const users = model.manifest.users.filter((id) => model.verifier.userRow(id) !== undefined);
  if (users.length < 2)
    throw new BadUserInputError('the test needs at least two users known to prior and verifier');
  const n = options.samplesPerUser;
  const dim = model.embeddingDim;
  const U = users.length;
  // scores[i * U + v]: the verifier's probability that user v likes embedding i (made for user i / n).
  const scores = new Float64Array(U * n * U);
  const factors = users.map((id) => model.verifier.userFactors(model.verifier.userRow(id) as number));
  const started = performance.now();
  for (let u = 0; u < U; u += 1) {
    const samples = await sampleToEnd(model, {
      userRow: model.priorUserRow(users[u] as string) as number,
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
        scores[(u * n + k) * U + v] = model.verifier.probability(factors[v]!, embedding);
    }
    onProgress?.({ phase: 'sampling users', done: u + 1, total: U });
  }
  const samplingSeconds = (performance.now() - started) / 1000;
  const owner = Int32Array.from({ length: U * n }, (_, i) => Math.floor(i / n));
  const statisticOf = (assignment: Int32Array) => {
    const sums = new Float64Array(U);
    for (let i = 0; i < assignment.length; i += 1) {
      const user = assignment[i]!;
      sums[user]! += scores[i * U + user]!;
    }
    let total = 0;
    for (let v = 0; v < U; v += 1) total += sums[v]! / n;
    return total / U;
  };
  const statistic = statisticOf(owner);
  let others = 0;
  for (let i = 0; i < U * n; i += 1) {
    for (let v = 0; v < U; v += 1) if (v !== owner[i]) others += scores[i * U + v]!;
  }
  const othersMean = others / (U * n * (U - 1));
  const rng = new SeededRandom(options.seed ^ 0x5eed);
  const shuffled = Int32Array.from(owner);
  const nulls = new Float64Array(options.permutations);
  for (let p = 0; p < options.permutations; p += 1) {
    for (let i = shuffled.length - 1; i > 0; i -= 1) {
      const j = Math.floor(rng.nextFloat() * (i + 1));
      const swap = shuffled[i]!;
      shuffled[i] = shuffled[j]!;
      shuffled[j] = swap;
    }
    nulls[p] = statisticOf(shuffled);
  }
  const mean = nulls.reduce((a, b) => a + b, 0) / nulls.length;
  const std = Math.sqrt(nulls.reduce((a, b) => a + (b - mean) ** 2, 0) / nulls.length);
  return {
    users: U,
    samplesPerUser: n,
    statistic,
    permutationMean: mean,
    permutationStd: std,
    z: std > 0 ? (statistic - mean) / std : 0,
    pValue: nulls.filter((value) => value >= statistic).length / nulls.length,
    ownVsOthersGap: statistic - othersMean,
    samplingSeconds,
  };
}
