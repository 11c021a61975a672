import { type Server } from 'node:http';
import { type GraphQLSchema } from 'graphql';
import { type Disposable } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { ResourceExhaustedError } from '../errors.js';
import { type Logger } from '../lib/logger.js';
import { MAX_BODY_BYTES, MAX_OPERATIONS_PER_SOCKET, MAX_SOCKET_BUFFERED_BYTES } from '../limits.js';
import { createContext, type GatewayContext } from '../resolvers/context.js';
import { type Services } from '../services/index.js';
import { type createFormatError } from './format-error.js';
import { type OperationObserver, rootFieldOf } from './observe.js';
import { type Authenticator, authorizationOfPayload } from './authenticate.js';
import { type OriginPolicy } from './origins.js';
import { operationScope } from './operation-signal.js';
import { prepareOperation } from './query-limits.js';

/** Per socket: aborted when it closes, so its operations stop. */
type SocketExtra = Record<string, unknown> & {
  socket: WebSocket;
  closed?: AbortController;
  /** The connection payload's `authorization`, asked again at each operation. */
  authorization?: string | undefined;
};

/** How often sockets are pinged; one that has not answered the previous ping is terminated. */
const HEARTBEAT_MS = 30_000;

/** Close code for a client that does not read what it subscribed to (RFC 6455: policy violation). */
const SLOW_CONSUMER = 1008;

/**
 * graphql-ws on `/graphql`, with the limits and codes of HTTP: messages up to the HTTP body limit,
 * at most {@link MAX_OPERATIONS_PER_SOCKET} operations open per socket, the same parse/validation/cost
 * checks (a bad document fails its operation, never the socket), the same timeout for queries and
 * mutations, and operations stopped when their socket closes. A socket that lets more than
 * {@link MAX_SOCKET_BUFFERED_BYTES} pile up unread is closed.
 */
