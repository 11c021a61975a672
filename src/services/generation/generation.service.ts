import { randomInt } from 'node:crypto';
import { type Database } from '../../db/client.js';
import {
  countOpenJobs,
  findJob,
  findOpenJobForUser,
  type GenerationJobRow,
  insertJob,
  listOpenJobs,
  transitionJob,
} from '../../db/queries/jobs.js';
import { type SamplerKind } from '../../db/schema.js';
import {
  BadUserInputError,
  ModelNotReadyError,
  NotFoundError,
  ResourceExhaustedError,
} from '../../errors.js';
import { type ModelRuntime } from '../model-runtime.js';
import { type UserService } from '../users.service.js';
import { type EventBus, type ProgressPayload } from './events.js';
import { type JobQueue } from './job-queue.js';
import { progressFromJob, TERMINAL } from './progress.js';

/** Most embeddings one job may ask for. */
export const MAX_COUNT = 64;
/** Guidance scales outside this range are refused (the paper sweeps 3.5..20). */
export const MAX_GUIDANCE = 50;
/** Unfinished (queued or running) jobs one user may have. */
export const MAX_OPEN_JOBS_PER_USER = 8;
/** Unfinished jobs overall; beyond it `generate` answers RESOURCE_EXHAUSTED. */
export const MAX_OPEN_JOBS = 1000;

export interface GenerateRequest {
  user: string;
  count: number;
  guidanceScale?: number | null | undefined;
  steps: number;
  sampler: SamplerKind;
  seed?: number | null | undefined;
}

export class GenerationService {
  constructor(
    private readonly db: Database,
    private readonly users: UserService,
    private readonly runtime: ModelRuntime,
    private readonly queue: JobQueue,
    private readonly bus: EventBus,
  ) {}

