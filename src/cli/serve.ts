import { type Config } from '../config.js';
import { openConfiguredDatabase } from '../db/client.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { buildGatewaySchema } from '../resolvers/schema.js';
import { startGateway } from '../server/gateway.js';
import { originPolicy } from '../server/origins.js';
import { importDemoWorldIfEmpty } from '../services/ingestion/demo-world.js';
import { type Services, startServices } from '../services/index.js';
import { type CliCommand, integerFlag, parseFlags } from './command.js';

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Serve the GraphQL API over HTTP and WebSocket (what `npm start` runs).',
  help: [
    'Flags:',
    '  --port N   overrides PORT (default 4000)',
    '  --host H   interface to bind (default: all)',
    '',
    'Endpoints: /graphql (POST, GET, graphql-ws), /healthz, /readyz, /metrics (Prometheus).',
    'SIGTERM or SIGINT drains (requests, WebSockets, jobs, database) and stops; a second one stops at once.',
    'Without REDIS_URL generation jobs run in this process; with it, in `worker` processes.',
  ].join('\n'),
  async run(argv, config) {
    const flags = parseFlags(argv, { port: { type: 'string' }, host: { type: 'string' } });
    const port = integerFlag(flags.port, 'port', config.PORT);
    const logger = createLogger(config.LOG_LEVEL);
    // Listen before starting: a signal during the start stops the server once it is up.
    const stopRequested = waitForSignal(logger);
    // Start order: database and migrations, demo data, models and services, schema, HTTP and WebSocket.
    const database = await openConfiguredDatabase(config);
    if (config.DEMO_WORLD && config.MODEL_DIR === undefined)
      await importDemoWorldIfEmpty(database.db, logger);
    // The gateway repairs jobs a fault left stuck (job-reconciler.ts), in both modes; with several
    // gateways on PostgreSQL one reconciles at a time (an advisory lock).
    const services = await startServices({
      db: database.db,
      logger,
      config,
      reconciler: { advisoryLock: database.kind === 'postgres' },
    });
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
      queryTimeoutMs: config.QUERY_TIMEOUT_MS,
      origins: originPolicy({ origins: config.CORS_ORIGINS, development: config.NODE_ENV !== 'production' }),
      maxConnections: config.MAX_CONNECTIONS,
      authDisabled: config.AUTH_DISABLED,
      webSocketMutations: config.WS_MUTATIONS,
      ...(flags.host === undefined ? {} : { host: flags.host }),
    });
    await announceAccess(services, config, `http://${flags.host ?? 'localhost'}:${gateway.port}`, logger);
    logger.info('serving', {
      url: `http://${flags.host ?? 'localhost'}:${gateway.port}/graphql`,
      database: database.kind === 'pglite' ? `embedded PGlite in ${config.DATA_DIR}` : 'PostgreSQL',
      model: services.runtime.notReadyReason ?? 'ready',
      jobs: config.REDIS_URL === undefined ? 'in this process' : 'Redis (BullMQ) workers',
    });
    await stopRequested;
    // One drain, in reverse order: stop accepting and finish in-flight requests (WebSockets close with
    // 1001), then jobs (a single process puts its running jobs back to queued), then the database.
    await gateway.stop();
    await services.close();
    await database.close();
    logger.info('stopped');
  },
};

/**
 * How to get in. With authentication off, a warning. On the first start of a development gateway (no
 * key was ever created), an admin key, printed once (only its hash is stored) with a link that hands it
 * to the demo page. In production no key is made: the log says how to create the first one.
 */
async function announceAccess(services: Services, config: Config, origin: string, logger: Logger) {
  if (config.AUTH_DISABLED) {
    logger.warn('AUTH_DISABLED=true: every caller acts as an admin; for local work only');
    return;
  }
  if (config.NODE_ENV === 'production') {
    if (!(await services.apiKeys.anyExists()))
      logger.warn(
        'no API key exists yet: create one with `npm run cli -- keys create --role admin --name ops`',
      );
    return;
  }
  const first = await services.apiKeys.createFirstAdminKey();
  if (first === null) return;
  logger.info('created the first admin key (printed once, on standard output)', { id: first.record.id });
  process.stdout.write(
    [
      '',
      'First start: an admin key was created. It is shown this once (only its hash is stored):',
      '',
      `  ${first.key}`,
      '',
      `  Open the demo with it:  ${origin}/#key=${first.key}`,
      `  Call the API with it:   curl -H 'authorization: Bearer ${first.key}' -H 'content-type: application/json' \\`,
      `                            -d '{"query":"{ users(first: 3) { edges { node { id } } } }"}' ${origin}/graphql`,
      '  More keys:              npm run cli -- keys create --role client --name my-frontend',
      '',
      '',
    ].join('\n'),
  );
}

/**
 * Resolves at the first SIGTERM or SIGINT (the drain starts); a second one exits at once (128 + signal
 * number), for an operator who will not wait.
 */
export function waitForSignal(logger: { info(message: string, fields?: Record<string, unknown>): void }) {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.info('stopping now, without draining', { signal });
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      stopping = true;
      logger.info('stopping: draining requests, jobs and the database', { signal });
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
