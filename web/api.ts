// The page's only way to the gateway: its public GraphQL API on this page's origin, queries and mutations
// over HTTP (POST /graphql), subscriptions over graphql-ws (the same path), each with the stored API key
// (web/key.ts): the Authorization header, the connection payload's `authorization`.
import { type Client, createClient } from 'graphql-ws';
import { authorization, writeKey } from './key.js';
import {
  ACCESS,
  type AccessData,
  FEATURES,
  type FeaturesData,
  type KeyRole,
  type SchemaFeatures,
} from './operations.js';

export * from './operations.js';

/** A GraphQL error as the gateway reports it, with its stable code. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** No key, or one the gateway does not know (malformed, unknown, revoked): the page asks for a key. */
export const isUnauthenticated = (error: unknown): error is ApiError =>
  error instanceof ApiError && error.code === 'UNAUTHENTICATED';

/** A key whose role may not do this (a client key on the analyst tab, an analyst's generate). */
export const isForbidden = (error: unknown): error is ApiError =>
  error instanceof ApiError && error.code === 'FORBIDDEN';

interface GraphQLErrorLike {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: string };
}

function firstError(errors: readonly GraphQLErrorLike[]): ApiError {
  const [first] = errors;
  return new ApiError(first?.message ?? 'unknown GraphQL error', first?.extensions?.code);
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: GraphQLErrorLike[];
  /** The HTTP status it came with (not part of the body). */
  status: number;
}

/** POST an operation with the stored key; the whole answer, errors and all. */
async function post<T>(query: string, variables: Record<string, unknown>): Promise<GraphQLBody<T>> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
  };
  const bearer = authorization();
  if (bearer !== undefined) headers.authorization = bearer;
  const response = await fetch('/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  try {
    return { ...((await response.json()) as Omit<GraphQLBody<T>, 'status'>), status: response.status };
  } catch {
    throw new ApiError(`the gateway answered HTTP ${response.status} without a GraphQL body`);
  }
}

/** Run a query or mutation; resolves with its data, rejects with the first error. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const body = await post<T>(query, variables);
  if (body.errors !== undefined && body.errors.length > 0) throw firstError(body.errors);
  if (body.data === undefined || body.data === null) throw new ApiError(`HTTP ${body.status}: no data`);
  return body.data;
}

/**
 * What the stored key may do, in one request: the role it seems to have (what it was refused), or
 * UNAUTHENTICATED (rejects) when there is no key or the gateway does not know it.
 */
export async function probeAccess(): Promise<KeyRole> {
  const body = await post<AccessData>(ACCESS, {});
  const errors = body.errors ?? [];
  const refused = (field: keyof AccessData) =>
    errors.some((error) => error.path?.[0] === field && error.extensions?.code === 'FORBIDDEN');
  const other = errors.find((error) => error.extensions?.code !== 'FORBIDDEN');
  if (other !== undefined) throw firstError([other]);
  if (refused('reports')) return 'client';
  if (refused('keys')) return 'analyst';
  if (errors.length > 0) throw firstError(errors);
  return 'admin';
}

let client: Client | undefined;

function socket(): Client {
  const url = new URL('/graphql', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  client ??= createClient({
    url: url.href,
    lazy: true,
    retryAttempts: 3,
    // Read at each (re)connection: the key now stored.
    connectionParams: () => {
      const bearer = authorization();
      return bearer === undefined ? {} : { authorization: bearer };
    },
  });
  return client;
}

/**
 * Store a new key (undefined forgets the stored one); the WebSocket, opened with the old key, closes
 * and the next subscription opens one with the new key.
 */
export function changeKey(key: string | undefined): void {
  writeKey(key);
  void client?.dispose();
  client = undefined;
}

/** The close code a graphql-ws server sends when its onConnect refuses the connection (the key). */
const CLOSE_FORBIDDEN = 4403;

function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  if (Array.isArray(error)) return firstError(error as GraphQLErrorLike[]);
  if (typeof CloseEvent !== 'undefined' && error instanceof CloseEvent) {
    // The gateway takes a socket without a key (each operation then answers UNAUTHENTICATED) but closes
    // one whose key it does not know.
    if (error.code === CLOSE_FORBIDDEN) {
      return new ApiError(
        'the gateway refused the WebSocket: the API key is unknown or was revoked',
        'UNAUTHENTICATED',
      );
    }
    return new ApiError(`the WebSocket closed (${error.code}${error.reason ? `: ${error.reason}` : ''})`);
  }
  return new ApiError(String(error));
}

/** Subscribe over graphql-ws; returns the function that unsubscribes. */
export function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  sink: { next(data: T): void; error(error: Error): void; complete(): void },
): () => void {
  return socket().subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors !== undefined && result.errors.length > 0) sink.error(firstError(result.errors));
        else if (result.data !== undefined && result.data !== null) sink.next(result.data as T);
      },
      error: (error) => sink.error(asError(error)),
      complete: () => sink.complete(),
    },
  );
}

/** Which optional fields the gateway's schema has. */
export async function probeSchema(): Promise<SchemaFeatures> {
  const data = await gql<FeaturesData>(FEATURES);
  return { itemImage: data.item?.fields?.some((field) => field.name === 'image') ?? false };
}
