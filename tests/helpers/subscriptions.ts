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

/** What a graphql-ws operation answered first: data and errors (a socket-level failure rejects). */
export interface FirstResult {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string; [key: string]: unknown } }[];
}

/**
 * The first result of one operation over graphql-ws (a subscription is left after its first event);
 * errors the server sends for the operation resolve as `{ errors }`, a closed socket rejects.
 */
export function firstResult(
  client: Client,
  operation: { query: string; variables?: Record<string, unknown> },
  timeoutMs = 10_000,
): Promise<FirstResult> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () => settle(() => reject(new Error(`no answer over WebSocket in ${timeoutMs} ms`))),
      timeoutMs,
    );
    const settle = (how: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      how();
      queueMicrotask(() => unsubscribe());
    };
    const unsubscribe = client.subscribe(operation, {
      next: (value) => settle(() => resolve(value as FirstResult)),
      error: (error) =>
        settle(() => {
          if (Array.isArray(error)) return resolve({ errors: error as FirstResult['errors'] });
          if (error instanceof Error) return reject(error);
          const { code, reason } = error as { code?: unknown; reason?: unknown };
          reject(
            new Error(
              code === undefined
                ? JSON.stringify(error)
                : `the socket closed with ${String(code)} ${String(reason)}`,
            ),
          );
        }),
      complete: () => settle(() => resolve({})),
    });
  });
}
