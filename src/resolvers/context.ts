import { type Services } from '../services/index.js';
import { type Loaders } from '../services/loaders.js';

/** What every resolver receives, over HTTP and WebSocket alike. */
export interface GatewayContext {
  services: Services;
  loaders: Loaders;
}

export function createContext(services: Services): GatewayContext {
  return { services, loaders: services.createLoaders() };
}
