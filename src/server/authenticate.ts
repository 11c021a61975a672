import { type ApiKeyService } from '../services/access/api-keys.service.js';
import { LOCAL_PRINCIPAL, type Principal } from '../services/access/principal.js';

/** Turns what a request presents (`Authorization: Bearer <key>`) into its principal. */
export interface Authenticator {
  /** The principal of an `Authorization` value (an HTTP header, or the graphql-ws payload's field). */
  principal(authorization: string | undefined): Promise<Principal>;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * With `disabled` (AUTH_DISABLED, local work only) everyone acts as an admin. Otherwise the key decides;
 * no key, a malformed one, or an unknown or revoked one is nobody, and the answer says which.
 */
export function createAuthenticator(keys: ApiKeyService, options: { disabled: boolean }): Authenticator {
  return {
    async principal(authorization) {
      if (options.disabled) return LOCAL_PRINCIPAL;
      if (authorization === undefined || authorization.trim() === '')
        return { kind: 'anonymous', problem: 'no API key was sent' };
      const match = BEARER.exec(authorization);
      if (match === null) {
        return { kind: 'anonymous', problem: 'the authorization is not of the form "Bearer <key>"' };
      }
      return keys.authenticate(match[1] as string);
    },
  };
}

/** The `authorization` of a graphql-ws connection payload (either capitalisation), if any. */
export function authorizationOfPayload(payload: unknown): string | undefined {
  if (payload === null || typeof payload !== 'object') return undefined;
  const record = payload as Record<string, unknown>;
  const value = record.authorization ?? record.Authorization;
  return typeof value === 'string' ? value : undefined;
}
