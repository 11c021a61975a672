import { type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { AppError } from '../errors.js';
import { type Logger } from '../lib/logger.js';

/** Codes Apollo itself assigns to request errors (parse, validation, bad variables...). */
const APOLLO_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

/** Characters of an error message sent to clients at most (parser messages quote the document). */
const MAX_MESSAGE_CHARS = 500;

function shorten(message: string): string {
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message;
}

/**
 * Clients see our AppErrors and Apollo's request errors as they are (their messages cut short);
 * anything else becomes INTERNAL_SERVER_ERROR without its message, and is logged with its cause.
 */
export function createFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) {
      if (original.cause !== undefined)
        logger.debug('client error', { code: original.code, cause: original.cause });
      // Our errors' extensions are written for clients (code, and e.g. why a user cannot generate).
      return {
        ...formatted,
        message: shorten(original.message),
        extensions: { ...original.extensions, code: original.code },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && APOLLO_CODES.has(code)) {
      // Limits name themselves (extensions.limit); Apollo's `http` extension stays on the server.
      const { http: _http, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, message: shorten(formatted.message), extensions };
    }
    logger.error('unexpected error in a request', { error: original, path: formatted.path });
    return {
      message: 'Internal server error',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
