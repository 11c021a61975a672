// GraphiQL, bundled (no CDN): the IDE a browser gets at GET /graphql. Queries and mutations go over HTTP
// to /graphql, subscriptions over graphql-ws to the same path, both on this page's origin.
import 'graphiql/style.css';
import './graphiql.css';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { setNonce } from 'get-nonce';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';

// Radix's dialogs and menus add one <style> element (react-remove-scroll): the gateway allows it by the
// page's nonce (a fresh one per response) rather than by 'unsafe-inline'.
const nonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content;
if (nonce !== undefined && nonce !== '') setNonce(nonce);

const DEFAULT_QUERY = `# The demo world's users are u-000 .. u-023. Ctrl-Enter runs the operation under the cursor.
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

const url = new URL('/graphql', window.location.href);
const subscriptionUrl = new URL(url);
subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
const fetcher = createGraphiQLFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });

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
    ...(query === undefined ? {} : { query }),
    ...(variables === undefined ? {} : { variables }),
    defaultEditorToolsVisibility: variables !== undefined,
  }),
);
