import { EventEmitter, on } from 'node:events';
import { Redis } from 'ioredis';

/** One moment of a generation job, as published to subscribers (GraphQL shapes it further). */
export interface ProgressPayload {
  jobId: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  step: number;
  totalSteps: number;
  elapsedMs: number;
  etaMs: number | null;
  previewScore: number | null;
  previewNearestItemId: string | null;
  errorCode: string | null;
}

/** Topics and their payloads: typed so publisher and subscriber cannot drift. */
export interface Topics {
  progress: ProgressPayload;
  cancel: { jobId: string };
}

/**
 * Publish/subscribe between the parts of the gateway. In one process it is an in-memory emitter; with
 * REDIS_URL it is Redis pub/sub, so an event published by a worker reaches subscribers on every gateway.
 */
export interface EventBus {
  publish<T extends keyof Topics>(topic: T, key: string, payload: Topics[T]): Promise<void>;
  /** Events of one topic and key until the signal aborts. Subscribing is complete when this resolves. */
  subscribe<T extends keyof Topics>(
    topic: T,
    key: string,
    signal: AbortSignal,
  ): Promise<AsyncIterable<Topics[T]>>;
  close(): Promise<void>;
}

const channel = (topic: string, key: string) => `rebeca:${topic}:${key}`;

export class MemoryEventBus implements EventBus {
  private readonly emitter = new EventEmitter({ captureRejections: false });
  constructor() {
    this.emitter.setMaxListeners(0);
  }

  async publish<T extends keyof Topics>(topic: T, key: string, payload: Topics[T]): Promise<void> {
    this.emitter.emit(channel(topic, key), payload);
  }

  async subscribe<T extends keyof Topics>(topic: T, key: string, signal: AbortSignal) {
    const events = on(this.emitter, channel(topic, key), { signal });
    return (async function* () {
      try {
        for await (const [payload] of events) yield payload as Topics[T];
      } catch (error) {
        if ((error as Error).name !== 'AbortError') throw error;
      }
    })();
  }

  /** Subscribers of one topic and key in this process (diagnostics, tests). */
  listenerCount(topic: keyof Topics, key: string): number {
    return this.emitter.listenerCount(channel(topic, key));
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/** Redis pub/sub: one publishing connection, one subscribing connection shared by all subscribers. */
export class RedisEventBus implements EventBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly local = new MemoryEventBus();
  /** Subscribers per channel, and the SUBSCRIBE every one of them waits for. */
  private readonly channels = new Map<string, { count: number; ready: Promise<unknown> }>();

  constructor(url: string) {
    this.publisher = new Redis(url, { maxRetriesPerRequest: 3 });
    this.subscriber = new Redis(url, { maxRetriesPerRequest: 3 });
    this.subscriber.on('message', (name: string, message: string) => {
      const [, topic, key] = /^rebeca:([^:]+):(.*)$/.exec(name) ?? [];
      if (topic === undefined || key === undefined) return;
      let payload: unknown;
      try {
        payload = JSON.parse(message);
      } catch {
        return;
      }
      void this.local.publish(topic as keyof Topics, key, payload as never);
    });
  }

  async publish<T extends keyof Topics>(topic: T, key: string, payload: Topics[T]): Promise<void> {
    await this.publisher.publish(channel(topic, key), JSON.stringify(payload));
  }

  async subscribe<T extends keyof Topics>(topic: T, key: string, signal: AbortSignal) {
    const name = channel(topic, key);
    const events = await this.local.subscribe(topic, key, signal);
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
    await this.local.close();
    this.subscriber.disconnect();
    await this.publisher.quit().catch(() => undefined);
  }
}
