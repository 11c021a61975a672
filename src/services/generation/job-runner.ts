import { type Database } from '../../db/client.js';
import {
  completeJob,
  findJob,
  transitionJob,
  updateJobStep,
  type GenerationJobRow,
} from '../../db/queries/jobs.js';
import { findUsersByIds } from '../../db/queries/users.js';
import { type Logger } from '../../lib/logger.js';
import { sampleEmbeddings, type UserFactors } from '../../ml/index.js';
import { type ActiveModel, type ModelRuntime } from '../model-runtime.js';
import { type EventBus, type ProgressPayload } from './events.js';
import { TERMINAL } from './progress.js';

/** Stable codes a failed job carries (GenerationJob.errorCode). */
export type JobErrorCode =
  'MODEL_NOT_READY' | 'USER_NOT_IN_MODEL' | 'SAMPLING_FAILED' | 'WORKER_LOST' | 'QUEUE_UNAVAILABLE';

/** Step numbers are written to the database at most this often; subscribers get every step. */
const STEP_WRITE_INTERVAL_MS = 250;

/**
 * The nearest-catalog-item preview is a full cosine scan (40k x 1024 takes ~50 ms on one core): run on
 * every step of every job it would stall the event loop. After a scan that took t ms, the next may start
 * only 9t ms later (shared by all jobs of this process), so previews use at most a tenth of the CPU;
 * steps in between repeat the last preview. On a small catalog every step still gets a fresh one.
 */
const PREVIEW_CPU_SHARE = 0.1;

/**
 * Runs generation jobs: samples with the active model's prior (classifier-free guidance, batched with
 * every other running job), streams each denoising step to the event bus, stores the items and ends the
 * job in the database. Cancellation arrives on the bus from any process.
 */
export class JobRunner {
  private readonly shutdown = new AbortController();
  private nextPreviewAt = 0;

  constructor(
    private readonly db: Database,
    private readonly runtime: ModelRuntime,
    private readonly bus: EventBus,
    private readonly logger: Logger,
  ) {}

  /** Abort running jobs (they go back to queued, to be run again) and refuse new ones. */
  stop(): void {
    this.shutdown.abort();
  }

  readonly run = async (jobId: string): Promise<void> => {
    const job = await findJob(this.db, jobId);
    if (job === undefined || TERMINAL.has(job.status) || this.shutdown.signal.aborted) return;
    // The lease keeps this model version's session alive until the job ends, even if another version
    // is activated meanwhile.
    const lease = await this.runtime.acquire();
    if (lease === null) {
      return this.fail(job, 'MODEL_NOT_READY', this.runtime.notReadyReason ?? 'no model');
    }
    const cancel = new AbortController();
    const listening = new AbortController();
    const signal = AbortSignal.any([cancel.signal, this.shutdown.signal]);
    let running: GenerationJobRow | undefined;
    try {
      const active = lease.active;
      const [user] = await findUsersByIds(this.db, [job.userId]);
      const userRow = user === undefined ? undefined : active.model.priorUserRow(user.externalId);
      if (user === undefined || userRow === undefined) {
        return await this.fail(job, 'USER_NOT_IN_MODEL', 'the model was trained without this user');
      }
      const cancels = await this.bus.subscribe('cancel', jobId, listening.signal);
      void (async () => {
        for await (const _ of cancels) cancel.abort();
      })().catch((error: unknown) => this.logger.warn('cancel listener failed', { jobId, error }));
      const startedAt = new Date();
      // Only from queued or running (a job recovered from a dead worker): a cancelled job stays so.
      running = await transitionJob(this.db, jobId, ['queued', 'running'], {
        status: 'running',
        step: 0,
        startedAt,
        modelVersionId: active.version.id,
        errorCode: null,
        errorMessage: null,
      });
      if (running === undefined) return;
      await this.sample(running, active, userRow, user.externalId, startedAt, signal);
    } catch (error) {
      if (this.shutdown.signal.aborted && running !== undefined) {
        await transitionJob(this.db, jobId, ['running'], { status: 'queued', step: 0 });
        this.logger.info('generation job interrupted by shutdown; queued again', { jobId });
        return;
      }
      // A cancel already ended the job in the database (GenerationService.cancel).
      if (cancel.signal.aborted) return;
      this.logger.error('generation job failed', { jobId, error });
      await this.fail(running ?? job, 'SAMPLING_FAILED', (error as Error).message);
    } finally {
      listening.abort();
      lease.release();
    }
  };

