import { type Database } from '../../db/client.js';
import {
  completeJobWithItems,
  type GeneratedItemWrite,
  type GenerationJobWrite,
  insertJobWithinLimits,
  type JobChanges,
  transitionJob,
  updateJobStep,
} from '../../db/queries/jobs.js';
import { ResourceExhaustedError } from '../../errors.js';
import { type Logger } from '../../lib/logger.js';
import { MAX_OPEN_JOBS, MAX_OPEN_JOBS_PER_KEY, MAX_OPEN_JOBS_PER_USER } from '../../limits.js';
import { type ItemRecord, type JobRecord } from '../../records.js';
import { type JobErrorCode, type JobStatus } from '../../vocabulary.js';
import { type EventBus, type ProgressEvent } from './events.js';
import { progressEvent } from './progress.js';

/**
 * A generation job's life. Each transition names the states it may leave from; the database applies it
 * as a compare-and-set, so of two racing transitions (a cancel and a completion) exactly one wins, and
 * only the winner announces itself.
 *
 * ```
 *            start                 complete
 *  queued ──────────▶ running ─────────────▶ succeeded
 *    ▲  │  ◀────────  │  ▲ │
 *    │  │   requeue   │  └─┘ start (a dead worker's job, run again)
 *    │  │             │
 *    │  └──── fail / cancel ──▶ failed | cancelled
 *  create
 * ```
 */
export const JOB_TRANSITIONS = {
  start: { from: ['queued', 'running'], to: 'running' },
  requeue: { from: ['running'], to: 'queued' },
  complete: { from: ['running'], to: 'succeeded' },
  fail: { from: ['queued', 'running'], to: 'failed' },
  cancel: { from: ['queued', 'running'], to: 'cancelled' },
} as const satisfies Record<string, { from: readonly JobStatus[]; to: JobStatus }>;

export type JobTransition = keyof typeof JOB_TRANSITIONS;

/** Step numbers are written to the database at most this often; subscribers get every step. */
const STEP_WRITE_INTERVAL_MS = 250;

/** One denoising step as the runner reports it. */
export interface StepReport {
  step: number;
  previewScore: number | null;
  previewNearest: ItemRecord | null;
}

/** Failed publishes and step writes are logged at most this often (they repeat during an outage). */
const FAULT_LOG_INTERVAL_MS = 10_000;

/**
 * The only writer of a job's status: creates jobs within the limits, applies the transitions and publishes
 * the event built from the row each one wrote. The service and the runner call it; nothing else writes
 * `generation_jobs.status`. The database is the truth: publishing is best-effort (a bus outage loses
 * events, never a job), and so is the periodic step write.
 */
