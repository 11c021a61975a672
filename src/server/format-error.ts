import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { AppError } from '../errors.js';
import { MAX_QUOTED_CHARS } from '../limits.js';
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

/** A double-quoted span of a message, to its closing quote or the end (even one cut after a backslash). */
const QUOTED = /"((?:[^"\\]|\\.)*)\\?("|$)/g;

/**
 * graphql-js quotes a client's value whole in its messages (`Variable "$n" got invalid value "…"`, a
 * string literal in a syntax error): each quoted span is cut to the prefix our own messages may quote.
 */
function clipQuoted(message: string): string {
  return message
    .slice(0, 100_000)
    .replace(QUOTED, (whole, inner: string, end: string) =>
      inner.length > MAX_QUOTED_CHARS ? `"${inner.slice(0, MAX_QUOTED_CHARS)}…${end}` : whole,
    );
}

/**
 * graphql-js checks one argument value only when it runs the field: a variable sent as null for a
 * non-null argument that has a default (`$n: Int` for `first: Int! = 20`). That error is the client's.
 */
function isArgumentError(error: unknown): error is GraphQLError {
  return (
    error instanceof GraphQLError &&
    error.originalError === undefined &&
    error.extensions.code === undefined &&
    /^Argument "\w+" of non-null type "[^"]+" must not be null\.$/.test(error.message)
  );
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
      return { ...formatted, message: shorten(clipQuoted(formatted.message)), extensions };
    }
    if (isArgumentError(original)) {
      return { ...formatted, message: original.message, extensions: { code: 'BAD_USER_INPUT' } };
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
