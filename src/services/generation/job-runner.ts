import { type Database } from '../../db/client.js';
import { findJob, type GeneratedItemWrite } from '../../db/queries/jobs.js';
import { findItemsByExternalIds } from '../../db/queries/items.js';
import { findUsersByIds } from '../../db/queries/users.js';
import { type Logger } from '../../lib/logger.js';
import {
  outOfRange,
  sampleEmbeddings,
  selectDiverse,
  standardizeRows,
  type UserCondition,
  type UserFactors,
  verifierGuidanceHook,
} from '../../ml/index.js';
import { type ItemRecord, type JobRecord } from '../../records.js';
import { TERMINAL_STATUSES } from '../../vocabulary.js';
import { type ActiveModel, type ModelRuntime } from '../model-runtime.js';
import { resolveUserTaste } from '../user-taste.js';
import { type EventBus } from './events.js';
import { generationEligibility } from './eligibility.js';
import { type JobLifecycle } from './job-lifecycle.js';
import { samplingDefaults } from './sampling-defaults.js';
import { denoisingSteps } from '../../lib/metrics.js';

/**
 * The nearest-catalog-item preview is a full cosine scan (40k x 1024 takes ~50 ms on one core): run on
 * every step of every job it would stall the event loop. After a scan that took t ms, the next may start
 * only 9t ms later (shared by all jobs of this process), so previews use at most a tenth of the CPU;
 * steps in between repeat the last preview. On a small catalog every step still gets a fresh one.
 */
const PREVIEW_CPU_SHARE = 0.1;

/**
 * Runs generation jobs: samples `count x candidates` embeddings with the active model's prior (batched
 * with every other running job), streams each denoising step, keeps the best `count` in the data's range
 * by the verifier under the diversity floor, and ends the job through the lifecycle. Cancellation arrives
 * on the bus from any process.
 */
export class JobRunner {
  private readonly shutdown = new AbortController();
  private nextPreviewAt = 0;

  constructor(
    private readonly db: Database,
    private readonly runtime: ModelRuntime,
    private readonly lifecycle: JobLifecycle,
    private readonly bus: EventBus,
    private readonly logger: Logger,
  ) {}

  /** Abort running jobs (they go back to queued, to be run again) and refuse new ones. */
  stop(): void {
    this.shutdown.abort();
  }

  readonly run = async (jobId: string): Promise<void> => {
    const job = await findJob(this.db, jobId);
    if (job === undefined || TERMINAL_STATUSES.has(job.status) || this.shutdown.signal.aborted) return;
    // The lease keeps this model version's session alive until the job ends, even if another version
    // is activated meanwhile.
    const lease = await this.runtime.acquire();
    if (lease === null) {
      await this.lifecycle.fail(jobId, 'MODEL_NOT_READY', this.runtime.notReadyReason ?? 'no model');
      return;
    }
    const cancel = new AbortController();
    const listening = new AbortController();
    const signal = AbortSignal.any([cancel.signal, this.shutdown.signal]);
    let running: JobRecord | undefined;
    try {
      const active = lease.active;
      const [user] = await findUsersByIds(this.db, [job.userId]);
      if (user === undefined) {
        await this.lifecycle.fail(jobId, 'USER_NOT_IN_MODEL', 'the user no longer exists');
        return;
      }
      // The same vector ranks the user's recommendations, scores the items and conditions the prior.
      const taste = await resolveUserTaste(this.db, active, user);
      const eligibility = generationEligibility(active, user.externalId, taste);
      if (!eligibility.available) {
        await this.lifecycle.fail(jobId, 'USER_NOT_IN_MODEL', eligibility.message);
        return;
      }
      const cancels = await this.bus.subscribeCancel(jobId, listening.signal);
      void (async () => {
        for await (const _ of cancels) cancel.abort();
      })().catch((error: unknown) => this.logger.warn('cancel listener failed', { jobId, error }));
      running = await this.lifecycle.start(jobId, active.version.id);
      if (running === undefined) return;
      await this.sample(running, active, eligibility.condition, taste.factors, signal);
    } catch (error) {
      if (this.shutdown.signal.aborted && running !== undefined) {
        await this.lifecycle.requeue(jobId);
        this.logger.info('generation job interrupted by shutdown; queued again', { jobId });
        return;
      }
      // A cancel already ended the job in the database (GenerationService.cancel).
      if (cancel.signal.aborted) return;
      this.logger.error('generation job failed', { jobId, error });
      await this.lifecycle.fail(jobId, 'SAMPLING_FAILED', (error as Error).message);
    } finally {
      listening.abort();
      lease.release();
    }
  };

