import { GraphQLError } from 'graphql';

import { type ApiErrorCode } from './vocabulary.js';

/** Stable error codes clients may branch on (vocabulary.ts). */
export type ErrorCode = ApiErrorCode;

interface AppErrorOptions {
  cause?: unknown;
  extensions?: Record<string, unknown>;
}

/**
 * The errors clients may see, each with a fixed `extensions.code`. Anything else reaches clients as
 * INTERNAL_SERVER_ERROR without its message (see server/format-error.ts). `cause` is logged, never sent.
 */
export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { extensions: { ...options.extensions, code } });
    this.name = new.target.name;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

export class BadUserInputError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('BAD_USER_INPUT', message, options);
  }
}
export class NotFoundError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('NOT_FOUND', message, options);
  }
}
export class ModelNotReadyError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('MODEL_NOT_READY', message, options);
  }
}
export class ResourceExhaustedError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('RESOURCE_EXHAUSTED', message, options);
  }
}
/** The active model cannot generate for this user; `extensions` say why and what would change it. */
export class UserNotInModelError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('USER_NOT_IN_MODEL', message, options);
  }
}
/** The job queue (Redis) cannot take the job now; the job was not started. */
export class QueueUnavailableError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('QUEUE_UNAVAILABLE', message, options);
  }
}

/** The operation ran out of time (or its client left): the fields not yet resolved were not run. */
export class QueryTimeoutError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('QUERY_TIMEOUT', message, options);
  }
}

/** No valid API key came with the request (none, unknown or revoked). */
export class UnauthenticatedError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('UNAUTHENTICATED', message, options);
  }
}

/** The key is valid but its role, its users or its ownership does not cover this. */
export class ForbiddenError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('FORBIDDEN', message, options);
  }
}
