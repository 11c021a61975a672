import { sql } from 'drizzle-orm';
import { type Config, type DecoderSpec } from '../config.js';
import { type Database } from '../db/client.js';
import { type Logger } from '../lib/logger.js';
import { type Denoiser, type DenoiseBatcher } from '../ml/index.js';
import { ApiKeyService } from './access/api-keys.service.js';
import { PageLinks } from './access/page-links.js';
import { CatalogService } from './catalog.service.js';
import { EvaluationService } from './evaluation/evaluation.service.js';
import { generateWorld, worldOptions, type World } from '../world/index.js';
import { HttpImageDecoder } from './decoders/http-decoder.js';
import { type ImageDecoder, noDecoder } from './decoders/image-decoder.js';
import { ImageCache } from './decoders/image-cache.js';
import { WorldDecoder } from './decoders/world-decoder.js';
import { type EventBus, MemoryEventBus, RedisEventBus } from './generation/events.js';
import { GenerationService } from './generation/generation.service.js';
import {
  DEFAULT_TIMING,
  type JobQueue,
  LocalJobQueue,
  RedisJobQueue,
  type RedisQueueTiming,
  startRedisWorker,
  withTimeout,
} from './generation/job-queue.js';
import { JobLifecycle } from './generation/job-lifecycle.js';
import { JobReconciler, type JobReconcilerOptions } from './generation/job-reconciler.js';
import { JobRunner } from './generation/job-runner.js';
import { listModelVersions, type ModelVersionRow } from '../db/queries/models.js';
import { createLoaders, type Loaders } from './loaders.js';
import { ModelRuntime } from './model-runtime.js';
import { RatingService } from './ratings.service.js';
import { RecommendationService } from './recommendation.service.js';
import { UserService } from './users.service.js';
import { atMostEvery } from '../lib/throttle.js';

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
  /** API keys: creation, revocation, and the principal of each request. */
  apiKeys: ApiKeyService;
  /** Signed links to report pages (a browser opening a link sends no key). */
  pageLinks: PageLinks;
  /** Images of catalog and generated items (decoded once per item, then remembered). */
  images: ImageCache;
  /** Events between the parts of the gateway (in memory, or Redis pub/sub). */
  bus: EventBus;
  /** Repairs jobs a fault left stuck (started with the `reconciler` option: `serve` does). */
  reconciler: JobReconciler | undefined;
  /**
   * Each dependency as it answers now: the database (reachable, migrated), Redis (only with REDIS_URL)
   * and the model. Ready when the database and Redis are; the model is reported but does not gate it (a
   * gateway without one still serves the catalog). `checkDatabase` (the handle's `checkReady`) adds the
   * migrations; without it the database is only pinged.
   */
  readiness(options?: { checkDatabase?: () => Promise<string | void> }): Promise<Readiness>;
  /** Fresh batch loaders for one request. */
  createLoaders(): Loaders;
  /** Stop in reverse order: queue and runner, event bus, model sessions. */
  close(): Promise<void>;
}

/** What `/readyz` answers. */
export interface Readiness {
  ready: boolean;
  dependencies: Record<string, { ok: boolean; detail: string }>;
}