export function startWebSocketServer(options: {
  httpServer: Server;
  schema: GraphQLSchema;
  services: Services;
  formatError: ReturnType<typeof createFormatError>;
  logger: Logger;
  queryTimeoutMs: number;
  observer: OperationObserver;
  origins: OriginPolicy;
  /** Who each operation's caller is, from the connection payload's `authorization`. */
  authenticator: Authenticator;
}): { wsServer: WebSocketServer; cleanup: Disposable } {
  const { schema, services, formatError, logger, observer } = options;
  const wsServer = new WebSocketServer({
    server: options.httpServer,
    path: '/graphql',
    maxPayload: MAX_BODY_BYTES,
    // A page on another origin may not open the socket (browsers always send Origin on an upgrade).
    verifyClient: (info, done) => {
      if (options.origins.allows(info.origin || undefined, info.req.headers.host)) done(true);
      else done(false, 403, 'origin not allowed');
    },
  });
  /** Open operations by socket and id: how to record their end, and their scope. */
  const operations = new Map<string, { finish(codes: string[]): void; done(): void }>();
  const cleanup = useServer<Record<string, unknown>, SocketExtra>(
    {
      schema,
      onConnect: async (ctx) => {
        ctx.extra.closed = new AbortController();
        // A key that does not work ends the connection (4403); no key at all gets a socket on which
        // every operation answers UNAUTHENTICATED (introspection aside).
        ctx.extra.authorization = authorizationOfPayload(ctx.connectionParams);
        if (ctx.extra.authorization === undefined) return true;
        const principal = await options.authenticator.principal(ctx.extra.authorization);
        return principal.kind !== 'anonymous';
      },
      onClose: (ctx) => {
        ctx.extra.closed?.abort(new Error('the client closed the WebSocket'));
      },
      onSubscribe: async (ctx, id, payload) => {
        if (Object.keys(ctx.subscriptions).length > MAX_OPERATIONS_PER_SOCKET) {
          return [
            new ResourceExhaustedError(
              `at most ${MAX_OPERATIONS_PER_SOCKET} operations may be open on one WebSocket`,
            ),
          ];
        }
        // Each operation asks again (cached for seconds): a key revoked while its socket is open stops
        // starting operations.
        const principal = await options.authenticator.principal(ctx.extra.authorization);
        const prepared = prepareOperation(schema, payload);
        const socketSignal = ctx.extra.closed?.signal ?? new AbortController().signal;
        const observed = observer.start('ws');
        if (Array.isArray(prepared)) {
          observed.finish(codesOf(prepared));
          return prepared;
        }
        observed.describe(rootFieldOf(prepared.operation), prepared.kind, payload.operationName ?? null);
        // Subscriptions live as long as their socket; queries and mutations get the HTTP timeout.
        const scope = operationScope(
          [socketSignal],
          prepared.kind === 'subscription' ? null : options.queryTimeoutMs,
        );
        const context: GatewayContext = createContext(services, scope, { principal, transport: 'ws' });
        operations.set(operationKey(ctx.extra.socket, id), { finish: observed.finish, done: scope.done });
        return { ...prepared.args, contextValue: context };
      },
      onNext: (ctx, _id, _payload, _args, result) => {
        if (ctx.extra.socket.bufferedAmount > MAX_SOCKET_BUFFERED_BYTES) {
          logger.warn('closing a WebSocket that does not read its messages', {
            buffered: ctx.extra.socket.bufferedAmount,
          });
          ctx.extra.socket.close(SLOW_CONSUMER, 'too much unread data');
        }
        // Over WebSocket too, clients see AppErrors and request errors as they are and anything else as
        // INTERNAL_SERVER_ERROR without internals (the same formatting as Apollo's over HTTP).
        return result.errors === undefined
          ? undefined
          : { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) };
      },
      onOperation: (ctx, id, _payload, _args, result) => {
        // A query's or mutation's single result: the operation is done.
        if (!(Symbol.asyncIterator in result)) {
          const errors = 'errors' in result && result.errors !== undefined ? result.errors : [];
          finishOperation(
            ctx.extra.socket,
            id,
            codesOf(errors.map((error) => formatError(error.toJSON(), error))),
          );
        }
        return undefined;
      },
      onError: (ctx, id, _payload, errors) => {
        const formatted = errors.map((error) => formatError(error.toJSON(), error));
        finishOperation(ctx.extra.socket, id, codesOf(formatted));
        return formatted;
      },
      onComplete: (ctx, id) => finishOperation(ctx.extra.socket, id, []),
    },
    wsServer,
  );
  const socketIds = new WeakMap<WebSocket, number>();
  let nextSocketId = 0;
  function operationKey(socket: WebSocket, id: string): string {
    let socketId = socketIds.get(socket);
    if (socketId === undefined) {
      socketId = nextSocketId += 1;
      socketIds.set(socket, socketId);
    }
    return `${socketId}:${id}`;
  }
  function finishOperation(socket: WebSocket, id: string, codes: string[]): void {
    const key = operationKey(socket, id);
    const operation = operations.get(key);
    operation?.done();
    operation?.finish(codes);
    operations.delete(key);
  }
  // Heartbeat: a socket whose peer vanished without closing (no pong within a period) is terminated,
  // so dead connections do not hold descriptors and subscriptions forever.
  const alive = new WeakSet<WebSocket>();
  const heartbeat = setInterval(() => {
    for (const socket of wsServer.clients) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  wsServer.on('close', () => clearInterval(heartbeat));
  wsServer.on('connection', (socket) => {
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
    socket.on('close', () => {
      // Operations a closed socket left open end here (graphql-ws does not complete them).
      const prefix = `${socketIds.get(socket) ?? -1}:`;
      for (const [key, operation] of operations) {
        if (key.startsWith(prefix)) {
          operation.done();
          operation.finish([]);
          operations.delete(key);
        }
      }
    });
  });
  return { wsServer, cleanup };
}

function codesOf(errors: readonly { extensions?: Record<string, unknown> | undefined }[]): string[] {
  return errors.map((error) => String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
}
