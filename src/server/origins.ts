import { type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * Which browser origins may call the API: the gateway's own origin always, the configured ones
 * (CORS_ORIGINS), and in development any http://localhost or http://127.0.0.1 port. The same rule
 * decides CORS answers over HTTP and WebSocket upgrades: a page on another origin can neither read an
 * answer nor open a socket (browsers send `Origin` on both; clients that are not browsers send none and
 * are not a cross-site risk).
 */
export interface OriginPolicy {
  /** Whether a request with this `Origin` (and this `Host`) may proceed. */
  allows(origin: string | undefined, host: string | undefined): boolean;
}

const LOCAL = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

export function originPolicy(options: { origins: readonly string[]; development: boolean }): OriginPolicy {
  const listed = new Set(options.origins.map((origin) => origin.replace(/\/$/, '').toLowerCase()));
  return {
    allows(origin, host) {
      if (origin === undefined) return true;
      const normalised = origin.toLowerCase();
      if (listed.has(normalised)) return true;
      if (options.development && LOCAL.test(normalised)) return true;
      // Same origin: the page was served by this gateway (scheme aside, the host must match exactly).
      try {
        return host !== undefined && new URL(normalised).host === host.toLowerCase();
      } catch {
        return false;
      }
    },
  };
}

/** Headers a browser may send with its requests (preflight answers). */
const ALLOWED_HEADERS = 'content-type, authorization, x-request-id, apollo-require-preflight';

/**
 * CORS for one HTTP request: an allowed cross-origin request gets `access-control-allow-origin` (and a
 * preflight its answer, 204); a refused one gets no CORS headers, so the browser keeps the answer from
 * the page (a refused preflight answers 403). Returns true when the request was a preflight, answered.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, policy: OriginPolicy): boolean {
  const origin = req.headers.origin;
  const allowed = origin !== undefined && policy.allows(origin, req.headers.host);
  res.setHeader('vary', 'origin');
  if (allowed) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', 'x-request-id');
  }
  if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) return false;
  if (!allowed) {
    res.statusCode = 403;
    res.end();
    return true;
  }
  res.statusCode = 204;
  res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
  res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
  res.setHeader('access-control-max-age', '600');
  res.end();
  return true;
}