  /** Validate, persist as queued, enqueue; the job runs in the background. */
  async generate(request: GenerateRequest): Promise<GenerationJobRow> {
    const user = await this.users.requireUser(request.user);
    const active = await this.runtime.active();
    if (active === null) throw new ModelNotReadyError(this.runtime.notReadyReason ?? 'no model is loaded');
    if (active.model.priorUserRow(user.externalId) === undefined) {
      throw new ModelNotReadyError(
        `the active model was trained without user "${user.externalId}": train again to generate for them`,
      );
    }
    const { count, sampler } = request;
    if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
      throw new BadUserInputError(`count must be an integer from 1 to ${MAX_COUNT}`);
    }
    const guidanceScale = request.guidanceScale ?? active.model.defaultGuidanceScale;
    if (!Number.isFinite(guidanceScale) || guidanceScale < 0 || guidanceScale > MAX_GUIDANCE) {
      throw new BadUserInputError(`guidanceScale must be from 0 to ${MAX_GUIDANCE}`);
    }
    const timesteps = active.model.schedule.timesteps;
    // DDPM is the paper's ancestral sampler over every training step; `steps` applies to DDIM.
    const steps = sampler === 'ddpm' ? timesteps : request.steps;
    if (!Number.isInteger(steps) || steps < 1 || steps > timesteps) {
      throw new BadUserInputError(`steps must be an integer from 1 to ${timesteps} (the model's timesteps)`);
    }
    const seed = request.seed ?? randomInt(0, 2 ** 31 - 1);
    if (!Number.isInteger(seed) || seed < 0)
      throw new BadUserInputError('seed must be a non-negative integer');
    await this.checkCapacity(user.id);
    const job = await insertJob(this.db, {
      userId: user.id,
      modelVersionId: active.version.id,
      count,
      sampler,
      steps,
      guidanceScale,
      seed,
    });
    // Published before enqueueing: with Redis a worker's first steps must not overtake it.
    await this.bus.publish('progress', job.id, progressFromJob(job));
    try {
      await this.queue.enqueue(job.id);
    } catch (error) {
      // A job nobody will run must not stay queued (it would block the user's pool forever).
      const failed = await transitionJob(this.db, job.id, ['queued'], {
        status: 'failed',
        errorCode: 'QUEUE_UNAVAILABLE',
        errorMessage: (error as Error).message,
        finishedAt: new Date(),
      });
      if (failed !== undefined) await this.bus.publish('progress', job.id, progressFromJob(failed));
      throw new Error('the generation queue is unavailable', { cause: error });
    }
    return job;
  }

  /** Refuse new jobs beyond the per-user and overall limits of unfinished jobs. */
  private async checkCapacity(userId: number): Promise<void> {
    const { user, total } = await countOpenJobs(this.db, userId);
    if (user >= MAX_OPEN_JOBS_PER_USER) {
      throw new ResourceExhaustedError(
        `this user already has ${user} unfinished generation jobs (at most ${MAX_OPEN_JOBS_PER_USER}); wait or cancel one`,
      );
    }
    if (total >= MAX_OPEN_JOBS) {
      throw new ResourceExhaustedError(`${total} generation jobs are waiting or running; try again later`);
    }
  }

  /** The user's unfinished job, or a new one with default parameters. */
  async ensureGeneration(userExternalId: string, userId: number): Promise<GenerationJobRow> {
    const open = await findOpenJobForUser(this.db, userId);
    if (open !== undefined) return open;
    return this.generate({ user: userExternalId, count: 4, steps: 50, sampler: 'ddim' });
  }

  async findJob(id: string): Promise<GenerationJobRow | undefined> {
    return UUID.test(id) ? findJob(this.db, id) : undefined;
  }

  async requireJob(id: string): Promise<GenerationJobRow> {
    const job = await this.findJob(id);
    if (job === undefined) throw new NotFoundError(`generation job "${id}" does not exist`);
    return job;
  }

  /** Cancel a queued or running job; a finished job is returned as it is. */
  async cancel(id: string): Promise<GenerationJobRow> {
    const job = await this.requireJob(id);
    if (TERMINAL.has(job.status)) return job;
    const cancelled = await transitionJob(this.db, id, ['queued', 'running'], {
      status: 'cancelled',
      finishedAt: new Date(),
    });
    if (cancelled === undefined) return this.requireJob(id);
    await this.bus.publish('cancel', id, { jobId: id });
    await this.bus.publish('progress', id, progressFromJob(cancelled));
    return cancelled;
  }

  /**
   * A job's life as events: its stored state first (so a late or reconnecting client loses nothing),
   * then every `every`-th denoising step as it happens, then the end. Finishes after a final state.
   */
  async *watch(id: string, every: number, signal: AbortSignal): AsyncGenerator<ProgressPayload> {
    if (!Number.isInteger(every) || every < 1)
      throw new BadUserInputError('every must be a positive integer');
    // Subscribe before reading the state: an event published in between is then not lost.
    const listening = new AbortController();
    const stop = () => listening.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const events = await this.bus.subscribe('progress', id, listening.signal);
      const job = await this.requireJob(id);
      const first = progressFromJob(job);
      yield first;
      if (TERMINAL.has(first.status)) return;
      let lastStep = first.status === 'running' ? first.step : -1;
      for await (const event of events) {
        if (TERMINAL.has(event.status)) {
          yield event;
          return;
        }
        // Events buffered while the state was read may be older than it: drop them. A job recovered
        // from a dead worker starts over: its step 1 goes through.
        if (event.step <= lastStep && !(event.status === 'running' && event.step === 1 && lastStep > 1))
          continue;
        lastStep = event.step;
        if (event.status === 'running' && event.step % every !== 0 && event.step !== event.totalSteps)
          continue;
        yield event;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      listening.abort();
    }
  }

  /** Jobs left unfinished by a previous run of this single process are queued again. */
  async resumeOpenJobs(): Promise<number> {
    const open = await listOpenJobs(this.db);
    for (const job of open) {
      if (job.status === 'running')
        await transitionJob(this.db, job.id, ['running'], { status: 'queued', step: 0 });
      await this.queue.enqueue(job.id);
    }
    return open.length;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
