import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type ApolloServer, type BaseContext, HeaderMap } from '@apollo/server';

/** Request bodies larger than this are refused with 413 (upsertItems with wide embeddings is the big case). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendError(res: ServerResponse, status: number, message: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }));
}

/**
 * Bind Apollo Server to a plain node:http request: the integration contract of
 * `executeHTTPGraphQLRequest`, without a web framework in between.
 */
export function graphqlHttpHandler<Context extends BaseContext>(
  apollo: ApolloServer<Context>,
  context: () => Promise<Context>,
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
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
    const url = new URL(req.url ?? '/', 'http://localhost');
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method?.toUpperCase() ?? 'GET', headers, search: url.search, body },
      context,
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}
