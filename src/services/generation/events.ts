import { EventEmitter, on } from 'node:events';
import { Redis } from 'ioredis';
import { MAX_REPLAYED_EVENTS } from '../../limits.js';
import { type ItemRecord, type JobRecord } from '../../records.js';

/** One moment of a generation job, as published to subscribers (GraphQL shapes it further). */
export interface ProgressEvent {
  /** The job as it stands at this event: its status, step, error and times. */
  job: JobRecord;
  /** Steps done (the stored step for a state event). */
  step: number;
  totalSteps: number;
  elapsedMs: number;
  etaMs: number | null;
  /** Mean verifier score of the current clean estimates for the job's user. */
  previewScore: number | null;
  /** The catalog item nearest to the first clean estimate. */
  previewNearest: ItemRecord | null;
}

/** A progress event with its number in the job's stream (1, 2, ...), so subscribers can drop repeats. */
export interface SequencedProgress {
  seq: number;
  event: ProgressEvent;
}

/**
 * Publish/subscribe between the parts of the gateway. In one process it is an in-memory emitter; with
 * REDIS_URL it is Redis pub/sub, so an event published by a worker reaches subscribers on every gateway.
 * Progress events are also kept per job (at most MAX_REPLAYED_EVENTS, for a while after the job ends) so
 * that a subscriber who arrives late sees every step it missed.
 */
export interface EventBus {
  /** Number, keep and send a job's progress event. */
  publishProgress(event: ProgressEvent): Promise<void>;
  /** Ask whichever process runs the job to stop it. */
  publishCancel(jobId: string): Promise<void>;
  /** Live progress events of one job until the signal aborts; subscribed when this resolves. */
  subscribeProgress(jobId: string, signal: AbortSignal): Promise<AsyncIterable<SequencedProgress>>;
  /** Cancel requests for one job until the signal aborts; subscribed when this resolves. */
  subscribeCancel(jobId: string, signal: AbortSignal): Promise<AsyncIterable<void>>;
  /** The kept progress events of a job, oldest first (empty when none are kept). */
  replayProgress(jobId: string): Promise<SequencedProgress[]>;
  close(): Promise<void>;
}

/** How long a job's kept events outlive its last event. */
export const REPLAY_TTL_MS = 15 * 60 * 1000;
/** Jobs whose events one process keeps in memory at most (the oldest are forgotten first). */
const MEMORY_REPLAY_JOBS = 1000;

const progressChannel = (jobId: string) => `rebeca:progress:${jobId}`;
const cancelChannel = (jobId: string) => `rebeca:cancel:${jobId}`;

/** JSON crossing Redis turns dates into strings: the job's times come back as dates. */
export function reviveProgress(text: string): SequencedProgress {
  return JSON.parse(text, (key, value: unknown) =>
    typeof value === 'string' && key.endsWith('At') && /^\d{4}-\d\d-\d\dT/.test(value)
      ? new Date(value)
      : value,
  ) as SequencedProgress;
}

