/**
 * A typed client for the gateway, for frontend teams to copy: `recommend` and `generate` over plain
 * `fetch`, a generation's progress over `graphql-ws`. The operations are the .graphql files beside this
 * one; `npm run codegen` turns them into `generated/` (graphql-codegen's client preset, documents as
 * typed strings), so every answer and every variable here is typed from the schema, and a schema change
 * that breaks an operation fails `npm run check`. No GraphQL library is needed at run time.
 *
 * Every call needs an API key (`rbk_...`): pass `apiKey` to each request and to `connect`, which send
 * it as `Authorization: Bearer <key>` over HTTP and as `{"authorization": "Bearer <key>"}` in the
 * graphql-ws connection payload. A frontend uses a client key (`npm run cli -- keys create --role
 * client --name my-frontend`); without a key the gateway answers UNAUTHENTICATED, with a key whose role
 * does not cover an operation FORBIDDEN (`GraphQLRequestError.code`).
 */
import { type Client, type ClientOptions, createClient } from 'graphql-ws';
import {
  GenerateDocument,
  type GenerateMutation,
  type GenerateMutationVariables,
  GenerationProgressDocument,
  type GenerationProgressSubscription,
  type GenerationProgressSubscriptionVariables,
  RecommendDocument,
  type RecommendQuery,
  type RecommendQueryVariables,
  type TypedDocumentString,
} from './generated/graphql.js';

/** A ranked answer of catalog and generated items. */
export type Recommendation = RecommendQuery['recommend'];
/** One entry: `entry.item.__typename` tells a catalog `Item` from a `GeneratedItem`. */
export type RecommendationEntry = Recommendation['items'][number];
/** A generation job as `generate` answers it. */
export type StartedJob = GenerateMutation['generate'];
/** One event of a job: queued, started, a denoising step, or its end with the items. */
export type GenerationProgress = GenerationProgressSubscription['generationProgress'];

/** An error of a GraphQL answer; `extensions.code` is the gateway's stable code. */
export interface GraphQLErrorEntry {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Readonly<Record<string, unknown>>;
}

/** A GraphQL answer with errors (or without data). */
export class GraphQLRequestError extends Error {
  constructor(
    readonly errors: readonly GraphQLErrorEntry[],
    /** The HTTP status; 0 over the WebSocket. */
    readonly status: number,
  ) {
    super(errors.map((error) => error.message).join('; '));
    this.name = 'GraphQLRequestError';
  }

  /** The first error's code: BAD_USER_INPUT, NOT_FOUND, USER_NOT_IN_MODEL, RESOURCE_EXHAUSTED... */
  get code(): string | undefined {
    const code = this.errors[0]?.extensions?.code;
    return typeof code === 'string' ? code : undefined;
  }
}

export interface RequestOptions {
  /** The API key, sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** The `Authorization` value of a key. */
export function authorization(apiKey: string): string {
  return `Bearer ${apiKey}`;
}

/** POST one typed operation to the gateway's /graphql; its data, or a GraphQLRequestError. */
export async function execute<TResult, TVariables>(
  endpoint: string | URL,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  options: RequestOptions = {},
): Promise<TResult> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(options.apiKey === undefined ? {} : { authorization: authorization(options.apiKey) }),
      ...options.headers,
    },
    body: JSON.stringify({ query: document.toString(), variables }),
    signal: options.signal,
  });
  if (!/json/.test(response.headers.get('content-type') ?? '')) {
    throw new GraphQLRequestError(
      [{ message: `HTTP ${response.status}: ${await response.text()}` }],
      response.status,
    );
  }
  const body = (await response.json()) as { data?: TResult | null; errors?: GraphQLErrorEntry[] };
  if (body.errors !== undefined && body.errors.length > 0)
    throw new GraphQLRequestError(body.errors, response.status);
  if (body.data === undefined || body.data === null) {
    throw new GraphQLRequestError([{ message: `no data (HTTP ${response.status})` }], response.status);
  }
  return body.data;
}

/** Catalog items, and generated items when asked, ranked for the user. */
export async function recommend(
  endpoint: string | URL,
  variables: RecommendQueryVariables,
  options?: RequestOptions,
): Promise<Recommendation> {
  return (await execute(endpoint, RecommendDocument, variables, options)).recommend;
}

/** Start generating items for the user; follow the job with `generationProgress`. */
export async function generate(
  endpoint: string | URL,
  variables: GenerateMutationVariables,
  options?: RequestOptions,
): Promise<StartedJob> {
  return (await execute(endpoint, GenerateDocument, variables, options)).generate;
}

/** Options of {@link connect}: graphql-ws's, and the API key. */
export interface ConnectOptions extends Omit<ClientOptions, 'url'> {
  /** The API key, sent in the connection payload (`{"authorization": "Bearer <key>"}`). */
  apiKey?: string;
}

/**
 * A graphql-ws client of the gateway (`ws://host:port/graphql`), connecting at its first subscription.
 * Browsers have a WebSocket; on Node 20 pass one: `{ webSocketImpl: WebSocket }` from the `ws` package.
 * The key goes in the connection payload: browsers cannot set headers on a WebSocket.
 */
export function connect(url: string, { apiKey, ...options }: ConnectOptions = {}): Client {
  return createClient({
    url,
    lazy: true,
    ...(apiKey === undefined ? {} : { connectionParams: { authorization: authorization(apiKey) } }),
    ...options,
  });
}

/**
 * A job's events as they come: what it missed first (a late subscriber gets the whole life), then every
 * `every`-th denoising step live, then its end (SUCCEEDED with its items, FAILED or CANCELLED), after
 * which the server completes the subscription. Leaving the loop early unsubscribes.
 */
export async function* generationProgress(
  client: Client,
  variables: GenerationProgressSubscriptionVariables,
): AsyncGenerator<GenerationProgress, void, undefined> {
  const results = client.iterate<GenerationProgressSubscription>({
    query: GenerationProgressDocument.toString(),
    variables,
  });
  for await (const result of results) {
    if (result.errors !== undefined && result.errors.length > 0)
      throw new GraphQLRequestError(result.errors, 0);
    if (result.data === undefined || result.data === null)
      throw new GraphQLRequestError([{ message: 'no data' }], 0);
    yield result.data.generationProgress;
  }
}

/** Follow a job to its end, calling `onEvent` at each event; resolves with the last event. */
export async function followGeneration(
  client: Client,
  variables: GenerationProgressSubscriptionVariables,
  onEvent: (event: GenerationProgress) => void = () => {},
): Promise<GenerationProgress> {
  let last: GenerationProgress | undefined;
  for await (const event of generationProgress(client, variables)) {
    onEvent(event);
    last = event;
  }
  if (last === undefined) throw new Error(`job ${variables.job}: the subscription ended without an event`);
  return last;
}
