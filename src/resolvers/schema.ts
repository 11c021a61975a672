import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { ApiKeyResolver } from './api-key.resolver.js';
import { EvaluationResolver } from './evaluation.resolver.js';
import { GeneratedItemResolver } from './generated-item.resolver.js';
import { GenerationResolver } from './generation.resolver.js';
import { ItemResolver } from './item.resolver.js';
import { ModelResolver } from './model.resolver.js';
import { ProgressResolver } from './progress.resolver.js';
import { RecommendationResolver } from './recommendation.resolver.js';
import { RatingResolver } from './rating.resolver.js';
import { UserResolver } from './user.resolver.js';

export const resolvers = [
  UserResolver,
  ItemResolver,
  RatingResolver,
  RecommendationResolver,
  GenerationResolver,
  GeneratedItemResolver,
  ProgressResolver,
  ModelResolver,
  EvaluationResolver,
  ApiKeyResolver,
] as const;

/** Build the executable schema from the resolver classes. */
export function buildGatewaySchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    validate: false,
    // Subscriptions take their events from the services' event bus (`subscribe` option), never from
    // type-graphql topics; this satisfies buildSchema and fails loudly if a topic is ever used.
    pubSub: {
      publish: () => {
        throw new Error('use the services event bus, not type-graphql topics');
      },
      subscribe: () => {
        throw new Error('use the services event bus, not type-graphql topics');
      },
    },
  });
}

/** The SDL committed as schema/schema.graphql: sorted, so the diff shows real changes only. */
export function printSortedSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