export class JobLifecycle {
  private readonly lastStepWrite = new Map<string, number>();
  private readonly lastFaultLog = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly bus: EventBus,
    private readonly logger?: Logger,
  ) {}

  /** Insert a queued job unless a limit refuses it (RESOURCE_EXHAUSTED), and announce it. */
  async create(job: GenerationJobWrite): Promise<JobRecord> {
    const admitted = await insertJobWithinLimits(this.db, job, {
      perUser: MAX_OPEN_JOBS_PER_USER,
      perKey: MAX_OPEN_JOBS_PER_KEY,
      total: MAX_OPEN_JOBS,
    });
    if ('refused' in admitted) {
      const messages = {
        user: `this user already has ${admitted.open} unfinished generation jobs (at most ${MAX_OPEN_JOBS_PER_USER}); wait or cancel one`,
        key: `this API key already has ${admitted.open} unfinished generation jobs (at most ${MAX_OPEN_JOBS_PER_KEY}); wait or cancel one`,
        total: `${admitted.open} generation jobs are waiting or running; try again later`,
      };
      throw new ResourceExhaustedError(messages[admitted.refused], {
        extensions: { limit: admitted.refused },
      });
    }
    // The row is written: a failed announce must not stop the caller from enqueueing it.
    await this.publish(progressEvent(admitted.job));
    return admitted.job;
  }

  /** Running with this model version, from step 0 (also a job taken over from a dead worker). */
  start(jobId: string, modelVersionId: number): Promise<JobRecord | undefined> {
    return this.apply('start', jobId, {
      step: 0,
      startedAt: new Date(),
      modelVersionId,
      errorCode: null,
      errorMessage: null,
    });
  }

  /** Back to queued (a shutdown interrupted it; it runs again later from step 0). */
  requeue(jobId: string): Promise<JobRecord | undefined> {
    return this.apply('requeue', jobId, { step: 0 });
  }

  /** Succeeded with its items, stored in the same transaction. */
  async complete(
    job: JobRecord,
    items: GeneratedItemWrite[],
    live: Omit<StepReport, 'step'>,
  ): Promise<JobRecord | undefined> {
    const done = await completeJobWithItems(
      this.db,
      job.id,
      JOB_TRANSITIONS.complete,
      { step: job.steps, finishedAt: new Date() },
      items,
    );
    if (done !== undefined) await this.announce(done, { ...live, step: done.step });
    return done;
  }

  fail(jobId: string, code: JobErrorCode, message: string): Promise<JobRecord | undefined> {
    return this.apply('fail', jobId, { errorCode: code, errorMessage: message, finishedAt: new Date() });
  }

  /** Cancelled; whichever process runs it hears it on the bus and stops. */
  async cancel(jobId: string): Promise<JobRecord | undefined> {
    const cancelled = await this.apply('cancel', jobId, { finishedAt: new Date() });
    if (cancelled !== undefined) {
      // Unheard, the run goes on and its completion loses the compare-and-set: still cancelled.
      await this.bus
        .publishCancel(jobId)
        .catch((error: unknown) => this.fault('cancel publish', jobId, error));
    }
    return cancelled;
  }

  /**
   * A denoising step of a running job: published at once, written to the database now and then. Neither
   * failing stops the run (an outage of a few seconds costs subscribers events, not the job its work);
   * the end of the run needs the database, and job-reconciler.ts repairs a run whose end was not stored.
   */
  async step(job: JobRecord, report: StepReport): Promise<void> {
    await this.publish(progressEvent(job, report));
    const now = Date.now();
    if (now - (this.lastStepWrite.get(job.id) ?? 0) >= STEP_WRITE_INTERVAL_MS) {
      this.lastStepWrite.set(job.id, now);
      await updateJobStep(this.db, job.id, report.step).catch((error: unknown) =>
        this.fault('step write', job.id, error),
      );
    }
  }

  private async apply(
    transition: JobTransition,
    jobId: string,
    changes: JobChanges,
  ): Promise<JobRecord | undefined> {
    const { from, to } = JOB_TRANSITIONS[transition];
    const row = await transitionJob(this.db, jobId, from, to, changes);
    if (row !== undefined) await this.announce(row);
    return row;
  }

  private async announce(job: JobRecord, live?: StepReport): Promise<void> {
    if (job.status !== 'running') this.lastStepWrite.delete(job.id);
    await this.publish(progressEvent(job, live));
  }

  /** Publish on the bus; a failure is logged (now and then) and swallowed: the row is the truth. */
  private async publish(event: ProgressEvent): Promise<void> {
    try {
      await this.bus.publishProgress(event);
    } catch (error) {
      this.fault('progress publish', event.job.id, error);
    }
  }

  private fault(what: string, jobId: string, error: unknown): void {
    const now = Date.now();
    if (now - (this.lastFaultLog.get(what) ?? 0) < FAULT_LOG_INTERVAL_MS) return;
    this.lastFaultLog.set(what, now);
    this.logger?.warn(`generation job ${what} failed; going on (logged once per 10 s)`, {
      jobId,
      error: (error as Error).message,
    });
  }
}
