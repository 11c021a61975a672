import { createServer, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { type GraphQLSchema } from 'graphql';
import { type DatabaseHandle } from '../db/client.js';
import { countJobsInStatus } from '../db/queries/jobs.js';
import { type Logger } from '../lib/logger.js';
import { addJobProbes, metricsRegistry } from '../lib/metrics.js';
import {
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_QUERY_TIMEOUT_MS,
  HEADERS_TIMEOUT_MS,
  KEEP_ALIVE_TIMEOUT_MS,
  REQUEST_TIMEOUT_MS,
} from '../limits.js';
import { createContext, type GatewayContext } from '../resolvers/context.js';
import { type Services } from '../services/index.js';
import { guardAccess } from './access.js';
import { createAuthenticator } from './authenticate.js';
import { createFormatError } from './format-error.js';
import { graphqlHttpHandler } from './http-graphql.js';
import { createObserver, observerPlugin } from './observe.js';
import { guardSchema } from './operation-guard.js';
import { applyCors, type OriginPolicy, originPolicy } from './origins.js';
import { apolloLimitPlugins, limitValidationRules, PARSE_OPTIONS } from './query-limits.js';
import { startWebSocketServer } from './websocket.js';
import { serveWeb } from './web.js';
import { chartsFor } from '../services/evaluation/charts.js';
import { reportIndexPage, reportPage } from '../services/evaluation/report-page.js';

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
  /** Longest a query or mutation runs before its remaining fields stop (QUERY_TIMEOUT). */
  queryTimeoutMs?: number;
  /** TCP connections (HTTP and WebSocket) held at once; more are refused. */
  maxConnections?: number;
  /** Browser origins allowed over HTTP and WebSocket; default: the gateway's own, and localhost. */
  origins?: OriginPolicy;
  /** Authentication off: every caller acts as an admin (AUTH_DISABLED; local work only). */
  authDisabled?: boolean;
  /** Let mutations run over WebSocket (WS_MUTATIONS); default off: they run over HTTP only. */
  webSocketMutations?: boolean;
}

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  /** Stop accepting, finish in-flight requests, close WebSockets. Idempotent. */
  stop(): Promise<void>;
}

function sendHtml(res: ServerResponse, status: number, html: string, type = 'text/html; charset=utf-8') {
  res.statusCode = status;
  res.setHeader('content-type', type);
  res.setHeader('cache-control', 'no-store');
  // The pages are static documents: no scripts run, nothing is fetched from elsewhere.
  res.setHeader(
    'content-security-policy',
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: 'self'",
  );
  res.end(html);
}

/**
 * `/reports` (the latest reports), `/reports/:id` (a report's page), `/reports/:id/charts/:name.svg`:
 * each needs the access token of a signed link (`pageUrl`, a chart's `url`, the links on these pages),
 * unless authentication is off.
 */
async function serveReports(
  url: URL,
  services: Services,
  res: ServerResponse,
  authDisabled: boolean,
): Promise<void> {
  const path = url.pathname === '/reports/' ? '/reports' : url.pathname;
  const links = services.pageLinks;
  let opened: { keyId: string; expires: number } | null = null;
  if (!authDisabled) {
    // A link made with authentication off names no key and opens nothing once keys are on.
    const link = await links.verify(path, url.searchParams.get('access'));
    if (link?.keyId == null || !(await services.apiKeys.isActive(link.keyId)))
      return sendHtml(res, 401, unauthorizedPage());
    opened = { keyId: link.keyId, expires: link.expires };
  }
  // The links on a page are made for the key its own link was made for, and expire when it does: a
  // chain of links never outlives the one the API handed out.
  const sign = (target: string) =>
    opened === null ? Promise.resolve(target) : links.sign(target, opened.keyId, Date.now(), opened.expires);
  if (path === '/reports') {
    const reports = await services.evaluation.list({}, 50);
    const hrefs = new Map(
      await Promise.all(reports.map(async (r) => [r.id, await sign(`/reports/${r.id}`)] as const)),
    );
    return sendHtml(res, 200, reportIndexPage(reports, { hrefs }));
  }
  const match = /^\/reports\/([0-9a-f-]{36})(?:\/charts\/([a-z0-9-]{1,64})\.svg)?$/.exec(path);
  const view = match === null ? undefined : await services.evaluation.find(match[1]!);
  if (match === null || view === undefined) return sendHtml(res, 404, notFoundPage());
  const charts = chartsFor(view);
  if (match[2] === undefined)
    return sendHtml(res, 200, reportPage(view, charts, { indexHref: await sign('/reports') }));
  const chart = charts.find((candidate) => candidate.name === match[2]);
  if (chart === undefined) return sendHtml(res, 404, notFoundPage());
  return sendHtml(res, 200, chart.svg, 'image/svg+xml');
}

