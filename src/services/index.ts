import { type Config, type DecoderSpec } from '../config.js';
import { type Database } from '../db/client.js';
import { type Logger } from '../lib/logger.js';
import { type Denoiser, type DenoiseBatcher } from '../ml/index.js';
import { CatalogService } from './catalog.service.js';
import { EvaluationService } from './evaluation.service.js';
import { HttpImageDecoder } from './decoders/http-decoder.js';
import { type ImageDecoder, noDecoder } from './decoders/image-decoder.js';
import { ImageCache } from './decoders/image-cache.js';
import { WorldDecoder } from './decoders/world-decoder.js';
import { type EventBus, MemoryEventBus, RedisEventBus } from './generation/events.js';
import { GenerationService } from './generation/generation.service.js';
import { type JobQueue, LocalJobQueue, RedisJobQueue, startRedisWorker } from './generation/job-queue.js';
import { JobLifecycle } from './generation/job-lifecycle.js';
import { JobRunner } from './generation/job-runner.js';
import { listModelVersions, type ModelVersionRow } from '../db/queries/models.js';
import { createLoaders, type Loaders } from './loaders.js';
import { ModelRuntime } from './model-runtime.js';
import { RatingService } from './ratings.service.js';
import { RecommendationService } from './recommendation.service.js';
import { UserService } from './users.service.js';

/** The use cases the API and the CLI call; created once per process. */
export interface Services {
  db: Database;
  users: UserService;
  catalog: CatalogService;
  ratings: RatingService;
  runtime: ModelRuntime;
  generation: GenerationService;
  recommendation: RecommendationService;
  models: { listVersions(): Promise<ModelVersionRow[]> };
  evaluation: EvaluationService;
  /** Images of generated items (decoded once per item, then remembered). */
  images: ImageCache;
  /** Events between the parts of the gateway (in memory, or Redis pub/sub). */
  bus: EventBus;
  /** Fresh batch loaders for one request. */
  createLoaders(): Loaders;
  /** Stop in reverse order: queue and runner, event bus, model sessions. */
  close(): Promise<void>;
}

/** What a process does with generation jobs. */
export type ProcessRole = 'gateway' | 'worker';

export type ServiceConfig = Pick<
  Config,
  | 'MODEL_DIR'
  | 'ORT_EXECUTION_PROVIDER'
  | 'REDIS_URL'
  | 'IMAGE_DECODER'
  | 'GENERATION_CONCURRENCY'
  | 'BATCH_MAX_ROWS'
  | 'BATCH_MAX_DELAY_MS'
>;

export function createDecoder(spec: DecoderSpec): ImageDecoder {
  switch (spec.kind) {
    case 'none':
      return noDecoder;
    case 'world':
      return new WorldDecoder(spec.preset, spec.seed);
    case 'http':
      return new HttpImageDecoder(spec.url);
  }
}

/**
 * Create the services, load the model and connect the job machinery. Without REDIS_URL jobs run in
 * this process; with it, a gateway enqueues on Redis and a worker runs what is enqueued.
 */
export async function startServices(options: {
  db: Database;
  logger: Logger;
  config: ServiceConfig;
  role?: ProcessRole;
  /** Serve models/demo when nothing is configured or registered (default true). */
  demoFallback?: boolean;
  /** BullMQ key prefix (tests isolate themselves with it). */
  queuePrefix?: string;
  /** Wraps each model's denoise batcher (tests: a gate that holds steps back). */
  wrapDenoiser?: (batcher: DenoiseBatcher) => Denoiser;
}): Promise<Services> {
  const { db, logger, config } = options;
  const role = options.role ?? 'gateway';
  const runtime = new ModelRuntime({
    db,
    logger,
    executionProvider: config.ORT_EXECUTION_PROVIDER,
    modelDir: config.MODEL_DIR,
    maxBatchRows: config.BATCH_MAX_ROWS,
    maxQueueDelayMs: config.BATCH_MAX_DELAY_MS,
    wrapDenoiser: options.wrapDenoiser,
    ...(options.demoFallback === undefined ? {} : { demoFallback: options.demoFallback }),
  });
  await runtime.start();
  const bus: EventBus =
    config.REDIS_URL === undefined ? new MemoryEventBus() : new RedisEventBus(config.REDIS_URL);
  const lifecycle = new JobLifecycle(db, bus);
  const runner = new JobRunner(db, runtime, lifecycle, bus, logger);
  let queue: JobQueue;
  let worker: { close(): Promise<void> } | undefined;
  if (config.REDIS_URL === undefined) {
    queue = new LocalJobQueue(runner.run, logger, config.GENERATION_CONCURRENCY);
  } else {
    queue = new RedisJobQueue(config.REDIS_URL, options.queuePrefix);
    if (role === 'worker') {
      worker = startRedisWorker({
        url: config.REDIS_URL,
        run: runner.run,
        logger,
        concurrency: config.GENERATION_CONCURRENCY,
        ...(options.queuePrefix === undefined ? {} : { prefix: options.queuePrefix }),
        onFailed: async (jobId, reason, stalled) => {
          await lifecycle.fail(jobId, stalled ? 'WORKER_LOST' : 'SAMPLING_FAILED', reason);
        },
      });
    }
  }
  const users = new UserService(db);
  const catalog = new CatalogService(db, () => runtime.invalidateCatalog());
  const generation = new GenerationService(db, users, runtime, lifecycle, queue, bus);
  return {
    db,
    users,
    catalog,
    ratings: new RatingService(db, users, catalog),
    runtime,
    generation,
    recommendation: new RecommendationService(db, users, runtime, generation),
    models: { listVersions: () => listModelVersions(db) },
    evaluation: new EvaluationService(db, runtime),
    images: new ImageCache(createDecoder(config.IMAGE_DECODER)),
    bus,
    createLoaders: () => createLoaders(db),
    async close() {
      // A worker drains (its jobs finish, BullMQ sees them done); a single process interrupts its jobs,
      // which go back to queued and resume at the next start.
      if (worker !== undefined) await worker.close();
      runner.stop();
      await queue.close();
      await bus.close();
      await runtime.close();
    },
  };
}
