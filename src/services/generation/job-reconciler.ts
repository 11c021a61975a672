import { sql } from 'drizzle-orm';
import { type Database } from '../../db/client.js';
import { listOpenJobs } from '../../db/queries/jobs.js';
import { type Logger } from '../../lib/logger.js';
import { type JobRecord } from '../../records.js';
import { type JobLifecycle } from './job-lifecycle.js';
import { type JobQueue, type QueuedState } from './job-queue.js';

/** When the reconciler looks and how long it lets a job sit before it calls it stuck. */
export interface JobReconcilerOptions {
  /** Time between passes (default 15 s). */
  intervalMs: number;
  /** A `queued` row the queue does not hold is enqueued again after this long (default 30 s). */
  queuedGraceMs: number;
  /**
   * A `running` row whose step and start have not moved for this long and that no live runner holds is
   * requeued (default 2 min; a running job writes its step at least every few hundred ms).
   */
  runningStaleMs: number;
  /** Requeues of one job by this reconciler before it fails the job with WORKER_LOST (default 2). */
  maxRecoveries: number;
  /**
   * Take a PostgreSQL advisory lock for each pass, so that of several gateways one reconciles at a time
   * (PostgreSQL only: PGlite has one connection and one process). Default false.
   */
  advisoryLock: boolean;
  /** The clock (tests move it). */
  now: () => number;
}

export const DEFAULT_RECONCILER_OPTIONS: JobReconcilerOptions = {
  intervalMs: 15_000,
  queuedGraceMs: 30_000,
  runningStaleMs: 120_000,
  maxRecoveries: 2,
  advisoryLock: false,
  now: () => Date.now(),
};

/** What one repair did to a job. */
export type RepairAction = 'enqueued' | 'requeued' | 'failed';

export interface PassResult {
  /** Another process held the lock: this pass looked at nothing. */
  skipped: boolean;
  repairs: { jobId: string; action: RepairAction }[];
}

/** Counters since start (metrics read them). */
export interface ReconcilerCounts {
  passes: number;
  /** Passes skipped because another process was reconciling. */
  skipped: number;
  /** Passes that ended in an error (database or queue unreachable). */
  errors: number;
  /** Stuck jobs found: queued and lost by the queue, or running with no live runner. */
  stuck: number;
  enqueued: number;
  requeued: number;
  failed: number;
}

// Any fixed key shared by every gateway reconciling this database (next to the admission lock's key).
export const RECONCILER_LOCK = 7_276_501_236;

/**
 * Compares PostgreSQL with the job queue now and then, and repairs what a fault left between them:
 *
 * - a `queued` row the queue does not hold (Redis lost it, was down when the job was enqueued, or failed
 *   the run while PostgreSQL was down) is enqueued again once it has been seen so for `queuedGraceMs`;
 * - a `running` row whose step has not moved for `runningStaleMs` and that no live runner holds (its
 *   final write failed, or its failure could not be stored) goes back to `queued` and is enqueued, at
 *   most `maxRecoveries` times, then fails with WORKER_LOST.
 *
 * "Not moved" is measured by this process's own observations (status, step and start time unchanged
 * between passes), so clocks of different hosts never compare. Each action is idempotent or a
 * compare-and-set (a BullMQ job id is the job's id; `requeue` only leaves `running`), so two gateways
 * reconciling at once cannot run a job twice; with `advisoryLock` they do not even try.
 */
export class JobReconciler {
  private readonly options: JobReconcilerOptions;
  /** Per open job: its signature when first seen so, and since when (this process's clock). */
  private readonly seen = new Map<string, { signature: string; since: number }>();
  private readonly recoveries = new Map<string, number>();
  private readonly tally: ReconcilerCounts = {
    passes: 0,
    skipped: 0,
    errors: 0,
    stuck: 0,
    enqueued: 0,
    requeued: 0,
    failed: 0,
  };
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> | undefined;
  private stopped = true;
  private lastErrorLog = 0;
  private lastPassStuck = 0;

  constructor(
    private readonly db: Database,
    private readonly lifecycle: JobLifecycle,
    private readonly queue: JobQueue,
    private readonly logger: Logger,
    options: Partial<JobReconcilerOptions> = {},
  ) {
    this.options = { ...DEFAULT_RECONCILER_OPTIONS, ...options };
  }

  get counts(): ReconcilerCounts {
    return { ...this.tally };
  }

  /** Stuck jobs the latest finished pass found (the `generation_jobs_stuck` gauge). */
  get stuckInLastPass(): number {
    return this.lastPassStuck;
  }