function unauthorizedPage(): string {
  return '<!doctype html><html lang="en"><meta charset="utf-8"><title>Link needed</title><p>Report pages open from the links the API hands out (<code>pageUrl</code>, valid for 24 hours while the key that asked for it is not revoked). Ask the API for the report again for a fresh link.</p></html>';
}

function notFoundPage(): string {
  return '<!doctype html><html lang="en"><meta charset="utf-8"><title>Not found</title><p>No such report.</p></html>';
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(value));
}

/**
 * HTTP (`/graphql`, `/healthz`, `/readyz`, `/metrics`) and graphql-ws on `/graphql`, on one port, with
 * the same limits on both transports: query depth, aliases, tokens and cost; a timeout that also stops
 * an operation whose client left; caps on connections, slow clients, messages and operations per socket.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { services, database, logger } = options;
  // The guard of limits and ids runs first, then the access table's check, then the resolver.
  const schema = guardSchema(
    guardAccess(options.schema, { webSocketMutations: options.webSocketMutations ?? false }),
  );
  const authDisabled = options.authDisabled ?? false;
  const authenticator = createAuthenticator(services.apiKeys, { disabled: authDisabled });
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const httpServer = createServer({
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // How often Node checks the two timeouts above (default 30 s would let slow clients linger).
    connectionsCheckingInterval: 1_000,
  });
  httpServer.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const formatError = createFormatError(logger);
  const observer = createObserver(logger);
  const origins = options.origins ?? originPolicy({ origins: [], development: true });
  const { wsServer, cleanup: wsCleanup } = startWebSocketServer({
    httpServer,
    origins,
    authenticator,
    schema,
    services,
    formatError,
    logger,
    queryTimeoutMs,
    observer,
  });
  const removeProbes = addJobProbes({
    queued: () => countJobsInStatus(services.db, 'queued'),
    stuck: () => services.reconciler?.stuckInLastPass ?? 0,
  });
  const apollo = new ApolloServer<GatewayContext>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    // The gateway's own drain runs on SIGTERM (cli/serve.ts); Apollo's handler would exit first.
    stopOnTerminationSignals: false,
    parseOptions: PARSE_OPTIONS,
    validationRules: [...limitValidationRules],
    formatError,
    plugins: [
      ...apolloLimitPlugins<GatewayContext>(schema),
      observerPlugin<GatewayContext>(observer),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Browsers get the bundled GraphiQL (server/web.ts); Apollo's landing page would load a CDN.
      ApolloServerPluginLandingPageDisabled(),
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
  const handleGraphql = graphqlHttpHandler(apollo, {
    context: async (scope, { requestId, authorization }) => ({
      ...createContext(services, scope, {
        principal: await authenticator.principal(authorization),
        transport: 'http',
      }),
      requestId,
    }),
    timeoutMs: queryTimeoutMs,
  });
  httpServer.on('request', (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const handled = (async () => {
      if (applyCors(req, res, origins)) return; // a preflight, answered
      if (await serveWeb(req, res, path)) return; // `/`, `/web/*`, GraphiQL for a browser's GET /graphql
      if (path === '/graphql') return handleGraphql(req, res);
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (path === '/reports' || path.startsWith('/reports/'))
        return serveReports(new URL(req.url ?? '/', 'http://localhost'), services, res, authDisabled);
      if (path === '/metrics') {
        res.setHeader('content-type', metricsRegistry.contentType);
        res.end(await metricsRegistry.metrics());
        return;
      }
      if (path === '/readyz') {
        // Each dependency as it answers now (Services.readiness); 503 names the ones that do not.
        const readiness = await services.readiness({
          checkDatabase: async () => `${database.kind}: ${await database.checkReady()}`,
        });
        return sendJson(res, readiness.ready ? 200 : 503, {
          status: readiness.ready ? 'ready' : 'not ready',
          ...readiness,
        });
      }
      return sendJson(res, 404, { error: `no route ${path}; GraphQL is at /graphql` });
    })();
    handled.catch((error: unknown) => {
      // A client that closes its connection mid-request is not the server's failure.
      if ((error as { code?: unknown }).code === 'ECONNRESET') {
        logger.debug('client closed the connection mid-request', { path });
        res.destroy();
        return;
      }
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
        removeProbes();
        await apollo.stop();
        await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      })();
      return stopping;
    },
  };
}