/** Listens at once (events emitted before the first `next()` are buffered), ends quietly on abort. */
function iterate<T>(emitter: EventEmitter, name: string, signal: AbortSignal): AsyncIterable<T> {
  const events = on(emitter, name, { signal });
  return (async function* () {
    try {
      for await (const [payload] of events) yield payload as T;
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  })();
}

export class MemoryEventBus implements EventBus {
  private readonly emitter = new EventEmitter({ captureRejections: false });
  private readonly kept = new Map<string, { seq: number; events: SequencedProgress[]; expires: number }>();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  async publishProgress(event: ProgressEvent): Promise<void> {
    const jobId = event.job.id;
    let entry = this.kept.get(jobId);
    if (entry === undefined) {
      this.forgetOld();
      entry = { seq: 0, events: [], expires: 0 };
      this.kept.set(jobId, entry);
    }
    entry.seq += 1;
    entry.expires = Date.now() + REPLAY_TTL_MS;
    const sequenced = { seq: entry.seq, event };
    entry.events.push(sequenced);
    if (entry.events.length > MAX_REPLAYED_EVENTS) entry.events.shift();
    this.emitter.emit(progressChannel(jobId), sequenced);
  }

  async publishCancel(jobId: string): Promise<void> {
    this.emitter.emit(cancelChannel(jobId), undefined);
  }

  async subscribeProgress(jobId: string, signal: AbortSignal) {
    return iterate<SequencedProgress>(this.emitter, progressChannel(jobId), signal);
  }

  async subscribeCancel(jobId: string, signal: AbortSignal) {
    return iterate<void>(this.emitter, cancelChannel(jobId), signal);
  }

  async replayProgress(jobId: string): Promise<SequencedProgress[]> {
    const entry = this.kept.get(jobId);
    return entry === undefined || entry.expires < Date.now() ? [] : [...entry.events];
  }

  /** Live subscribers of one job in this process (diagnostics, tests). */
  listenerCount(jobId: string): number {
    return this.emitter.listenerCount(progressChannel(jobId));
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
    this.kept.clear();
  }

  /** Drops expired jobs, and the oldest beyond the cap, before a new job's first event. */
  private forgetOld(): void {
    const now = Date.now();
    for (const [jobId, entry] of this.kept) {
      if (entry.expires < now || this.kept.size >= MEMORY_REPLAY_JOBS) this.kept.delete(jobId);
    }
  }
}

/**
 * Numbers, keeps and publishes a progress event atomically: INCR the job's counter, append the numbered
 * event to its list (trimmed to the newest MAX_REPLAYED_EVENTS), refresh both keys' expiry, PUBLISH.
 */
const PUBLISH_PROGRESS = `
local seq = redis.call('INCR', KEYS[1])
local message = '{"seq":' .. seq .. ',"event":' .. ARGV[1] .. '}'
redis.call('RPUSH', KEYS[2], message)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', KEYS[3], message)
return seq`;

/** Redis pub/sub: one publishing connection, one subscribing connection shared by all subscribers. */
export class RedisEventBus implements EventBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly local = new EventEmitter({ captureRejections: false });
  /** Subscribers per channel, and the SUBSCRIBE every one of them waits for. */
  private readonly channels = new Map<string, { count: number; ready: Promise<unknown> }>();

  constructor(url: string, onConnectionError: (error: Error) => void = () => undefined) {
    this.publisher = new Redis(url, { maxRetriesPerRequest: 3 });
    this.subscriber = new Redis(url, { maxRetriesPerRequest: 3 });
    // ioredis reconnects by itself; without a listener every failed attempt is printed as unhandled.
    this.publisher.on('error', onConnectionError);
    this.subscriber.on('error', onConnectionError);
    this.local.setMaxListeners(0);
    this.subscriber.on('message', (name: string, message: string) => {
      if (name.startsWith('rebeca:cancel:')) {
        this.local.emit(name, undefined);
        return;
      }
      let payload: SequencedProgress;
      try {
        payload = reviveProgress(message);
      } catch {
        return;
      }
      this.local.emit(name, payload);
    });
  }

  async publishProgress(event: ProgressEvent): Promise<void> {
    const jobId = event.job.id;
    await this.publisher.eval(
      PUBLISH_PROGRESS,
      3,
      `rebeca:seq:${jobId}`,
      `rebeca:replay:${jobId}`,
      progressChannel(jobId),
      JSON.stringify(event),
      String(MAX_REPLAYED_EVENTS),
      String(REPLAY_TTL_MS),
    );
  }

  async publishCancel(jobId: string): Promise<void> {
    await this.publisher.publish(cancelChannel(jobId), '{}');
  }

  async subscribeProgress(jobId: string, signal: AbortSignal) {
    return this.subscribe<SequencedProgress>(progressChannel(jobId), signal);
  }

  async subscribeCancel(jobId: string, signal: AbortSignal) {
    return this.subscribe<void>(cancelChannel(jobId), signal);
  }

  async replayProgress(jobId: string): Promise<SequencedProgress[]> {
    const messages = await this.publisher.lrange(`rebeca:replay:${jobId}`, 0, -1);
    return messages.map(reviveProgress);
  }

  private async subscribe<T>(name: string, signal: AbortSignal): Promise<AsyncIterable<T>> {
    const events = iterate<T>(this.local, name, signal);
    let entry = this.channels.get(name);
    if (entry === undefined) {
      entry = { count: 0, ready: this.subscriber.subscribe(name) };
      this.channels.set(name, entry);
    }
    entry.count += 1;
    const release = () => {
      const current = this.channels.get(name);
      if (current === undefined) return;
      current.count -= 1;
      if (current.count === 0) {
        this.channels.delete(name);
        void this.subscriber.unsubscribe(name).catch(() => undefined);
      }
    };
    try {
      // Every subscriber, not only the first, returns once Redis has confirmed the channel.
      await entry.ready;
    } catch (error) {
      release();
      throw error;
    }
    if (signal.aborted) release();
    else signal.addEventListener('abort', release, { once: true });
    return events;
  }

  async close(): Promise<void> {
    this.local.removeAllListeners();
    this.subscriber.disconnect();
    await this.publisher.quit().catch(() => undefined);
  }
}
