import { type ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  type DocumentNode,
  type ExecutionArgs,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  parse,
  specifiedRules,
  type ValidationContext,
  type ValidationRule,
  validate,
} from 'graphql';
import { type ComplexityEstimatorArgs, getComplexity } from 'graphql-query-complexity';
import {
  MAX_QUERY_ALIASES,
  MAX_QUERY_COST,
  MAX_QUERY_DEPTH,
  MAX_QUERY_DIRECTIVES,
  MAX_QUERY_TOKENS,
  MAX_ITEMS_PER_UPSERT,
  MAX_PAGE_SIZE,
} from '../limits.js';

/**
 * What one GraphQL operation may ask for, on HTTP and WebSocket alike: tokens by graphql-js's parser
 * (GRAPHQL_PARSE_FAILED), depth, aliases and directives by graphql-armor's rules; cost by graphql-query-complexity with the request's variables (armor's
 * own cost rule reads only literal `first:` values, so `first: $n` would slip past it). A refusal is
 * GRAPHQL_VALIDATION_FAILED (HTTP 400) with `extensions.limit` naming the limit.
 */

/** A refusal by a limit: a validation failure (status 400) naming the limit, on both transports. */
function limitError(limit: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit } });
}

/** Armor reports through the validation context; we re-word its messages and name the limit. */
function reportAs(limit: string) {
  return (context: ValidationContext | null, error: GraphQLError) => {
    context?.reportError(limitError(limit, error.message.replace(/^Syntax Error: /, '')));
  };
}

const armor = new ApolloArmor({
  // Cost is ours (see queryCost); armor's would double-count and ignore variables.
  costLimit: { enabled: false },
  maxDepth: { n: MAX_QUERY_DEPTH, propagateOnRejection: false, onReject: [reportAs('depth')] },
  maxAliases: { n: MAX_QUERY_ALIASES, propagateOnRejection: false, onReject: [reportAs('aliases')] },
  maxDirectives: {
    n: MAX_QUERY_DIRECTIVES,
    propagateOnRejection: false,
    onReject: [reportAs('directives')],
  },
  // Tokens are counted by graphql-js's own parser (`maxTokens`), on both transports.
  maxTokens: { enabled: false },
  blockFieldSuggestion: { enabled: true },
});
const protection = armor.protect();

/** graphql-js parse options of both transports. */
export const PARSE_OPTIONS = { maxTokens: MAX_QUERY_TOKENS } as const;

/** The validation rules of the limits (depth, aliases, directives), for graphql-js `validate`. */
export const limitValidationRules: readonly ValidationRule[] = protection.validationRules;

/**
 * Work a field stands for beyond its own resolution, in cost units (one unit: one object resolved).
 * ML fields scan the whole catalog; `image` may decode; `generate` starts a job.
 */
const FIELD_WEIGHT: Record<string, number> = {
  'Query.recommend': 100,
  'Query.verifierScores': 20,
  'GeneratedItem.nearestItems': 50,
  'GeneratedItem.image': 20,
  'Item.image': 20,
  'Mutation.generate': 100,
  'Mutation.runEvaluation': 100,
  'EvaluationReport.charts': 20,
  'Mutation.rateItem': 5,
  'Mutation.createUser': 5,
};

/**
 * Arguments that say how many entries a list field returns. A size over every list's own maximum is
 * counted at that maximum: the field itself refuses it, with a message that says so.
 */
function listSize(args: Record<string, unknown>): number | undefined {
  for (const name of ['first', 'count']) {
    const value = args[name];
    if (typeof value === 'number' && Number.isFinite(value))
      return Math.min(Math.max(1, value), MAX_PAGE_SIZE);
  }
  for (const name of ['items']) {
    const value = args[name];
    if (Array.isArray(value)) return Math.max(1, value.length);
  }
  return undefined;
}

/**
 * Lists of objects without a size argument, and how many entries they are counted as. The others
 * (connection edges, a recommendation's items) are sized by the field above them, already counted.
 */
const UNSIZED_LISTS: Record<string, number> = {
  'GenerationJob.items': 16,
  'Query.modelVersions': 16,
};

