import { openConfiguredDatabase } from '../db/client.js';
import { createLogger } from '../lib/logger.js';
import { startServices } from '../services/index.js';
import { type CliCommand, parseFlags, UsageError } from './command.js';
import { waitForSignal } from './serve.js';

export const workerCommand: CliCommand = {
  name: 'worker',
  summary: 'Run generation jobs from Redis (BullMQ); start one per GPU. Needs REDIS_URL.',
  help: [
    'No flags. Configuration: REDIS_URL (required), DATABASE_URL (PostgreSQL shared with the gateways),',
    'ORT_EXECUTION_PROVIDER, GENERATION_CONCURRENCY, BATCH_MAX_ROWS, BATCH_MAX_DELAY_MS, MODEL_DIR.',
    'SIGTERM or SIGINT: running jobs finish first.',
  ].join('\n'),
  async run(argv, config) {
    parseFlags(argv, {});
    if (config.REDIS_URL === undefined)
      throw new UsageError('the worker needs REDIS_URL (jobs come from Redis)');
    if (config.DATABASE_URL === undefined) {
      throw new UsageError(
        'the worker needs DATABASE_URL: job state lives in PostgreSQL shared with the gateways',
      );
    }
    const logger = createLogger(config.LOG_LEVEL);
    const stopRequested = waitForSignal(logger);
    const database = await openConfiguredDatabase(config);
    const services = await startServices({ db: database.db, logger, config, role: 'worker' });
    logger.info('worker ready', { model: services.runtime.notReadyReason ?? 'ready' });
    await stopRequested;
    await services.close();
    await database.close();
    logger.info('worker stopped');
  },
};
