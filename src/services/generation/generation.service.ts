import { randomInt } from 'node:crypto';
import { type Database } from '../../db/client.js';
import { findJob, findOpenJobForUser, listOpenJobs } from '../../db/queries/jobs.js';
import {
  BadUserInputError,
  ModelNotReadyError,
  NotFoundError,
  QueueUnavailableError,
  ResourceExhaustedError,
  UserNotInModelError,
} from '../../errors.js';
import {
  MAX_CANDIDATES,
  MAX_COUNT,
  MAX_GUIDANCE,
  MAX_VERIFIER_GUIDANCE,
  MAX_WATCHERS_PER_JOB,
} from '../../limits.js';
import { type JobRecord, type UserRecord } from '../../records.js';
import { type SamplerKind, TERMINAL_STATUSES } from '../../vocabulary.js';
import { type ActiveModel, type ModelRuntime } from '../model-runtime.js';
import { resolveUserTaste, type UserTaste } from '../user-taste.js';
import { type UserService } from '../users.service.js';
import { type GenerationBlock, generationEligibility } from './eligibility.js';
import { type EventBus, type ProgressEvent } from './events.js';
import { type JobLifecycle } from './job-lifecycle.js';
import { type JobQueue } from './job-queue.js';
import { isTerminal, progressEvent, ProgressFilter } from './progress.js';
import { samplingDefaults } from './sampling-defaults.js';
import { quote } from '../../lib/text.js';

/** What `User.generation` says. */
export interface Availability {
  available: boolean;
  reason: GenerationBlock | 'NO_MODEL' | null;
  message: string | null;
  trainAgainHelps: boolean;
  ratingsNeeded: number | null;
  likesNeeded: number | null;
}

/** What a client may set on a generation; anything left out takes the model's measured default. */
export interface GenerateRequest {
  user: string;
  count: number;
  guidanceScale?: number | null | undefined;
  verifierScale?: number | null | undefined;
  candidates?: number | null | undefined;
  steps?: number | null | undefined;
  sampler: SamplerKind;
  seed?: number | null | undefined;
  /** The API key starting it, its owner (null with authentication off); counted against its quota. */
  apiKeyId?: string | null | undefined;
}