/** How long readiness waits for one dependency before it calls it unreachable. */
const READINESS_TIMEOUT_MS = 2_000;

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
  /** A gateway that should repair stuck jobs (job-reconciler.ts) starts the reconciler with these. */
  reconciler?: Partial<JobReconcilerOptions>;
  /** A worker's stalled-job timing (tests shorten it). */
  queueTiming?: RedisQueueTiming;
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
    config.REDIS_URL === undefined
      ? new MemoryEventBus()
      : new RedisEventBus(
          config.REDIS_URL,
          atMostEvery(10_000, (error: Error) => logger.warn('Redis event bus connection error', { error })),
        );
  const lifecycle = new JobLifecycle(db, bus, logger);
  const runner = new JobRunner(db, runtime, lifecycle, bus, logger);
  let queue: JobQueue;
  let worker: { close(): Promise<void> } | undefined;
  if (config.REDIS_URL === undefined) {
    queue = new LocalJobQueue(runner.run, logger, config.GENERATION_CONCURRENCY);
  } else {
    queue = new RedisJobQueue(config.REDIS_URL, options.queuePrefix, { logger });
    if (role === 'worker') {
      worker = startRedisWorker({
        url: config.REDIS_URL,
        run: runner.run,
        logger,
        concurrency: config.GENERATION_CONCURRENCY,
        timing: options.queueTiming ?? DEFAULT_TIMING,
        ...(options.queuePrefix === undefined ? {} : { prefix: options.queuePrefix }),
        onFailed: async (jobId, reason, stalled) => {
          await lifecycle.fail(jobId, stalled ? 'WORKER_LOST' : 'SAMPLING_FAILED', reason);
        },
      });
    }
  }
  // The taste world the data came from, when the decoder says so: the evaluations' oracle.
  const decoder = config.IMAGE_DECODER;
  let world: World | null | undefined;
  const worldOf = (): World | null => {
    if (world === undefined) {
      world =
        decoder.kind === 'world' ? generateWorld(worldOptions(decoder.preset, decoder.seed)).world : null;
    }
    return world;
  };
  const evaluation = new EvaluationService(db, runtime, worldOf, logger);
  const users = new UserService(db);
  const catalog = new CatalogService(db, () => runtime.invalidateCatalog());
  const generation = new GenerationService(db, users, runtime, lifecycle, queue, bus);
  let reconciler: JobReconciler | undefined;
  if (options.reconciler !== undefined && role === 'gateway') {
    reconciler = new JobReconciler(db, lifecycle, queue, logger, options.reconciler);
    reconciler.start();
  }
  const redisQueue = queue instanceof RedisJobQueue ? queue : undefined;
  return {
    db,
    users,
    catalog,
    ratings: new RatingService(db, users, catalog),
    runtime,
    generation,
    recommendation: new RecommendationService(db, users, runtime, generation),
    models: { listVersions: () => listModelVersions(db) },
    evaluation,
    apiKeys: new ApiKeyService(db),
    pageLinks: new PageLinks(db),
    images: new ImageCache(createDecoder(config.IMAGE_DECODER)),
    bus,
    reconciler,
    async readiness({ checkDatabase } = {}) {
      const dependencies: Readiness['dependencies'] = {};
      const database = async () => {
        if (checkDatabase !== undefined) return (await checkDatabase()) ?? 'reachable';
        await db.execute(sql`select 1`);
        return 'reachable';
      };
      const probes: Promise<void>[] = [
        probe('database', database, dependencies, (message) =>
          // A migrations count is a database that answers; anything else did not answer.
          /^unreachable|migrations applied$/.test(message) ? message : `unreachable: ${message}`,
        ),
      ];
      if (redisQueue !== undefined) {
        probes.push(
          probe(
            'redis',
            async () => {
              await redisQueue.ping(READINESS_TIMEOUT_MS);
              return 'PING answered';
            },
            dependencies,
            (message) => `unreachable: ${message}`,
          ),
        );
      }
      await Promise.all(probes);
      const problem = runtime.notReadyReason;
      dependencies.model = problem === null ? { ok: true, detail: 'loaded' } : { ok: false, detail: problem };
      const ready = Object.entries(dependencies).every(([name, { ok }]) => ok || name === 'model');
      return { ready, dependencies };
    },
    createLoaders: () => createLoaders(db),
    async close() {
      await reconciler?.stop();
      await evaluation.close();
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

/** Run one readiness check within READINESS_TIMEOUT_MS and record it under `name`. */
async function probe(
  name: string,
  check: () => Promise<string>,
  into: Readiness['dependencies'],
  describeFailure: (message: string) => string,
): Promise<void> {
  try {
    into[name] = { ok: true, detail: await withTimeout(check(), READINESS_TIMEOUT_MS, name) };
  } catch (error) {
    into[name] = { ok: false, detail: describeFailure((error as Error).message) };
  }
}
