import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The browser side of the gateway, built by `npm run build:web` (scripts/build-web.ts) into dist/web:
 * the page at `/`, its hashed assets at `/web/*`, and GraphiQL at `/graphql` for a browser's GET (one
 * that prefers text/html). Everything else on /graphql stays the GraphQL endpoint. Nothing is loaded
 * from elsewhere: each page's Content-Security-Policy allows this origin only (plus data: pictures and
 * fonts, and WebSockets to this host for subscriptions).
 *
 * The pages need no API key and hold no data: their scripts send the key the browser stored (web/key.ts)
 * with each GraphQL request. A key handed over as `/#key=...` (the link `npm start` prints at a first
 * start) never reaches this server, fragments are not sent, and the page takes it out of the address bar.
 */

/** Where `npm run build:web` writes. */
export const WEB_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

/** Hashed file names only (`app-3F2K….js`): one path segment, no dot files. */
const ASSET = /^\/web\/([A-Za-z0-9_-][A-Za-z0-9._-]{0,127})$/;

/** The media types /graphql answers, in Apollo Server's order: text/html must beat every one of them. */
const GRAPHQL_TYPES = ['application/json', 'application/graphql-response+json', 'multipart/mixed'];

interface AcceptRange {
  type: string;
  subtype: string;
  q: number;
  /** 0 for a full wildcard, 1 for type/*, 2 for an exact type. */
  specificity: number;
}

function parseAccept(header: string): AcceptRange[] {
  const ranges: AcceptRange[] = [];
  for (const part of header.split(',')) {
    const [range = '', ...params] = part.trim().split(';');
    const [type = '', subtype = ''] = range.trim().toLowerCase().split('/');
    if (type === '' || subtype === '') continue;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.trim().split('=');
      if (name?.trim().toLowerCase() === 'q') q = Number(value);
    }
    if (!Number.isFinite(q)) continue;
    const specificity = type === '*' ? 0 : subtype === '*' ? 1 : 2;
    ranges.push({ type, subtype, q, specificity });
  }
  return ranges;
}

/** The quality of a media type under an Accept header: the most specific range that matches it. */
function quality(ranges: AcceptRange[], mediaType: string): { q: number; specificity: number } {
  const [type, subtype] = mediaType.split('/');
  let best = { q: 0, specificity: -1 };
  for (const range of ranges) {
    const matches =
      (range.type === '*' || range.type === type) && (range.subtype === '*' || range.subtype === subtype);
    if (matches && range.specificity > best.specificity)
      best = { q: range.q, specificity: range.specificity };
  }
  return best;
}

/**
 * Whether a GET asks for a page rather than a GraphQL answer: text/html ranks above every media type
 * the endpoint answers (by q, then by how specific the matching range is), as Apollo Server decides
 * when it shows its landing page. A browser's address bar does; fetch, curl and GraphQL clients don't.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (accept === undefined || accept === '') return false;
  const ranges = parseAccept(accept);
  const html = quality(ranges, 'text/html');
  if (html.q <= 0) return false;
  return GRAPHQL_TYPES.every((type) => {
    const other = quality(ranges, type);
    return html.q > other.q || (html.q === other.q && html.specificity > other.specificity);
  });
}

/** The Host header if it is a plain host[:port] (it is echoed into the policy's connect-src). */
function plainHost(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  return host !== undefined &&
    /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/.test(host)
    ? host
    : undefined;
}

/**
 * The pages' policy: scripts, styles, fonts and pictures from this origin (pictures and fonts also as
 * data: URLs: generated items' SVGs, GraphiQL's inlined fonts; pictures also over https, where a
 * catalog's items keep theirs), requests to this origin and WebSockets to
 * this host (graphql-ws). No inline scripts, no eval, no frames, no plugins; no inline styles but those
 * carrying the response's nonce (GraphiQL's dialogs add one <style>; the page at `/` has no nonce).
 */
