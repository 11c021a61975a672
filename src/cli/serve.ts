import { openConfiguredDatabase } from '../db/client.js';
import { createLogger } from '../lib/logger.js';
import { buildGatewaySchema } from '../resolvers/schema.js';
import { startGateway } from '../server/gateway.js';
import { importDemoWorldIfEmpty } from '../services/ingestion/demo-world.js';
import { startServices } from '../services/index.js';
import { type CliCommand, integerFlag, parseFlags } from './command.js';

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Serve the GraphQL API over HTTP and WebSocket (what `npm start` runs).',
  help: [
    'Flags:',
    '  --port N   overrides PORT (default 4000)',
    '  --host H   interface to bind (default: all)',
    '',
    'Endpoints: /graphql (POST, GET, graphql-ws), /healthz, /readyz. SIGTERM or SIGINT drains and stops.',
    'Without REDIS_URL generation jobs run in this process; with it, in `worker` processes.',
  ].join('\n'),
  async run(argv, config) {
    const flags = parseFlags(argv, { port: { type: 'string' }, host: { type: 'string' } });
    const port = integerFlag(flags.port, 'port', config.PORT);
    const logger = createLogger(config.LOG_LEVEL);
    // Start order: database and migrations, demo data, models and services, schema, HTTP and WebSocket.
    const database = await openConfiguredDatabase(config);
    if (config.DEMO_WORLD && config.MODEL_DIR === undefined)
      await importDemoWorldIfEmpty(database.db, logger);
    const services = await startServices({ db: database.db, logger, config });
    if (config.REDIS_URL === undefined) {
      const resumed = await services.generation.resumeOpenJobs();
      if (resumed > 0) logger.info('resumed unfinished generation jobs', { count: resumed });
    }
    const schema = await buildGatewaySchema();
    const gateway = await startGateway({
      schema,
      services,
      database,
      logger,
      port,
      ...(flags.host === undefined ? {} : { host: flags.host }),
    });
    logger.info('serving', {
      url: `http://${flags.host ?? 'localhost'}:${gateway.port}/graphql`,
      database: database.kind === 'pglite' ? `embedded PGlite in ${config.DATA_DIR}` : 'PostgreSQL',
      model: services.runtime.notReadyReason ?? 'ready',
      jobs: config.REDIS_URL === undefined ? 'in this process' : 'Redis (BullMQ) workers',
    });
    await waitForSignal(logger);
    // Stop in reverse order.
    await gateway.stop();
    await services.close();
    await database.close();
    logger.info('stopped');
  },
};

export function waitForSignal(logger: { info(message: string, fields?: Record<string, unknown>): void }) {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info('stopping', { signal });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
