import { openConfiguredDatabase } from '../db/client.js';
import { createLogger } from '../lib/logger.js';
import { buildGatewaySchema } from '../resolvers/schema.js';
import { startGateway } from '../server/gateway.js';
import { createServices } from '../services/index.js';
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
  ].join('\n'),
  async run(argv, config) {
    const flags = parseFlags(argv, { port: { type: 'string' }, host: { type: 'string' } });
    const port = integerFlag(flags.port, 'port', config.PORT);
    const logger = createLogger(config.LOG_LEVEL);
    // Start order: database and migrations, services, schema, then HTTP and WebSocket.
    const database = await openConfiguredDatabase(config);
    const services = createServices(database.db);
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
      url: gateway.url.replace('localhost', flags.host ?? 'localhost'),
      database: database.kind === 'pglite' ? `embedded PGlite in ${config.DATA_DIR}` : 'PostgreSQL',
    });
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info('stopping', { signal });
        resolve();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    // Stop in reverse order.
    await gateway.stop();
    await database.close();
    logger.info('stopped');
  },
};
