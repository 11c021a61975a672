// GraphiQL, bundled (no CDN): the IDE a browser gets at GET /graphql. Queries and mutations go over HTTP
// to /graphql, subscriptions over graphql-ws to the same path, both on this page's origin, each with the
// headers editor's contents: prefilled with the API key the page at `/` stored (web/key.ts).
import 'graphiql/style.css';
import './graphiql.css';
import { createGraphiQLFetcher, type Fetcher, type FetcherOpts } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { setNonce } from 'get-nonce';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { authorization, takeKeyFromFragment, writeKey } from './key.js';

// Radix's dialogs and menus add one <style> element (react-remove-scroll): the gateway allows it by the
// page's nonce (a fresh one per response) rather than by 'unsafe-inline'.
const nonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content;
if (nonce !== undefined && nonce !== '') setNonce(nonce);

const DEFAULT_QUERY = `# The demo world's users are u-000 .. u-023. Ctrl-Enter runs the operation under the cursor.
# Every field but introspection needs an API key, sent from the Headers tab below as
# {"Authorization": "Bearer rbk_..."}: filled in with the key the page at / stored, if it has one.
query Recommend {
  recommend(user: "u-003", includeGenerated: true, first: 10) {
    fallback
    items {
      rank
      score
      source
      reason
      explanation
      item {
        ... on Item {
          id
          title
        }
        ... on GeneratedItem {
          id
          verifierScore
        }
      }
    }
  }
}

mutation Generate {
  generate(user: "u-003", count: 4, steps: 50) {
    id
    status
  }
}

# Paste the job id from Generate, then run this one: events arrive over graphql-ws.
subscription Progress {
  generationProgress(job: "<job id>", every: 5) {
    status
    step
    totalSteps
    previewScore
    previewNearest {
      id
      title
    }
  }
}
`;

// `/graphql#key=...` hands a key over as `/#key=...` does (and leaves the address bar the same way); the
// editors read the key once, so a key handed over later reloads the page.
const handed = takeKeyFromFragment();
if (handed !== undefined) writeKey(handed);
window.addEventListener('hashchange', () => {
  const key = takeKeyFromFragment();
  if (key === undefined) return;
  writeKey(key);
  window.location.reload();
});
const bearer = authorization();
/** What a new tab's headers editor holds (headers are not persisted: each visit reads the stored key). */
const defaultHeaders = bearer === undefined ? undefined : JSON.stringify({ Authorization: bearer }, null, 2);

const url = new URL('/graphql', window.location.href);
const subscriptionUrl = new URL(url);
subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
const toolkitFetcher = createGraphiQLFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });

/**
 * The headers editor's JSON as it is sent: HTTP headers, and for a subscription the graphql-ws connection
 * payload (the toolkit opens a socket per subscription with the headers as its connectionParams). The
 * gateway reads the payload's `authorization`: the header's name goes lowercased, however it was typed.
 */
function withAuthorization(opts: FetcherOpts | undefined): FetcherOpts | undefined {
  const headers = opts?.headers;
  if (headers === undefined) return opts;
  const named = Object.entries(headers).map(([name, value]): [string, unknown] =>
    name.toLowerCase() === 'authorization' ? ['authorization', value] : [name, value],
  );
  return { ...opts, headers: Object.fromEntries(named) };
}

const fetcher: Fetcher = (params, opts) => toolkitFetcher(params, withAuthorization(opts));

// GET /graphql?query=... in a browser opens the IDE with that operation.
const params = new URLSearchParams(window.location.search);
const query = params.get('query') ?? undefined;
const variables = params.get('variables') ?? undefined;

const root = document.getElementById('graphiql');
if (root === null) throw new Error('graphiql.html has no #graphiql element');
createRoot(root).render(
  createElement(GraphiQL, {
    fetcher,
    defaultQuery: DEFAULT_QUERY,
    ...(defaultHeaders === undefined ? {} : { defaultHeaders }),
    ...(query === undefined ? {} : { query }),
    ...(variables === undefined ? {} : { variables }),
    defaultEditorToolsVisibility: variables !== undefined,
  }),
);
