import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { ItemResolver } from './item.resolver.js';
import { RatingResolver } from './rating.resolver.js';
import { UserResolver } from './user.resolver.js';

export const resolvers = [UserResolver, ItemResolver, RatingResolver] as const;

/** Build the executable schema from the resolver classes. */
export function buildGatewaySchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers, validate: false });
}

/** The SDL committed as schema/schema.graphql: sorted, so the diff shows real changes only. */
export function printSortedSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
