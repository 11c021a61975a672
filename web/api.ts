// The page's only way to the gateway: its public GraphQL API on this page's origin, queries and mutations
// over HTTP (POST /graphql), subscriptions over graphql-ws (the same path).
import { type Client, createClient } from 'graphql-ws';
import { FEATURES, type FeaturesData, type SchemaFeatures } from './operations.js';

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

interface GraphQLErrorLike {
  message: string;
  extensions?: { code?: string };
}

function firstError(errors: readonly GraphQLErrorLike[]): ApiError {
  const [first] = errors;
  return new ApiError(first?.message ?? 'unknown GraphQL error', first?.extensions?.code);
}

/** Run a query or mutation; resolves with its data, rejects with the first error. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    },
    body: JSON.stringify({ query, variables }),
  });
  let body: { data?: T | null; errors?: GraphQLErrorLike[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new ApiError(`the gateway answered HTTP ${response.status} without a GraphQL body`);
  }
  if (body.errors !== undefined && body.errors.length > 0) throw firstError(body.errors);
  if (body.data === undefined || body.data === null) throw new ApiError(`HTTP ${response.status}: no data`);
  return body.data;
}

let client: Client | undefined;

function socket(): Client {
  const url = new URL('/graphql', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  client ??= createClient({ url: url.href, lazy: true, retryAttempts: 3 });
  return client;
}

function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  if (Array.isArray(error)) return firstError(error as GraphQLErrorLike[]);
  if (typeof CloseEvent !== 'undefined' && error instanceof CloseEvent) {
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