  /** Reconcile every `intervalMs` (the first pass at once) until `stop`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** No more passes; waits for the one under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight?.catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.reconcile()
        .catch((error: unknown) => {
          this.tally.errors += 1;
          // An outage fails every pass: say so once a minute, not every pass.
          if (Date.now() - this.lastErrorLog < 60_000) return;
          this.lastErrorLog = Date.now();
          this.logger.warn('job reconciler pass failed; retrying', { error: (error as Error).message });
        })
        .finally(() => this.schedule(this.options.intervalMs));
    }, delayMs);
    this.timer.unref();
  }

  /** One pass (tests call it directly). Throws when the database or the queue does not answer. */
  async reconcile(): Promise<PassResult> {
    if (!this.options.advisoryLock) return this.pass();
    return this.db.transaction(async (tx) => {
      const result = await tx.execute(sql`select pg_try_advisory_xact_lock(${RECONCILER_LOCK}) as locked`);
      const locked = (result as unknown as { rows: { locked: boolean }[] }).rows[0]?.locked === true;
      if (!locked) {
        this.tally.skipped += 1;
        return { skipped: true, repairs: [] };
      }
      // The lock lives as long as this transaction; the pass itself uses other connections.
      return this.pass();
    });
  }

  private async pass(): Promise<PassResult> {
    const now = this.options.now();
    const open = await listOpenJobs(this.db);
    this.tally.passes += 1;
    const openIds = new Set(open.map((job) => job.id));
    for (const id of this.seen.keys()) if (!openIds.has(id)) this.seen.delete(id);
    for (const id of this.recoveries.keys()) if (!openIds.has(id)) this.recoveries.delete(id);
    const repairs: PassResult['repairs'] = [];
    let stuck = 0;
    for (const job of open) {
      const signature = signatureOf(job);
      const seen = this.seen.get(job.id);
      if (seen === undefined || seen.signature !== signature) {
        this.seen.set(job.id, { signature, since: now });
        continue;
      }
      const still = now - seen.since;
      const limit = job.status === 'queued' ? this.options.queuedGraceMs : this.options.runningStaleMs;
      if (still < limit) continue;
      const held = await this.queue.state(job.id);
      if (held !== 'none') continue;
      this.tally.stuck += 1;
      stuck += 1;
      const action = await this.repair(job, still, held);
      // Whatever happened, the job is looked at afresh from now on.
      this.seen.set(job.id, { signature, since: now });
      if (action !== null) repairs.push({ jobId: job.id, action });
    }
    this.lastPassStuck = stuck;
    return { skipped: false, repairs };
  }

  private async repair(job: JobRecord, stuckForMs: number, queue: QueuedState): Promise<RepairAction | null> {
    const fields = { jobId: job.id, status: job.status, step: job.step, stuckForMs, queue };
    if (job.status === 'queued') {
      await this.queue.enqueueAgain(job.id);
      this.tally.enqueued += 1;
      this.logger.warn('stuck generation job: queued but not in the queue; enqueued again', {
        ...fields,
        action: 'enqueued',
      });
      return 'enqueued';
    }
    const recovered = this.recoveries.get(job.id) ?? 0;
    if (recovered >= this.options.maxRecoveries) {
      const failed = await this.lifecycle.fail(
        job.id,
        'WORKER_LOST',
        `no worker ran the job for ${Math.round(stuckForMs / 1000)} s after ${recovered} recoveries`,
      );
      if (failed === undefined) return null;
      this.tally.failed += 1;
      this.logger.warn('stuck generation job: running with no worker, recoveries spent; failed', {
        ...fields,
        action: 'failed',
        recoveries: recovered,
      });
      return 'failed';
    }
    // A compare-and-set: if the job moved meanwhile (its run ended after all), nothing happens.
    const requeued = await this.lifecycle.requeue(job.id);
    if (requeued === undefined) return null;
    this.recoveries.set(job.id, recovered + 1);
    this.tally.requeued += 1;
    this.logger.warn('stuck generation job: running with no worker; queued again', {
      ...fields,
      action: 'requeued',
      recovery: recovered + 1,
    });
    // Should this fail (the queue is away), the row is queued and the queued rule picks it up later.
    await this.queue.enqueueAgain(job.id);
    return 'requeued';
  }
}

/** What must change for a job to count as moving: its status, step and the start of its current run. */
function signatureOf(job: JobRecord): string {
  return `${job.status}:${job.step}:${job.startedAt?.getTime() ?? '-'}`;
}