  private async sample(
    job: GenerationJobRow,
    active: ActiveModel,
    userRow: number,
    userExternalId: string,
    startedAt: Date,
    signal: AbortSignal,
  ): Promise<void> {
    const { model, index } = active;
    const verifierRow = model.verifier.userRow(userExternalId);
    const factors: UserFactors =
      verifierRow === undefined ? model.verifier.meanUserFactors() : model.verifier.userFactors(verifierRow);
    const dim = model.embeddingDim;
    let lastWrite = 0;
    let previewNearestItemId: string | null = null;
    const base = {
      jobId: job.id,
      errorCode: null,
    };
    for await (const event of sampleEmbeddings(model, {
      userRow,
      rating: 'like',
      count: job.count,
      guidanceScale: job.guidanceScale,
      method: job.sampler,
      steps: job.steps,
      seed: job.seed,
      signal,
      denoiser: active.denoiser,
    })) {
      const elapsedMs = Date.now() - startedAt.getTime();
      if (event.type === 'step') {
        let scoreSum = 0;
        for (let i = 0; i < job.count; i += 1) {
          scoreSum += model.verifier.probability(factors, event.estimate.subarray(i * dim, (i + 1) * dim));
        }
        if (index !== null && (performance.now() >= this.nextPreviewAt || event.step === event.totalSteps)) {
          const started = performance.now();
          previewNearestItemId =
            (await index.nearestYielding(event.estimate.subarray(0, dim), 1))[0]?.id ?? null;
          const took = performance.now() - started;
          this.nextPreviewAt = performance.now() + (took * (1 - PREVIEW_CPU_SHARE)) / PREVIEW_CPU_SHARE;
        }
        const payload: ProgressPayload = {
          ...base,
          status: 'running',
          step: event.step,
          totalSteps: event.totalSteps,
          elapsedMs,
          etaMs: Math.round((elapsedMs / event.step) * (event.totalSteps - event.step)),
          previewScore: scoreSum / job.count,
          previewNearestItemId,
        };
        await this.bus.publish('progress', job.id, payload);
        if (Date.now() - lastWrite >= STEP_WRITE_INTERVAL_MS) {
          lastWrite = Date.now();
          await updateJobStep(this.db, job.id, event.step);
        }
        continue;
      }
      const rows = Array.from({ length: job.count }, (_, position) => {
        const embedding = event.samples.slice(position * dim, (position + 1) * dim);
        return {
          jobId: job.id,
          userId: job.userId,
          modelVersionId: active.version.id,
          position,
          embedding,
          verifierScore: model.verifier.probability(factors, embedding),
        };
      });
      const done = await completeJob(this.db, job.id, job.steps, rows);
      if (done === undefined) return;
      await this.bus.publish('progress', job.id, {
        ...base,
        status: 'succeeded',
        step: job.steps,
        totalSteps: job.steps,
        elapsedMs,
        etaMs: 0,
        previewScore: rows.reduce((sum, row) => sum + row.verifierScore, 0) / rows.length,
        previewNearestItemId,
      });
    }
  }

  /** End a job as failed with a stable code, unless it already ended. */
  async fail(job: GenerationJobRow, code: JobErrorCode, message: string): Promise<void> {
    const failed = await transitionJob(this.db, job.id, ['queued', 'running'], {
      status: 'failed',
      errorCode: code,
      errorMessage: message,
      finishedAt: new Date(),
    });
    if (failed === undefined) return;
    await this.bus.publish('progress', job.id, {
      jobId: job.id,
      status: 'failed',
      step: failed.step,
      totalSteps: failed.steps,
      elapsedMs: failed.startedAt === null ? 0 : Date.now() - failed.startedAt.getTime(),
      etaMs: null,
      previewScore: null,
      previewNearestItemId: null,
      errorCode: code,
    });
  }
}