export function contentSecurityPolicy(host: string | undefined, styleNonce?: string): string {
  const sockets = host === undefined ? '' : ` ws://${host} wss://${host}`;
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self'${styleNonce === undefined ? '' : ` 'nonce-${styleNonce}'`}`,
    // A catalog's own pictures (its items' imageUrl) live on the catalog's hosts; the page's code does not.
    "img-src 'self' data: https:",
    "font-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function notBuiltPage(): string {
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Web front end not built</title>
<h1>The web front end is not built</h1>
<p>Run <code>npm run build:web</code> in the gateway's folder (<code>npm start</code> runs it first), then
reload this page.</p>
<p>The GraphQL API works without it: POST or GET <code>/graphql</code>, and graphql-ws on the same path.
Evaluation reports are at <a href="/reports">/reports</a>.</p>
</html>
`;
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer | string,
): void {
  res.statusCode = status;
  res.setHeader('x-content-type-options', 'nosniff');
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

function methodNotAllowed(req: IncomingMessage, res: ServerResponse): void {
  send(
    req,
    res,
    405,
    { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' },
    'GET or HEAD only\n',
  );
}

const isMissing = (error: unknown) =>
  ['ENOENT', 'ENOTDIR', 'EISDIR'].includes((error as { code?: string }).code ?? '');

/**
 * One of the built HTML pages: never cached (it names the current hashed assets and may carry a nonce),
 * with the policy. A page that has a `{{nonce}}` placeholder gets a fresh nonce in it and in its policy.
 */
async function sendPage(dir: string, name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = {
    'content-type': TYPES['.html']!,
    'cache-control': 'no-store',
    'content-security-policy': contentSecurityPolicy(plainHost(req)),
    'referrer-policy': 'no-referrer',
  };
  let html: string;
  try {
    html = await readFile(join(dir, name), 'utf8');
  } catch (error) {
    if (!isMissing(error)) throw error;
    return send(req, res, 503, { ...headers, 'retry-after': '10' }, notBuiltPage());
  }
  if (html.includes('{{nonce}}')) {
    const nonce = randomBytes(18).toString('base64');
    html = html.replaceAll('{{nonce}}', nonce);
    headers['content-security-policy'] = contentSecurityPolicy(plainHost(req), nonce);
  }
  send(req, res, 200, headers, html);
}

/** A hashed asset: cached for a year (a new build has new names), gzipped when the client takes it. */
async function sendAsset(
  dir: string,
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const type = TYPES[extname(name)];
  const notFound = () =>
    send(
      req,
      res,
      404,
      { 'content-type': TYPES['.txt']!, 'cache-control': 'no-store' },
      `no asset ${name}\n`,
    );
  if (type === undefined || name.endsWith('.html')) return notFound();
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const headers: Record<string, string> = {
    'content-type': type,
    'cache-control': 'public, max-age=31536000, immutable',
    vary: 'accept-encoding',
  };
  if (gzip) {
    const compressed = await readFile(join(dir, `${name}.gz`)).catch((error: unknown) => {
      if (isMissing(error)) return undefined;
      throw error;
    });
    if (compressed !== undefined)
      return send(req, res, 200, { ...headers, 'content-encoding': 'gzip' }, compressed);
  }
  try {
    return send(req, res, 200, headers, await readFile(join(dir, name)));
  } catch (error) {
    if (!isMissing(error)) throw error;
    return notFound();
  }
}

/**
 * A request handler for the pages built in `dir`: answers `/`, `/web/*` and a browser's GET of
 * `/graphql` and returns true; returns false (having touched nothing) for every other request.
 */
export function createWebHandler(dir: string = WEB_DIR) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    const method = req.method ?? 'GET';
    if (path === '/graphql') {
      // GET /graphql?query=... from an address bar opens the IDE with it (Apollo's landing page would
      // answer it otherwise, from a CDN); a GraphQL client's GET prefers JSON and is answered as before.
      if (method !== 'GET' || !prefersHtml(req.headers.accept)) return false;
      await sendPage(dir, 'graphiql.html', req, res);
      return true;
    }
    if (path === '/' || path === '/index.html') {
      if (method !== 'GET' && method !== 'HEAD') methodNotAllowed(req, res);
      else await sendPage(dir, 'index.html', req, res);
      return true;
    }
    if (path.startsWith('/web/')) {
      const match = ASSET.exec(path);
      if (method !== 'GET' && method !== 'HEAD') methodNotAllowed(req, res);
      else if (match === null) send(req, res, 404, { 'content-type': TYPES['.txt']! }, 'no such asset\n');
      else await sendAsset(dir, match[1]!, req, res);
      return true;
    }
    return false;
  };
}

/** The gateway's handler, serving dist/web. */
export const serveWeb = createWebHandler();