  private async sample(
    job: JobRecord,
    active: ActiveModel,
    condition: UserCondition,
    factors: UserFactors,
    signal: AbortSignal,
  ): Promise<void> {
    const { model } = active;
    const dim = model.embeddingDim;
    const drawn = job.count * job.candidates;
    const startedAt = job.startedAt?.getTime() ?? Date.now();
    let previewNearest: ItemRecord | null = null;
    for await (const event of sampleEmbeddings(model, {
      user: condition,
      rating: 'like',
      count: drawn,
      guidanceScale: job.guidanceScale,
      method: job.sampler,
      steps: job.steps,
      seed: job.seed,
      signal,
      denoiser: active.denoiser,
      ...(job.verifierScale > 0
        ? { guide: verifierGuidanceHook(model.verifier, factors, model.standardization, job.verifierScale) }
        : {}),
    })) {
      if (event.type === 'step') {
        let scoreSum = 0;
        for (let i = 0; i < drawn; i += 1) {
          scoreSum += model.verifier.probability(factors, event.estimate.subarray(i * dim, (i + 1) * dim));
        }
        previewNearest = await this.preview(
          active,
          event.estimate.subarray(0, dim),
          event.step === event.totalSteps,
          previewNearest,
        );
        denoisingSteps.inc();
        await this.lifecycle.step(job, { step: event.step, previewScore: scoreSum / drawn, previewNearest });
        continue;
      }
      const kept = this.keep(job, active, factors, event.samples);
      if (typeof kept === 'string') {
        await this.lifecycle.fail(job.id, 'SAMPLING_FAILED', kept);
        return;
      }
      const items: GeneratedItemWrite[] = kept.map(({ embedding, score }, position) => ({
        jobId: job.id,
        userId: job.userId,
        modelVersionId: active.version.id,
        position,
        embedding,
        verifierScore: score,
      }));
      const previewScore = items.reduce((sum, item) => sum + item.verifierScore, 0) / items.length;
      await this.lifecycle.complete(job, items, { previewScore, previewNearest });
      this.logger.debug('generation job done', { jobId: job.id, ms: Date.now() - startedAt });
    }
  }

  /**
   * The job's items out of its candidates: only those inside the data's range, the best by the verifier
   * with no two more alike than the diversity floor. A reason string when too few lie in the range.
   */
  private keep(
    job: JobRecord,
    active: ActiveModel,
    factors: UserFactors,
    samples: Float32Array,
  ): { embedding: Float32Array; score: number }[] | string {
    const { model, range } = active;
    const dim = model.embeddingDim;
    const drawn = job.count * job.candidates;
    const scores = new Float64Array(drawn);
    const eligible: boolean[] = [];
    let firstProblem: string | null = null;
    for (let i = 0; i < drawn; i += 1) {
      const embedding = samples.subarray(i * dim, (i + 1) * dim);
      const problem = range === null ? null : outOfRange(embedding, range, model.standardization);
      firstProblem ??= problem;
      eligible.push(problem === null);
      scores[i] = problem === null ? model.verifier.probability(factors, embedding) : 0;
    }
    const healthy = eligible.filter(Boolean).length;
    if (healthy < job.count) {
      return (
        `${drawn - healthy} of ${drawn} samples left the catalog's range (${firstProblem ?? 'unknown'}); ` +
        `${healthy} remain for ${job.count} items`
      );
    }
    const picked =
      job.candidates === 1
        ? Array.from({ length: job.count }, (_, i) => i)
        : selectDiverse(
            scores,
            standardizeRows(samples, model.standardization),
            dim,
            job.count,
            samplingDefaults(model).maxCosine,
            eligible,
          );
    return picked.map((i) => ({
      embedding: samples.slice(i * dim, (i + 1) * dim),
      score: scores[i] as number,
    }));
  }

  private async preview(
    active: ActiveModel,
    estimate: Float32Array,
    last: boolean,
    previous: ItemRecord | null,
  ): Promise<ItemRecord | null> {
    if (active.index === null || (performance.now() < this.nextPreviewAt && !last)) return previous;
    const started = performance.now();
    const id = (await active.index.nearestYielding(estimate, 1))[0]?.id;
    const took = performance.now() - started;
    this.nextPreviewAt = performance.now() + (took * (1 - PREVIEW_CPU_SHARE)) / PREVIEW_CPU_SHARE;
    if (id === undefined) return null;
    if (id === previous?.externalId) return previous;
    const [item] = await findItemsByExternalIds(this.db, [id]);
    return item ?? null;
  }
}
