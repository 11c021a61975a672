import { Queue, Worker, type Job } from 'bullmq';
import { type Logger } from '../../lib/logger.js';

/** Where generation jobs wait to run: in this process, or on Redis for `worker` processes. */
export interface JobQueue {
  enqueue(jobId: string): Promise<void>;
  close(): Promise<void>;
}

/** Runs one job to its end (success, failure or cancellation); throwing means the worker died. */
export type RunJob = (jobId: string) => Promise<void>;

/** One process does everything: jobs run here, at most `concurrency` at once, in arrival order. */
export class LocalJobQueue implements JobQueue {
  private readonly waiting: string[] = [];
  private running = 0;
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

  private pump(): void {
    while (!this.closed && this.running < this.concurrency && this.waiting.length > 0) {
      const jobId = this.waiting.shift() as string;
      this.running += 1;
      const task = this.run(jobId)
        .catch((error: unknown) => this.logger.error('generation job crashed', { jobId, error }))
        .finally(() => {
          this.running -= 1;
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

/** The gateway's side of BullMQ: jobs go to Redis, `worker` processes run them. */
export class RedisJobQueue implements JobQueue {
  private readonly queue: Queue;
  constructor(url: string, prefix = 'rebeca') {
    this.queue = new Queue(QUEUE_NAME, { connection: connectionOf(url), prefix });
  }

  async enqueue(jobId: string): Promise<void> {
    // The BullMQ job id is ours, so enqueueing the same job twice runs it once.
    await this.queue.add('generate', { jobId }, { jobId, removeOnComplete: 1000, removeOnFail: 1000 });
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
