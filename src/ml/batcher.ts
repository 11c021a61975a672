import { abortError, type Denoiser } from './denoiser.js';
import type { PriorInputs, PriorSession } from './session.js';

/** How the batcher trades latency for batch size. */
export interface BatcherOptions {
  /** Most rows in one ONNX run; a single larger request runs alone (default 256). */
  maxBatchRows?: number;
  /** Longest a queued request waits for company before its run starts (default 5 ms). */
  maxQueueDelayMs?: number;
  /** Told of every ONNX run that succeeded: its rows and seconds (metrics). */
  onRun?: (rows: number, seconds: number) => void;
}

export interface BatcherStats {
  runs: number;
  rows: number;
  requests: number;
}

interface Pending {
  inputs: PriorInputs;
  rows: number;
  resolve: (noise: Float32Array) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  settled: boolean;
}

/**
 * Dynamic batching of denoising steps: requests from concurrent samplers (any users, guidance scales,
 * timesteps, methods) share one ONNX run per tick. Each request is one independent step, so samplers
 * join and leave between runs and none waits for another to finish.
 *
 * A run starts when the queue holds `maxBatchRows` rows, when every registered sampler is waiting (no one
 * else is coming), or `maxQueueDelayMs` after the oldest queued request. One run is in flight at a time:
 * on CPU, concurrent runs only compete for the same cores.
 */
export class DenoiseBatcher implements Denoiser {
  readonly stats: BatcherStats = { runs: 0, rows: 0, requests: 0 };
  private readonly maxBatchRows: number;
  private readonly maxQueueDelayMs: number;
  private readonly onRun: ((rows: number, seconds: number) => void) | undefined;
  private queue: Pending[] = [];
  private registered = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private checkQueued = false;

  constructor(
    private readonly session: PriorSession,
    options: BatcherOptions = {},
  ) {
    this.maxBatchRows = options.maxBatchRows ?? 256;
    this.maxQueueDelayMs = options.maxQueueDelayMs ?? 5;
    this.onRun = options.onRun;
    if (!(this.maxBatchRows >= 1))
      throw new RangeError(`maxBatchRows must be >= 1, got ${this.maxBatchRows}`);
    if (!(this.maxQueueDelayMs >= 0)) throw new RangeError(`maxQueueDelayMs must be >= 0`);
  }

  validate(inputs: PriorInputs): number {
    return this.session.validate(inputs);
  }

  /** A sampler calls this before its first step and the returned function after its last. */
  register(): () => void {
    this.registered += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.registered -= 1;
      this.maybeRun();
    };
  }

  denoise(inputs: PriorInputs, signal?: AbortSignal): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new Error('the denoise batcher is closed'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let rows: number;
    try {
      rows = this.session.validate(inputs);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Float32Array>((resolve, reject) => {
      const pending: Pending = {
        inputs,
        rows,
        resolve,
        reject,
        signal,
        onAbort: undefined,
        settled: false,
      };
      if (signal) {
        // Settle at once and drop out of the queue: the slot goes to the next request.
        pending.onAbort = () => {
          this.queue = this.queue.filter((other) => other !== pending);
          this.settle(pending, undefined, abortError(signal));
          this.maybeRun();
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.queue.push(pending);
      this.scheduleCheck();
    });
  }

  /** Rejects everything queued; later requests fail. The session stays open (the model owns it). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const pending of this.queue)
      this.settle(pending, undefined, new Error('the denoise batcher closed'));
    this.queue = [];
  }

  /** Decides after the current microtasks so that samplers started in the same tick share the first run. */
  private scheduleCheck(): void {
    if (this.checkQueued) return;
    this.checkQueued = true;
    queueMicrotask(() => {
      this.checkQueued = false;
      this.maybeRun();
    });
  }

  private maybeRun(): void {
    if (this.running || this.queue.length === 0) return;
    const queuedRows = this.queue.reduce((sum, pending) => sum + pending.rows, 0);
    // Requests from unregistered callers count too: at worst a run starts a little early.
    const everyoneWaiting = this.registered > 0 && this.queue.length >= this.registered;
    if (queuedRows >= this.maxBatchRows || everyoneWaiting || this.maxQueueDelayMs === 0) {
      void this.runBatch();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.runBatch();
      }, this.maxQueueDelayMs);
    }
  }

  private async runBatch(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch: Pending[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as Pending;
      if (batch.length > 0 && rows + next.rows > this.maxBatchRows) break;
      batch.push(next);
      rows += next.rows;
      this.queue.shift();
    }
    this.running = true;
    try {
      const started = performance.now();
      const output = await this.session.run(concatenate(batch, rows, this.session.embeddingDim));
      this.onRun?.(rows, (performance.now() - started) / 1000);
      this.stats.runs += 1;
      this.stats.rows += rows;
      this.stats.requests += batch.length;
      const D = this.session.embeddingDim;
      let offset = 0;
      for (const pending of batch) {
        this.settle(pending, output.subarray(offset * D, (offset + pending.rows) * D), undefined);
        offset += pending.rows;
      }
    } catch (error) {
      for (const pending of batch) this.settle(pending, undefined, error);
    } finally {
      this.running = false;
      this.maybeRun();
    }
  }

  private settle(pending: Pending, value: Float32Array | undefined, error: unknown): void {
    if (pending.settled) return;
    pending.settled = true;
    if (pending.onAbort) pending.signal?.removeEventListener('abort', pending.onAbort);
    if (value) pending.resolve(value);
    else pending.reject(error);
  }
}

function concatenate(batch: Pending[], rows: number, D: number): PriorInputs {
  if (batch.length === 1) return (batch[0] as Pending).inputs;
  // One session, one conditioning: every request carries the same inputs.
  const first = (batch[0] as Pending).inputs;
  const k = first.userVector === undefined ? 0 : first.userVector.length / first.timestep.length;
  const out: PriorInputs = {
    noisyEmbedding: new Float32Array(rows * D),
    timestep: new BigInt64Array(rows),
    rating: new BigInt64Array(rows),
    ...(first.userRow ? { userRow: new BigInt64Array(rows) } : {}),
    ...(first.userVector
      ? { userVector: new Float32Array(rows * k), userPresent: new Float32Array(rows) }
      : {}),
  };
  let offset = 0;
  for (const { inputs, rows: count } of batch) {
    out.noisyEmbedding.set(inputs.noisyEmbedding, offset * D);
    out.timestep.set(inputs.timestep, offset);
    out.rating.set(inputs.rating, offset);
    if (inputs.userRow) out.userRow?.set(inputs.userRow, offset);
    if (inputs.userVector) out.userVector?.set(inputs.userVector, offset * k);
    if (inputs.userPresent) out.userPresent?.set(inputs.userPresent, offset);
    offset += count;
  }
  return out;
}
