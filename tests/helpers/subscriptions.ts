import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** A real graphql-ws client over a real WebSocket; with `key`, it sends it in the connection payload. */
export function wsClient(url: string, key?: string): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    ...(key === undefined ? {} : { connectionParams: { authorization: `Bearer ${key}` } }),
  });
}

/**
 * Subscribe and collect every event until the server completes the subscription (or `until` says
 * stop, which unsubscribes). Rejects on errors or after `timeoutMs`.
 */
export function collect<T, V>(
  client: Client,
  document: TypedDocumentNode<T, V>,
  variables: V,
  options: { until?: (event: T, all: T[]) => boolean; onEvent?: (event: T) => void; timeoutMs?: number } = {},
): Promise<T[]> {
  return new Promise<T[]>((resolve, reject) => {
    const events: T[] = [];
    const timer = setTimeout(() => {
      unsubscribe();
      reject(
        new Error(`subscription timed out after ${events.length} events: ${JSON.stringify(events.at(-1))}`),
      );
    }, options.timeoutMs ?? 30_000);
    const unsubscribe = client.subscribe<T>(
      { query: print(document), variables: variables as Record<string, unknown> },
      {
        next: (result) => {
          if (result.errors) {
            clearTimeout(timer);
            reject(new Error(JSON.stringify(result.errors)));
            return;
          }
          const event = result.data as T;
          events.push(event);
          options.onEvent?.(event);
          if (options.until?.(event, events)) {
            clearTimeout(timer);
            unsubscribe();
            resolve(events);
          }
        },
        error: (error) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        },
        complete: () => {
          clearTimeout(timer);
          resolve(events);
        },
      },
    );
  });
}
