import {
  defaultFieldResolver,
  type GraphQLArgument,
  type GraphQLFieldResolver,
  type GraphQLInputType,
  type GraphQLSchema,
  getNamedType,
  GraphQLID,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import { BadUserInputError, QueryTimeoutError } from '../errors.js';
import { externalIdProblem } from '../services/users.service.js';

/** What the guard reads from the context of every operation. */
interface GuardedContext {
  /** Aborted when the operation's time is up or its client left. */
  signal?: AbortSignal;
  /** When the operation's time is up (ms since the epoch). */
  deadline?: number;
}

/** Whether values of this input type can hold an ID somewhere. */
function holdsId(type: GraphQLInputType, seen = new Set<string>()): boolean {
  const named = getNamedType(type);
  if (named === GraphQLID) return true;
  if (!isInputObjectType(named) || seen.has(named.name)) return false;
  seen.add(named.name);
  return Object.values(named.getFields()).some((field) => holdsId(field.type, seen));
}

/** Throw BAD_USER_INPUT for the first ID in `value` (of `type`) that no id could be; never echoes it. */
function checkIds(type: GraphQLInputType, value: unknown, path: string): void {
  if (value === null || value === undefined) return;
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) {
    if (!Array.isArray(value)) return checkIds(inner.ofType, value, path);
    value.forEach((entry, index) => checkIds(inner.ofType, entry, `${path}[${index}]`));
    return;
  }
  if (inner === GraphQLID) {
    const problem = externalIdProblem(String(value));
    if (problem !== null) throw new BadUserInputError(`${path}: an id ${problem}`);
    return;
  }
  if (isInputObjectType(inner) && typeof value === 'object') {
    for (const field of Object.values(inner.getFields())) {
      if (holdsId(field.type))
        checkIds(field.type, (value as Record<string, unknown>)[field.name], `${path}.${field.name}`);
    }
  }
}

function reasonOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : 'the operation was stopped';
}

function guard(
  resolve: GraphQLFieldResolver<unknown, unknown>,
  idArgs: readonly GraphQLArgument[],
  coordinate: string,
): GraphQLFieldResolver<unknown, unknown> {
  return (source, args, context, info) => {
    const { signal, deadline } = (context as GuardedContext | undefined) ?? {};
    if (signal?.aborted) throw new QueryTimeoutError(reasonOf(signal.reason));
    if (deadline !== undefined && Date.now() > deadline)
      throw new QueryTimeoutError('the operation ran out of time');
    for (const arg of idArgs) checkIds(arg.type, args[arg.name], `${coordinate}(${arg.name})`);
    return resolve(source, args, context, info);
  };
}

/**
 * Make every resolver of the schema (on HTTP and WebSocket alike) stop once its operation is aborted (a
 * timeout, or the client left): the fields not yet started fail with QUERY_TIMEOUT instead of running.
 * And check every ID argument, at every lookup, by the rule ids are created with (BAD_USER_INPUT), so a
 * 1 MiB or NUL-laden id never reaches the database, a log line or an error message. Fields resolved by
 * reading a property are left alone: they cost nothing. Changes the schema in place and returns it.
 */
export function guardSchema(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const idArgs = field.args.filter((arg) => holdsId(arg.type));
      const coordinate = `${type.name}.${field.name}`;
      if (field.resolve !== undefined || idArgs.length > 0)
        field.resolve = guard(field.resolve ?? defaultFieldResolver, idArgs, coordinate);
      if (field.subscribe !== undefined && idArgs.length > 0)
        field.subscribe = guard(field.subscribe, idArgs, coordinate);
    }
  }
  return schema;
}
