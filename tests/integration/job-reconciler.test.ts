import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { findJob, insertJobWithinLimits, transitionJob, updateJobStep } from '../../src/db/queries/jobs.js';
import { insertUser } from '../../src/db/queries/users.js';
import { createLogger } from '../../src/lib/logger.js';
import { type JobRecord } from '../../src/records.js';
import { MemoryEventBus } from '../../src/services/generation/events.js';
import { JobLifecycle } from '../../src/services/generation/job-lifecycle.js';
import { type JobQueue, LocalJobQueue, type QueuedState } from '../../src/services/generation/job-queue.js';
import {
  JobReconciler,
  type JobReconcilerOptions,
  RECONCILER_LOCK,
} from '../../src/services/generation/job-reconciler.js';
import { testDatabases } from '../helpers/databases.js';

/** A queue the test controls: what it holds, and what was enqueued. */
class FakeQueue implements JobQueue {
  readonly states = new Map<string, QueuedState>();
  readonly enqueued: string[] = [];
  async enqueue(jobId: string) {
    this.enqueued.push(jobId);
    this.states.set(jobId, 'waiting');
  }
  async state(jobId: string) {
    return this.states.get(jobId) ?? 'none';
  }
  async enqueueAgain(jobId: string) {
    if ((await this.state(jobId)) === 'none') await this.enqueue(jobId);
  }
  async close() {}
}

const logger = createLogger('silent');