/**
 * Written items cost this much each, so one request holds about MAX_ITEMS_PER_UPSERT of them whichever
 * way it splits them: aliases cannot multiply the per-call cap.
 */
const WRITTEN_ITEM_COST = Math.floor(MAX_QUERY_COST / (MAX_ITEMS_PER_UPSERT + 25));

function estimate({ type, field, args, childComplexity }: ComplexityEstimatorArgs): number {
  const coordinate = `${type.name}.${field.name}`;
  if (coordinate === 'Mutation.upsertItems') return 1 + WRITTEN_ITEM_COST * (listSize(args) ?? 1);
  const own = 1 + (FIELD_WEIGHT[coordinate] ?? 0);
  // Connections and sized lists multiply what each entry costs.
  const size = listSize(args) ?? UNSIZED_LISTS[coordinate] ?? 1;
  return own + size * childComplexity;
}

/** Cost of the operation with its variables (defaults applied). Throws on variables it cannot read. */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
): number {
  return getComplexity({
    schema,
    query: document,
    variables: variables ?? {},
    ...(operationName === undefined ? {} : { operationName }),
    estimators: [estimate],
  });
}

/** The cost limit's refusal, or undefined when the operation fits. */
export function checkQueryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
): GraphQLError | undefined {
  let cost: number;
  try {
    cost = queryCost(schema, document, variables, operationName);
  } catch {
    // Variables that do not coerce: execution reports them as BAD_USER_INPUT.
    return undefined;
  }
  if (cost <= MAX_QUERY_COST) return undefined;
  return limitError(
    'cost',
    `query cost ${Math.round(cost)} is over the limit of ${MAX_QUERY_COST}: ask for fewer entries (first) or fewer nested lists`,
  );
}

/** Apollo plugins: armor's (no field suggestions) and the cost check. */
export function apolloLimitPlugins<Context extends object>(
  schema: GraphQLSchema,
): ApolloServerPlugin<Context>[] {
  const costPlugin: ApolloServerPlugin<Context> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operationName }) {
          const refused = checkQueryCost(schema, document, request.variables, operationName ?? undefined);
          if (refused !== undefined) {
            throw new GraphQLError(refused.message, {
              extensions: { ...refused.extensions, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
  return [...(protection.plugins as ApolloServerPlugin<Context>[]), costPlugin];
}

/**
 * A graphql-ws subscribe message made ready to run, with the same limits and codes as over HTTP: a
 * syntax error is GRAPHQL_PARSE_FAILED for that operation (never a closed socket), validation errors
 * GRAPHQL_VALIDATION_FAILED, limits and bad variables BAD_USER_INPUT.
 */
export function prepareOperation(
  schema: GraphQLSchema,
  payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null },
):
  | { args: ExecutionArgs; kind: 'query' | 'mutation' | 'subscription'; operation: OperationDefinitionNode }
  | GraphQLError[] {
  let document: DocumentNode;
  try {
    document = parse(payload.query, PARSE_OPTIONS);
  } catch (error) {
    return [new GraphQLError((error as Error).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
  }
  const errors = validate(schema, document, [...specifiedRules, ...limitValidationRules]);
  if (errors.length > 0) {
    return errors.map((error) =>
      typeof error.extensions.code === 'string'
        ? error
        : new GraphQLError(error.message, {
            nodes: error.nodes ?? null,
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          }),
    );
  }
  const operationName = payload.operationName ?? undefined;
  const operation = getOperationAST(document, operationName);
  if (operation === null || operation === undefined) {
    return [
      new GraphQLError('no operation to run: name one with operationName', {
        extensions: { code: 'OPERATION_RESOLUTION_FAILURE' },
      }),
    ];
  }
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], payload.variables ?? {}, {
    maxErrors: 10,
  });
  if (coerced.errors !== undefined) {
    return coerced.errors.map(
      (error) => new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT' } }),
    );
  }
  const refused = checkQueryCost(schema, document, payload.variables ?? undefined, operationName);
  if (refused !== undefined) return [refused];
  return {
    args: {
      schema,
      document,
      variableValues: payload.variables ?? {},
      ...(operationName === undefined ? {} : { operationName }),
    },
    kind: operation.operation,
    operation,
  };
}
