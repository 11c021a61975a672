import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type ApolloServer, type BaseContext, HeaderMap } from '@apollo/server';
import { MAX_BODY_BYTES, MAX_BODY_BYTES_IN_FLIGHT } from '../limits.js';
import { requestIdFrom } from './observe.js';
import { operationScope } from './operation-signal.js';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Bytes of request bodies being read right now, over all requests of this process. */
let bodyBytesInFlight = 0;

async function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const length = (chunk as Buffer).length;
      size += length;
      if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
      // Many large bodies at once would exhaust the heap: beyond the budget, come back later.
      if (bodyBytesInFlight + length > MAX_BODY_BYTES_IN_FLIGHT)
        throw new HttpError(503, 'the server is reading too many large requests; try again shortly');
      bodyBytesInFlight += length;
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    bodyBytesInFlight -= chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  }
}

function sendError(res: ServerResponse, status: number, message: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  if (status === 503) res.setHeader('retry-after', '1');
  // The rest of a refused body is not read: close the connection rather than drain it.
  if (status === 413 || status === 503) res.setHeader('connection', 'close');
  res.end(JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }));
}

/**
 * Bind Apollo Server to a plain node:http request: the integration contract of
 * `executeHTTPGraphQLRequest`, without a web framework in between. Each request gets a request id
 * (`x-request-id`, the client's if plain) and an abort signal that fires after `timeoutMs` or when the
 * client closes the connection before its answer.
 */
export function graphqlHttpHandler<Context extends BaseContext>(
  apollo: ApolloServer<Context>,
  options: {
    /** The operation's context; `authorization` is the request's Authorization header. */
    context: (
      scope: { signal: AbortSignal; deadline: number },
      request: { requestId: string; authorization: string | undefined },
    ) => Context | Promise<Context>;
    timeoutMs: number;
  },
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown;
    try {
      const text = req.method === 'POST' ? await readBody(req) : '';
      const contentType = headers.get('content-type') ?? '';
      if (text.length > 0 && /^application\/(graphql-response\+)?json\b/i.test(contentType)) {
        try {
          body = JSON.parse(text);
        } catch {
          throw new HttpError(400, 'request body is not valid JSON');
        }
      } else {
        body = text.length > 0 ? text : undefined;
      }
    } catch (error) {
      if (error instanceof HttpError) return sendError(res, error.status, error.message);
      throw error;
    }
    const left = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) left.abort();
    };
    res.once('close', onClose);
    const scope = operationScope([left.signal], options.timeoutMs);
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method?.toUpperCase() ?? 'GET', headers, search: url.search, body },
        context: async () => options.context(scope, { requestId, authorization: req.headers.authorization }),
      });
      for (const [key, value] of response.headers) res.setHeader(key, value);
      res.statusCode = response.status ?? 200;
      if (response.body.kind === 'complete') {
        res.end(response.body.string);
        return;
      }
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    } finally {
      scope.done();
      res.off('close', onClose);
    }
  };
}