describe.each(testDatabases)('job reconciler on $name', (engine) => {
  let database: DatabaseHandle;
  let lifecycle: JobLifecycle;
  let userId: number;
  let clock = 0;
  const options: Partial<JobReconcilerOptions> = {
    queuedGraceMs: 1_000,
    runningStaleMs: 5_000,
    maxRecoveries: 2,
    now: () => clock,
  };

  beforeAll(async () => {
    database = await engine.open();
    lifecycle = new JobLifecycle(database.db, new MemoryEventBus(), logger);
    userId = (await insertUser(database.db, 'reconciled'))?.id as number;
  });
  afterAll(async () => {
    await database?.close();
  });

  async function queuedJob(): Promise<JobRecord> {
    const admitted = await insertJobWithinLimits(
      database.db,
      {
        userId,
        modelVersionId: null,
        count: 1,
        sampler: 'ddim',
        steps: 10,
        guidanceScale: 3,
        verifierScale: 0,
        candidates: 1,
        seed: 1,
      },
      { perUser: 1000, total: 1000 },
    );
    if (!('job' in admitted)) throw new Error('refused');
    return admitted.job;
  }

  /** What a runner does when it takes the job: running from step 0, with a start of its own. */
  let starts = 0;
  async function startRun(jobId: string): Promise<void> {
    starts += 1;
    await transitionJob(database.db, jobId, ['queued', 'running'], 'running', {
      step: 0,
      startedAt: new Date(Date.UTC(2030, 0, 1, 0, 0, starts)),
    });
  }

  async function finishOpen(): Promise<void> {
    await database.db.execute(
      sql`update generation_jobs set status = 'cancelled' where status in ('queued', 'running')`,
    );
  }

  it('enqueues a queued job the queue lost after the grace; leaves held and fresh ones alone', async () => {
    await finishOpen();
    clock = 0;
    const queue = new FakeQueue();
    const reconciler = new JobReconciler(database.db, lifecycle, queue, logger, options);
    const lost = await queuedJob();
    const held = await queuedJob();
    queue.states.set(held.id, 'waiting');
    expect((await reconciler.reconcile()).repairs).toEqual([]);
    clock = 999;
    const fresh = await queuedJob();
    expect((await reconciler.reconcile()).repairs).toEqual([]);
    clock = 1_000;
    expect((await reconciler.reconcile()).repairs).toEqual([{ jobId: lost.id, action: 'enqueued' }]);
    expect(queue.enqueued).toEqual([lost.id]);
    // Now the queue holds it: nothing more to do, also long after.
    clock = 10_000;
    expect((await reconciler.reconcile()).repairs).toEqual([{ jobId: fresh.id, action: 'enqueued' }]);
    clock = 20_000;
    expect((await reconciler.reconcile()).repairs).toEqual([]);
    expect((await findJob(database.db, held.id))?.status).toBe('queued');
    expect(reconciler.counts).toMatchObject({ stuck: 2, enqueued: 2, requeued: 0, failed: 0 });
  });

  it('requeues a running job no runner holds once it stops moving, then fails it after the bound', async () => {
    await finishOpen();
    clock = 0;
    const queue = new FakeQueue();
    const reconciler = new JobReconciler(database.db, lifecycle, queue, logger, options);
    const job = await queuedJob();
    await startRun(job.id);
    for (let recovery = 1; recovery <= 2; recovery += 1) {
      await reconciler.reconcile();
      clock += 4_999;
      expect((await reconciler.reconcile()).repairs).toEqual([]);
      clock += 1;
      expect((await reconciler.reconcile()).repairs).toEqual([{ jobId: job.id, action: 'requeued' }]);
      expect(await findJob(database.db, job.id)).toMatchObject({ status: 'queued', step: 0 });
      expect(queue.enqueued.filter((id) => id === job.id)).toHaveLength(recovery);
      // A worker takes it and dies again.
      queue.states.delete(job.id);
      await startRun(job.id);
      clock += 1;
    }
    await reconciler.reconcile();
    clock += 5_000;
    expect((await reconciler.reconcile()).repairs).toEqual([{ jobId: job.id, action: 'failed' }]);
    expect(await findJob(database.db, job.id)).toMatchObject({ status: 'failed', errorCode: 'WORKER_LOST' });
    expect(reconciler.counts).toMatchObject({ stuck: 3, requeued: 2, failed: 1 });
  });

  it('leaves a running job alone while its step moves, or while a live runner holds it', async () => {
    await finishOpen();
    clock = 0;
    const queue = new FakeQueue();
    const reconciler = new JobReconciler(database.db, lifecycle, queue, logger, options);
    const moving = await queuedJob();
    const held = await queuedJob();
    await startRun(moving.id);
    await startRun(held.id);
    queue.states.set(held.id, 'active');
    await reconciler.reconcile();
    for (let step = 1; step <= 3; step += 1) {
      clock += 4_000;
      await updateJobStep(database.db, moving.id, step);
      expect((await reconciler.reconcile()).repairs).toEqual([]);
    }
    clock += 60_000;
    await updateJobStep(database.db, moving.id, 4);
    expect((await reconciler.reconcile()).repairs).toEqual([]);
    expect((await findJob(database.db, moving.id))?.status).toBe('running');
    expect((await findJob(database.db, held.id))?.status).toBe('running');
    expect(reconciler.counts.stuck).toBe(0);
  });

  it('runs again a job whose run ended without its final write (the local queue holds it no more)', async () => {
    await finishOpen();
    clock = 0;
    let runs = 0;
    const queue = new LocalJobQueue(
      async (jobId) => {
        runs += 1;
        await startRun(jobId);
        // The first run's final write is lost (the database was away); the second one lands.
        if (runs === 1) throw new Error('Connection terminated unexpectedly');
        await transitionJob(database.db, jobId, ['running'], 'succeeded', { finishedAt: new Date() });
      },
      logger,
      2,
    );
    const reconciler = new JobReconciler(database.db, lifecycle, queue, logger, options);
    const job = await queuedJob();
    await queue.enqueue(job.id);
    await expect.poll(() => runs).toBe(1);
    await expect.poll(async () => queue.state(job.id)).toBe('none');
    expect((await findJob(database.db, job.id))?.status).toBe('running');
    await reconciler.reconcile();
    clock = 5_000;
    expect((await reconciler.reconcile()).repairs).toEqual([{ jobId: job.id, action: 'requeued' }]);
    await expect.poll(async () => (await findJob(database.db, job.id))?.status).toBe('succeeded');
    expect(runs).toBe(2);
    await queue.close();
  });

  it.runIf(engine.name === 'postgres')('skips a pass while another gateway holds the lock', async () => {
    const reconciler = new JobReconciler(database.db, lifecycle, new FakeQueue(), logger, {
      ...options,
      advisoryLock: true,
    });
    expect(await reconciler.reconcile()).toEqual({ skipped: false, repairs: [] });
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${RECONCILER_LOCK})`);
      expect(await reconciler.reconcile()).toEqual({ skipped: true, repairs: [] });
    });
    expect(reconciler.counts).toMatchObject({ passes: 1, skipped: 1 });
  });

  it('stores a job even when its announce fails (the bus is down)', async () => {
    const bus = new MemoryEventBus();
    bus.publishProgress = () => Promise.reject(new Error('Connection is closed.'));
    const job = await new JobLifecycle(database.db, bus, logger).create({
      userId,
      modelVersionId: null,
      count: 1,
      sampler: 'ddim',
      steps: 10,
      guidanceScale: 3,
      verifierScale: 0,
      candidates: 1,
      seed: 1,
    });
    expect((await findJob(database.db, job.id))?.status).toBe('queued');
  });
});
