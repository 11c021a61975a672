import { Queue, Worker, type Job } from 'bullmq';
import { type Logger } from '../../lib/logger.js';

/**
 * What a queue knows of a job: `waiting` to be handed out, `active` (held by a live runner: this process,
 * or a worker whose BullMQ lock is fresh), or `none` (never seen, lost with Redis, or finished or failed
 * in the queue; the database may still say otherwise, which is what the reconciler repairs).
 */
export type QueuedState = 'waiting' | 'active' | 'none';

/** Where generation jobs wait to run: in this process, or on Redis for `worker` processes. */
export interface JobQueue {
  enqueue(jobId: string): Promise<void>;
  /** Where the job stands in the queue (job-reconciler.ts compares it with the database). */
  state(jobId: string): Promise<QueuedState>;
  /** Enqueue a job the queue holds no more, dropping a finished or failed entry of the same id first. */
  enqueueAgain(jobId: string): Promise<void>;
  close(): Promise<void>;
}

/** Runs one job to its end (success, failure or cancellation); throwing means the worker died. */
export type RunJob = (jobId: string) => Promise<void>;

/** One process does everything: jobs run here, at most `concurrency` at once, in arrival order. */
export class LocalJobQueue implements JobQueue {
  private readonly waiting: string[] = [];
  /** Jobs whose run has started and not returned. */
  private readonly running = new Set<string>();
  private closed = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly run: RunJob,
    private readonly logger: Logger,
    private readonly concurrency = 16,
  ) {}

  async enqueue(jobId: string): Promise<void> {
    if (this.closed) throw new Error('the job queue is closed');
    this.waiting.push(jobId);
    this.pump();
  }

  async state(jobId: string): Promise<QueuedState> {
    if (this.running.has(jobId)) return 'active';
    return this.waiting.includes(jobId) ? 'waiting' : 'none';
  }

  async enqueueAgain(jobId: string): Promise<void> {
    if ((await this.state(jobId)) === 'none') await this.enqueue(jobId);
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.concurrency && this.waiting.length > 0) {
      const jobId = this.waiting.shift() as string;
      // The same id twice in the waiting list (a resume racing a reconcile) runs once at a time.
      if (this.running.has(jobId)) continue;
      this.running.add(jobId);
      const task = this.run(jobId)
        .catch((error: unknown) => this.logger.error('generation job crashed', { jobId, error }))
        .finally(() => {
          this.running.delete(jobId);
          this.inFlight.delete(task);
          this.pump();
        });
      this.inFlight.add(task);
    }
  }

  /** Stop taking jobs and wait for the running ones (they see their abort signals from the runner). */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    await Promise.allSettled([...this.inFlight]);
  }
}

export const QUEUE_NAME = 'rebeca-generation';

function connectionOf(url: string) {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** Timing of stalled-job recovery: a worker that dies mid-job loses its lock after `lockMs`. */
export interface RedisQueueTiming {
  lockMs: number;
  stalledCheckMs: number;
  /** How many times a job may be recovered from a dead worker before it fails with WORKER_LOST. */
  maxStalledCount: number;
}

export const DEFAULT_TIMING: RedisQueueTiming = { lockMs: 10_000, stalledCheckMs: 5_000, maxStalledCount: 2 };

/** Rejects with `<what>: no answer in <ms> ms` unless the promise settles first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * The gateway's side of BullMQ: jobs go to Redis, `worker` processes run them. Every call gives up after
 * `timeoutMs` (BullMQ's connection holds commands while Redis is away instead of failing them).
 */
export class RedisJobQueue implements JobQueue {
  private readonly queue: Queue;
  private lastErrorLog = 0;

  constructor(
    url: string,
    prefix = 'rebeca',
    private readonly options: { logger?: Logger; timeoutMs?: number } = {},
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection: connectionOf(url), prefix });
    // Connection errors repeat while Redis is away: one line every 10 s is enough.
    this.queue.on('error', (error: Error) => {
      if (Date.now() - this.lastErrorLog < 10_000) return;
      this.lastErrorLog = Date.now();
      this.options.logger?.warn('job queue connection error', { error: error.message });
    });
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 5_000;
  }

  async enqueue(jobId: string): Promise<void> {
    // The BullMQ job id is ours, so enqueueing the same job twice runs it once.
    await withTimeout(
      this.queue.add('generate', { jobId }, { jobId, removeOnComplete: 1000, removeOnFail: 1000 }),
      this.timeoutMs,
      'enqueue',
    );
  }

  async state(jobId: string): Promise<QueuedState> {
    const state = await withTimeout(this.queue.getJobState(jobId), this.timeoutMs, 'job state');
    switch (state) {
      case 'active':
        return 'active';
      case 'waiting':
      case 'delayed':
      case 'prioritized':
      case 'waiting-children':
        return 'waiting';
      default:
        return 'none';
    }
  }

  async enqueueAgain(jobId: string): Promise<void> {
    const state = await withTimeout(this.queue.getJobState(jobId), this.timeoutMs, 'job state');
    if (state === 'completed' || state === 'failed') {
      // `add` with the id of a kept finished job is a no-op: that entry has to go first.
      await withTimeout(this.queue.remove(jobId), this.timeoutMs, 'remove');
    } else if (state !== 'unknown') {
      return;
    }
    await this.enqueue(jobId);
  }

  /** PING on the queue's connection (readiness); throws when Redis does not answer in `timeoutMs`. */
  async ping(timeoutMs: number): Promise<void> {
    const client = await withTimeout(this.queue.getBackend().client, timeoutMs, 'ping');
    if (client.status !== 'ready') throw new Error(`connection ${client.status}`);
    await withTimeout(client.runCommand('ping', []) as Promise<unknown>, timeoutMs, 'ping');
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** A `worker` process: runs jobs from Redis, `concurrency` at once (their steps share one batched run). */
export function startRedisWorker(options: {
  url: string;
  run: RunJob;
  /** A job BullMQ gave up on: `stalled` when its workers died (lock lost) too many times. */
  onFailed: (jobId: string, reason: string, stalled: boolean) => Promise<void>;
  logger: Logger;
  concurrency: number;
  timing?: RedisQueueTiming;
  prefix?: string;
}): { close(): Promise<void> } {
  const timing = options.timing ?? DEFAULT_TIMING;
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job<{ jobId: string }>) => {
      await options.run(job.data.jobId);
    },
    {
      connection: connectionOf(options.url),
      prefix: options.prefix ?? 'rebeca',
      concurrency: options.concurrency,
      lockDuration: timing.lockMs,
      stalledInterval: timing.stalledCheckMs,
      maxStalledCount: timing.maxStalledCount,
    },
  );
  worker.on('failed', (job, error) => {
    if (job === undefined) return;
    options.logger.warn('generation job failed in the queue', {
      jobId: job.data.jobId,
      error: error.message,
    });
    const stalled = /stalled/i.test(error.message);
    void options.onFailed(job.data.jobId, error.message, stalled).catch(() => undefined);
  });
  worker.on('error', (error) => options.logger.error('worker connection error', { error }));
  return { close: () => worker.close() };
}
