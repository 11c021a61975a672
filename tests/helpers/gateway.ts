import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type DatabaseHandle } from '../../src/db/client.js';
import { createLogger } from '../../src/lib/logger.js';
import { buildGatewaySchema } from '../../src/resolvers/schema.js';
import { type RunningGateway, startGateway } from '../../src/server/gateway.js';
import { createServices } from '../../src/services/index.js';

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string } }[];
}

export interface TestGateway extends RunningGateway {
  wsUrl: string;
  /** POST a typed operation to /graphql and return the parsed body. */
  request<T, V>(document: TypedDocumentNode<T, V>, variables: V): Promise<GraphQLResponse<T>>;
  /** Like request, but fails the test unless the answer has data and no errors. */
  data<T, V>(document: TypedDocumentNode<T, V>, variables: V): Promise<T>;
}

/** A real gateway on a free port of 127.0.0.1 over the given database. */
export async function startTestGateway(database: DatabaseHandle): Promise<TestGateway> {
  const services = createServices(database.db);
  const gateway = await startGateway({
    schema: await buildGatewaySchema(),
    services,
    database,
    logger: createLogger('error'),
    port: 0,
    host: '127.0.0.1',
  });
  const request = async <T, V>(document: TypedDocumentNode<T, V>, variables: V) => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: print(document), variables }),
    });
    return (await response.json()) as GraphQLResponse<T>;
  };
  return {
    ...gateway,
    stop: () => gateway.stop(),
    wsUrl: gateway.url.replace('http://', 'ws://'),
    request,
    async data(document, variables) {
      const body = await request(document, variables);
      if (body.errors !== undefined || body.data === undefined || body.data === null) {
        throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
      }
      return body.data;
    },
  };
}
