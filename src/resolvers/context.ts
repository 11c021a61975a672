import { type Principal } from '../services/access/principal.js';
import { type Services } from '../services/index.js';
import { type Loaders } from '../services/loaders.js';
import { type Transport } from '../server/access.js';

/** What every resolver receives, over HTTP and WebSocket alike. */
export interface GatewayContext {
  services: Services;
  loaders: Loaders;
  /** Aborted when the operation's time is up or its client left; long work passes it on. */
  signal: AbortSignal;
  /** When the operation's time is up (ms since the epoch); Infinity for subscriptions. */
  deadline: number;
  /** Who is calling (server/access.ts checks it at every root field; resolvers check ownership). */
  principal: Principal;
  /** How the operation arrived. */
  transport: Transport;
  /** The HTTP request's id (`x-request-id`), in its log line. */
  requestId?: string;
}

export function createContext(
  services: Services,
  scope: { signal: AbortSignal; deadline: number },
  caller: { principal: Principal; transport: Transport },
): GatewayContext {
  return {
    services,
    loaders: services.createLoaders(),
    signal: scope.signal,
    deadline: scope.deadline,
    principal: caller.principal,
    transport: caller.transport,
  };
}
