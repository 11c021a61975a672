import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { parseDecoderSpec } from '../../src/config.js';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { insertJobWithinLimits } from '../../src/db/queries/jobs.js';
import { type JobRecord } from '../../src/records.js';
import { type Denoiser, type DenoiseBatcher } from '../../src/ml/index.js';
import { createLogger, type Logger } from '../../src/lib/logger.js';
import { buildGatewaySchema } from '../../src/resolvers/schema.js';
import { type GatewayOptions, type RunningGateway, startGateway } from '../../src/server/gateway.js';
import { type ServiceConfig, type Services, startServices } from '../../src/services/index.js';
import { importDemoWorldIfEmpty } from '../../src/services/ingestion/demo-world.js';

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string } }[];
}

export interface TestGateway extends RunningGateway {
  wsUrl: string;
  services: Services;
  /** POST a typed operation to /graphql and return the parsed body. */
  request<T, V>(document: TypedDocumentNode<T, V>, variables: V): Promise<GraphQLResponse<T>>;
  /** Like request, but fails the test unless the answer has data and no errors. */
  data<T, V>(document: TypedDocumentNode<T, V>, variables: V): Promise<T>;
}

/** The configuration tests run with: CPU, no Redis, no decoder unless asked. */
export const testServiceConfig: ServiceConfig = {
  MODEL_DIR: undefined,
  ORT_EXECUTION_PROVIDER: 'cpu',
  REDIS_URL: undefined,
  IMAGE_DECODER: { kind: 'none' },
  GENERATION_CONCURRENCY: 16,
  BATCH_MAX_ROWS: 256,
  BATCH_MAX_DELAY_MS: 2,
};

/** Overrides of the test configuration; IMAGE_DECODER as its environment spelling. */
export type TestGatewayConfig = Partial<Omit<ServiceConfig, 'IMAGE_DECODER'>> & { IMAGE_DECODER?: string };

/** A real gateway on a free port of 127.0.0.1 over the given database. */
export async function startTestGateway(
  database: DatabaseHandle,
  { IMAGE_DECODER, ...config }: TestGatewayConfig = {},
  options: {
    wrapDenoiser?: (batcher: DenoiseBatcher) => Denoiser;
    /**
     * The gateway's own options (timeouts, caps, access). Tests of other things run with authentication
     * off and mutations allowed over WebSocket unless they say otherwise; the access tests turn both on.
     */
    gateway?: Pick<
      GatewayOptions,
      'queryTimeoutMs' | 'maxConnections' | 'origins' | 'authDisabled' | 'webSocketMutations'
    >;
    /** Default: errors only, on stderr. */
    logger?: Logger;
  } = {},
): Promise<TestGateway> {
  const { gateway: gatewayOptions, logger = createLogger('error'), ...serviceOptions } = options;
  const decoder =
    IMAGE_DECODER === undefined ? testServiceConfig.IMAGE_DECODER : parseDecoderSpec(IMAGE_DECODER);
  if (decoder === null) throw new Error(`bad IMAGE_DECODER ${IMAGE_DECODER}`);
  // Tests pick their model explicitly: never fall back to models/demo.
  const services = await startServices({
    db: database.db,
    logger,
    config: { ...testServiceConfig, ...config, IMAGE_DECODER: decoder },
    demoFallback: false,
    ...serviceOptions,
  });
  const gateway = await startGateway({
    schema: await buildGatewaySchema(),
    services,
    database,
    logger,
    port: 0,
    host: '127.0.0.1',
    authDisabled: true,
    webSocketMutations: true,
    ...gatewayOptions,
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
    services,
    async stop() {
      await gateway.stop();
      await services.close();
    },
    wsUrl: gateway.url.replace('http://', 'ws://'),
    request,
    async data<T, V>(document: TypedDocumentNode<T, V>, variables: V): Promise<T> {
      const body = await request(document, variables);
      if (body.errors !== undefined || body.data === undefined || body.data === null) {
        throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
      }
      return body.data;
    },
  };
}

/** A queued job of `steps` DDIM steps that no queue saw, so nothing runs it: for subscription tests. */
export async function insertIdleJob(gateway: TestGateway, user: string, steps = 10): Promise<JobRecord> {
  const row = await gateway.services.users.requireUser(user);
  const admitted = await insertJobWithinLimits(
    gateway.services.db,
    {
      userId: row.id,
      modelVersionId: null,
      count: 1,
      sampler: 'ddim',
      steps,
      guidanceScale: 3,
      verifierScale: 0,
      candidates: 1,
      seed: 1,
    },
    { perUser: 8, total: 1000 },
  );
  if (!('job' in admitted)) throw new Error(`the job for ${user} was refused`);
  return admitted.job;
}

/** Access as `npm start` has it: keys on, mutations over HTTP only. */
export const SERVED_ACCESS = { authDisabled: false, webSocketMutations: false } as const;

/**
 * The demo as `npm start` serves it on a first start: an embedded database holding the demo world, the
 * demo model and the world's pictures. Closing the database is the caller's (also when the start fails,
 * it is closed here).
 */
export async function startDemoGateway(
  options: Parameters<typeof startTestGateway>[2] = {},
): Promise<{ database: DatabaseHandle; gateway: TestGateway }> {
  const database = await openDatabase({ dataDir: null });
  try {
    await database.migrate();
    await importDemoWorldIfEmpty(database.db, createLogger('silent'));
    const gateway = await startTestGateway(
      database,
      { MODEL_DIR: 'models/demo', IMAGE_DECODER: 'world:demo:1' },
      options,
    );
    return { database, gateway };
  } catch (error) {
    await database.close();
    throw error;
  }
}
