import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { type DatabaseHandle } from '../db/client.js';
import { type Logger } from '../lib/logger.js';
import { createContext, type GatewayContext } from '../resolvers/context.js';
import { type Services } from '../services/index.js';
import { createFormatError } from './format-error.js';
import { graphqlHttpHandler } from './http-graphql.js';

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  schema: GraphQLSchema;
  services: Services;
  database: DatabaseHandle;
  logger: Logger;
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  /** Interface to bind; default all interfaces. */
  host?: string;
}

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  /** Stop accepting, finish in-flight requests, close WebSockets. Idempotent. */
  stop(): Promise<void>;
}

function sendJson(res: import('node:http').ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(value));
}

/** HTTP (`/graphql`, `/healthz`, `/readyz`) and graphql-ws on `/graphql`, on one port. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { schema, services, database, logger } = options;
  const httpServer = createServer();
  const formatError = createFormatError(logger);
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const wsCleanup = useServer<Record<string, unknown>, { context?: GatewayContext }>(
    {
      schema,
      context: () => createContext(services),
      // Over WebSocket too, clients see AppErrors and request errors as they are and anything else as
      // INTERNAL_SERVER_ERROR without internals (the same formatting as Apollo's over HTTP).
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors === undefined
          ? undefined
          : { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) },
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => formatError(error.toJSON(), error)),
    },
    wsServer,
  );
  const apollo = new ApolloServer<GatewayContext>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    formatError,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
    logger: {
      debug: (message) => logger.debug(String(message)),
      info: (message) => logger.info(String(message)),
      warn: (message) => logger.warn(String(message)),
      error: (message) => logger.error(String(message)),
    },
  });
  await apollo.start();
  const handleGraphql = graphqlHttpHandler(apollo, async () => createContext(services));
  httpServer.on('request', (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const handled = (async () => {
      if (path === '/graphql') return handleGraphql(req, res);
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (path === '/readyz') {
        try {
          await database.checkReady();
          return sendJson(res, 200, { status: 'ready', database: database.kind });
        } catch (error) {
          return sendJson(res, 503, { status: 'not ready', reason: (error as Error).message });
        }
      }
      return sendJson(res, 404, { error: `no route ${path}; GraphQL is at /graphql` });
    })();
    handled.catch((error: unknown) => {
      logger.error('request failed', { error, path });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal server error' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${options.host ?? 'localhost'}:${port}/graphql`,
    port,
    httpServer,
    stop() {
      stopping ??= (async () => {
        await apollo.stop();
        await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      })();
      return stopping;
    },
  };
}