export class GenerationService {
  /** Subscribers of each job's progress in this process. */
  private readonly watchers = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly users: UserService,
    private readonly runtime: ModelRuntime,
    private readonly lifecycle: JobLifecycle,
    private readonly queue: JobQueue,
    private readonly bus: EventBus,
  ) {}

  /** Validate, persist as queued, enqueue; the job runs in the background. */
  async generate(request: GenerateRequest): Promise<JobRecord> {
    const user = await this.users.requireUser(request.user);
    const active = await this.runtime.active();
    if (active === null) throw new ModelNotReadyError(this.runtime.notReadyReason ?? 'no model is loaded');
    const taste = await resolveUserTaste(this.db, active, user);
    return this.startFor(user, active, taste, request);
  }

  /**
   * Start a job for a user the caller has already resolved, on the model version it already holds (so
   * one `recommend` sees one version). Refuses users the model cannot generate for (USER_NOT_IN_MODEL).
   */
  async startFor(
    user: UserRecord,
    active: ActiveModel,
    taste: UserTaste,
    request: Omit<GenerateRequest, 'user'>,
  ): Promise<JobRecord> {
    const eligibility = generationEligibility(active, user.externalId, taste);
    if (!eligibility.available) {
      const { reason, trainAgainHelps, ratingsNeeded, likesNeeded } = eligibility;
      throw new UserNotInModelError(eligibility.message, {
        extensions: { reason, trainAgainHelps, ratingsNeeded, likesNeeded },
      });
    }
    const defaults = samplingDefaults(active.model);
    const { count, sampler } = request;
    if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
      throw new BadUserInputError(`count must be an integer from 1 to ${MAX_COUNT}`);
    }
    const guidanceScale = request.guidanceScale ?? defaults.guidanceScale;
    if (!Number.isFinite(guidanceScale) || guidanceScale < 0 || guidanceScale > MAX_GUIDANCE) {
      throw new BadUserInputError(`guidanceScale must be from 0 to ${MAX_GUIDANCE}`);
    }
    const verifierScale = request.verifierScale ?? defaults.verifierScale;
    if (!Number.isFinite(verifierScale) || verifierScale < 0 || verifierScale > MAX_VERIFIER_GUIDANCE) {
      throw new BadUserInputError(`verifierScale must be from 0 to ${MAX_VERIFIER_GUIDANCE}`);
    }
    const candidates = request.candidates ?? defaults.candidates;
    if (!Number.isInteger(candidates) || candidates < 1 || candidates > MAX_CANDIDATES) {
      throw new BadUserInputError(`candidates must be an integer from 1 to ${MAX_CANDIDATES}`);
    }
    const timesteps = active.model.schedule.timesteps;
    // DDPM is the paper's ancestral sampler over every training step; `steps` applies to DDIM.
    const steps = sampler === 'ddpm' ? timesteps : (request.steps ?? Math.min(defaults.steps, timesteps));
    if (!Number.isInteger(steps) || steps < 1 || steps > timesteps) {
      throw new BadUserInputError(`steps must be an integer from 1 to ${timesteps} (the model's timesteps)`);
    }
    const seed = request.seed ?? randomInt(0, 2 ** 31 - 1);
    if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31 - 1)
      throw new BadUserInputError('seed must be an integer from 0 to 2147483647');
    const job = await this.lifecycle.create({
      userId: user.id,
      modelVersionId: active.version.id,
      count,
      sampler,
      steps,
      guidanceScale,
      verifierScale,
      candidates,
      seed,
      apiKeyId: request.apiKeyId ?? null,
    });
    // `create` has stored the row and announced it best-effort: nothing between the insert and here
    // can fail but the enqueue itself.
    try {
      await this.queue.enqueue(job.id);
    } catch (error) {
      // A job nobody will run must not stay queued (it would block the user's pool forever). Should the
      // database be away too, the row stays queued and job-reconciler.ts enqueues it later.
      await this.lifecycle.fail(job.id, 'QUEUE_UNAVAILABLE', (error as Error).message).catch(() => undefined);
      throw new QueueUnavailableError('the generation queue is unavailable; try again shortly', {
        cause: error,
      });
    }
    return job;
  }

  /** Whether the active model can generate for the user (the `User.generation` field). */
  async availability(user: UserRecord): Promise<Availability> {
    const active = await this.runtime.active();
    if (active === null) {
      return {
        available: false,
        reason: 'NO_MODEL',
        message: this.runtime.notReadyReason ?? 'no model is loaded',
        trainAgainHelps: false,
        ratingsNeeded: null,
        likesNeeded: null,
      };
    }
    const eligibility = generationEligibility(
      active,
      user.externalId,
      await resolveUserTaste(this.db, active, user),
    );
    if (eligibility.available) {
      return {
        available: true,
        reason: null,
        message: null,
        trainAgainHelps: false,
        ratingsNeeded: null,
        likesNeeded: null,
      };
    }
    const { reason, message, trainAgainHelps, ratingsNeeded, likesNeeded } = eligibility;
    return { available: false, reason, message, trainAgainHelps, ratingsNeeded, likesNeeded };
  }

  /** The user's unfinished job, or a new one with the model's defaults (the pool's refill). */
  async ensureGeneration(
    user: UserRecord,
    active: ActiveModel,
    taste: UserTaste,
    apiKeyId: string | null = null,
  ): Promise<JobRecord> {
    // A key's own open job: the pending job it is handed must be one it may watch.
    const open = await findOpenJobForUser(this.db, user.id, apiKeyId);
    if (open !== undefined) return open;
    return this.startFor(user, active, taste, { count: 4, sampler: 'ddim', apiKeyId });
  }

  async findJob(id: string): Promise<JobRecord | undefined> {
    return UUID.test(id) ? findJob(this.db, id) : undefined;
  }

  async requireJob(id: string): Promise<JobRecord> {
    const job = await this.findJob(id);
    if (job === undefined) throw new NotFoundError(`generation job ${quote(id)} does not exist`);
    return job;
  }

  /** Cancel a queued or running job; a finished job is returned as it is. */
  async cancel(id: string): Promise<JobRecord> {
    const job = await this.requireJob(id);
    if (TERMINAL_STATUSES.has(job.status)) return job;
    return (await this.lifecycle.cancel(id)) ?? this.requireJob(id);
  }

  /**
   * A job's life as events: the steps already published (kept for late subscribers) or, when none are
   * kept, its stored state; then every `every`-th step as it happens; then the end.
   */
  async *watch(id: string, every: number, signal: AbortSignal): AsyncGenerator<ProgressEvent> {
    if (!Number.isInteger(every) || every < 1)
      throw new BadUserInputError('every must be a positive integer');
    const watching = this.watchers.get(id) ?? 0;
    if (watching >= MAX_WATCHERS_PER_JOB) {
      throw new ResourceExhaustedError(
        `this job already has ${MAX_WATCHERS_PER_JOB} subscribers on this gateway; try another gateway or later`,
      );
    }
    this.watchers.set(id, watching + 1);
    // Subscribe before reading what is kept: an event published in between is then not lost, and the
    // filter drops it if the replay had it already.
    const listening = new AbortController();
    const stop = () => listening.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const live = await this.bus.subscribeProgress(id, listening.signal);
      let kept = await this.bus.replayProgress(id);
      const job = await this.requireJob(id);
      // Every step is published before the job's final write: read again to have them all.
      if (TERMINAL_STATUSES.has(job.status)) kept = await this.bus.replayProgress(id);
      const filter = new ProgressFilter(every);
      if (kept.length === 0) {
        const state = progressEvent(job);
        yield state;
        if (isTerminal(state)) return;
      }
      for (const sequenced of kept) {
        if (!filter.admit(sequenced)) continue;
        yield sequenced.event;
        if (isTerminal(sequenced.event)) return;
      }
      // Ended, but its end is not kept (yet, or the bus lost it): the stored state says how.
      if (TERMINAL_STATUSES.has(job.status)) {
        yield progressEvent(job);
        return;
      }
      for await (const sequenced of live) {
        if (!filter.admit(sequenced)) continue;
        yield sequenced.event;
        if (isTerminal(sequenced.event)) return;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      listening.abort();
      const left = (this.watchers.get(id) ?? 1) - 1;
      if (left > 0) this.watchers.set(id, left);
      else this.watchers.delete(id);
    }
  }

  /** Jobs left unfinished by a previous run of this single process are queued again. */
  async resumeOpenJobs(): Promise<number> {
    const open = await listOpenJobs(this.db);
    for (const job of open) {
      if (job.status === 'running') await this.lifecycle.requeue(job.id);
      await this.queue.enqueue(job.id);
    }
    return open.length;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
