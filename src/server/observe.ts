import { randomUUID } from 'node:crypto';
import { type ApolloServerPlugin } from '@apollo/server';
import { type OperationDefinitionNode } from 'graphql';
import { type Logger } from '../lib/logger.js';
import { operationDuration, operationErrors } from '../lib/metrics.js';

export type Transport = 'http' | 'ws';

/** One operation being watched: `describe` once known, `finish` once, with its errors' codes. */
export interface ObservedOperation {
  describe(rootField: string | null, kind: string | null, operationName?: string | null): void;
  finish(codes: string[]): void;
}

/** Request logs and metrics: one log line and one histogram sample per GraphQL operation. */
export interface OperationObserver {
  start(transport: Transport, requestId?: string): ObservedOperation;
}

/** A client's request id, if it is short and plain; else a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^[\w.:-]{1,64}$/.test(value) ? value : randomUUID();
}

/** The root field an operation asks for first: the metrics' `operation` label (bounded by the schema). */
export function rootFieldOf(operation: OperationDefinitionNode | undefined | null): string | null {
  const first = operation?.selectionSet.selections.find((selection) => selection.kind === 'Field');
  return first?.kind === 'Field' ? first.name.value : null;
}

export function createObserver(logger: Logger): OperationObserver {
  return {
    start(transport, requestId = randomUUID()) {
      const started = performance.now();
      let finished = false;
      let rootField: string | null = null;
      let kind: string | null = null;
      let operationName: string | null = null;
      return {
        describe(field, operationKind, name = null) {
          rootField = field;
          kind = operationKind;
          operationName = name;
        },
        finish(codes) {
          if (finished) return;
          finished = true;
          const seconds = (performance.now() - started) / 1000;
          const operation = rootField ?? 'unknown';
          operationDuration.observe({ transport, operation, kind: kind ?? 'invalid' }, seconds);
          for (const code of codes) operationErrors.inc({ transport, operation, code });
          logger.info('graphql', {
            requestId,
            transport,
            operation,
            ...(operationName === null ? {} : { operationName }),
            kind: kind ?? 'invalid',
            ms: Math.round(seconds * 10_000) / 10,
            ...(codes.length === 0 ? {} : { errors: [...new Set(codes)] }),
          });
        },
      };
    },
  };
}

/** The HTTP side: Apollo tells the observer when each request starts and what it answered. */
export function observerPlugin<Context extends { requestId?: string }>(
  observer: OperationObserver,
): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const observed = observer.start('http', contextValue.requestId);
      return {
        async didResolveOperation({ operation, operationName }) {
          observed.describe(rootFieldOf(operation), operation?.operation ?? null, operationName ?? null);
        },
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
          observed.finish(errors.map((error) => String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR')));
        },
      };
    },
  };
}
