import {
  defaultFieldResolver,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { ForbiddenError, UnauthenticatedError } from '../errors.js';
import { quote } from '../lib/text.js';
import { mayServeUser, type Principal, roleOf } from '../services/access/principal.js';
import { type Role } from '../vocabulary.js';

/** Who may call one root field. */
export interface FieldAccess {
  /** The roles that may call it; nobody without a key may call anything but introspection. */
  roles: readonly Role[];
  /** The argument naming the user it acts for: a client key bound to users may name only those. */
  userArg?: string;
  /** What else decides (ownership), for the README's table. */
  note?: string;
}

const ALL: readonly Role[] = ['client', 'analyst', 'admin'];
const READERS: readonly Role[] = ['analyst', 'admin'];
const SERVING: readonly Role[] = ['client', 'admin'];
const ADMIN: readonly Role[] = ['admin'];
const OWN_JOBS = 'a client key: only jobs it started';

/**
 * The access table: every root field of the schema, by its coordinate. `guardAccess` refuses to start
 * when a root field is missing, so a new field cannot ship open; the README's table is this one
 * (tests/e2e/access.test.ts checks both, under every role and no key, over HTTP and WebSocket).
 * Access is decided at the root: every object below it is within what the root allowed (the user the
 * key serves, the job it owns, the catalog everyone reads).
 */
export const ACCESS_TABLE = {
  'Query.apiKeys': { roles: ADMIN },
  'Query.evaluationReport': { roles: READERS },
  'Query.evaluationReports': { roles: READERS },
  'Query.generationJob': { roles: ALL, note: OWN_JOBS },
  'Query.item': { roles: ALL },
  'Query.items': { roles: ALL },
  'Query.modelVersions': { roles: READERS },
  'Query.recommend': {
    roles: ALL,
    userArg: 'user',
    note: "an analyst's call never starts the pool's generation job",
  },
  'Query.user': { roles: ALL, userArg: 'id' },
  'Query.users': { roles: READERS },
  'Query.verifierScores': { roles: READERS },
  'Mutation.cancelGeneration': { roles: SERVING, note: OWN_JOBS },
  'Mutation.createApiKey': { roles: ADMIN },
  'Mutation.createUser': { roles: SERVING, userArg: 'id' },
  'Mutation.generate': { roles: SERVING, userArg: 'user', note: 'at most 32 unfinished jobs per key' },
  'Mutation.rateItem': { roles: SERVING, userArg: 'user' },
  'Mutation.revokeApiKey': { roles: ADMIN },
  'Mutation.runEvaluation': { roles: READERS },
  'Mutation.upsertItems': { roles: ADMIN, note: 'the first import sets the catalog embedding width' },
  'Subscription.evaluationProgress': { roles: READERS },
  'Subscription.generationProgress': { roles: ALL, note: OWN_JOBS },
} as const satisfies Record<string, FieldAccess>;

export type AccessTable = Readonly<Record<string, FieldAccess>>;

/** How an operation arrived: mutations over WebSocket are refused unless configured. */
export type Transport = 'http' | 'ws';

/** What the access guard reads from every operation's context. */
export interface AccessContext {
  principal: Principal;
  transport: Transport;
}

/** Options of {@link guardAccess}. */
export interface AccessOptions {
  /** Let mutations run over WebSocket (WS_MUTATIONS); off, they fail with FORBIDDEN and run over HTTP. */
  webSocketMutations: boolean;
}

const ROLE_NAMES: Record<Role, string> = { client: 'a client', analyst: 'an analyst', admin: 'an admin' };

function describeRoles(roles: readonly Role[]): string {
  const names = roles.map((role) => ROLE_NAMES[role]);
  return names.length === 1 ? `${names[0]} key` : `${names.slice(0, -1).join(', ')} or ${names.at(-1)} key`;
}

/** Throw UNAUTHENTICATED or FORBIDDEN unless the principal may call this root field with these args. */
export function checkAccess(
  coordinate: string,
  access: FieldAccess,
  context: AccessContext,
  args: Record<string, unknown>,
  options: AccessOptions,
): void {
  const { principal } = context;
  if (principal.kind === 'anonymous') {
    const how =
      context.transport === 'ws'
        ? 'send {"authorization": "Bearer <key>"} in the connection payload'
        : 'send the header Authorization: Bearer <key>';
    throw new UnauthenticatedError(`${principal.problem}: ${how}`);
  }
  const role = roleOf(principal);
  if (role === null || !access.roles.includes(role)) {
    throw new ForbiddenError(
      `${coordinate} needs ${describeRoles(access.roles)}; this is ${ROLE_NAMES[role ?? 'client']} key`,
    );
  }
  if (context.transport === 'ws' && coordinate.startsWith('Mutation.') && !options.webSocketMutations) {
    throw new ForbiddenError(
      'mutations over WebSocket are off on this gateway (WS_MUTATIONS); send them over HTTP',
    );
  }
  if (access.userArg !== undefined) {
    const user = args[access.userArg];
    if (typeof user === 'string' && !mayServeUser(principal, user)) {
      throw new ForbiddenError(`this key does not serve user ${quote(user)}`);
    }
  }
}

function guarded(
  resolve: GraphQLFieldResolver<unknown, unknown>,
  coordinate: string,
  access: FieldAccess,
  options: AccessOptions,
): GraphQLFieldResolver<unknown, unknown> {
  return (source, args, context, info) => {
    checkAccess(coordinate, access, context as AccessContext, args, options);
    return resolve(source, args, context, info);
  };
}

/**
 * Put the access table in front of every root field (queries, mutations, and the subscribe step of
 * subscriptions), on both transports. Throws when a root field has no entry: access is never left to a
 * default. Changes the schema in place and returns it.
 */
export function guardAccess(
  schema: GraphQLSchema,
  options: AccessOptions,
  table: AccessTable = ACCESS_TABLE,
): GraphQLSchema {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(
    (type): type is GraphQLObjectType => type != null,
  );
  const fields = roots.flatMap((type) =>
    Object.values(type.getFields()).map((field) => ({ coordinate: `${type.name}.${field.name}`, field })),
  );
  const missing = fields.filter(({ coordinate }) => table[coordinate] === undefined);
  if (missing.length > 0) {
    throw new Error(
      `no access rule for ${missing.map(({ coordinate }) => coordinate).join(', ')} (server/access.ts)`,
    );
  }
  const known = new Set(fields.map(({ coordinate }) => coordinate));
  const extra = Object.keys(table).filter((coordinate) => !known.has(coordinate));
  if (extra.length > 0) throw new Error(`access rules for fields the schema lacks: ${extra.join(', ')}`);
  for (const { coordinate, field } of fields) {
    const access = table[coordinate] as FieldAccess;
    // A subscription is checked when it subscribes, and at its resolver too: sent over HTTP it runs as a
    // query, and the answer to a caller without a key must not depend on the transport.
    if (field.subscribe !== undefined)
      field.subscribe = guarded(field.subscribe, coordinate, access, options);
    field.resolve = guarded(field.resolve ?? defaultFieldResolver, coordinate, access, options);
  }
  return schema;
}

/** The access table as the README shows it (tests/e2e/access.test.ts checks the README holds exactly this). */
export function accessTableMarkdown(table: AccessTable = ACCESS_TABLE): string {
  const mark = (access: FieldAccess, role: Role) => (access.roles.includes(role) ? 'yes' : '—');
  const rows = Object.entries(table)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([coordinate, access]) => {
      const notes = [
        access.userArg === undefined
          ? null
          : `a client key bound to users: only those (\`${access.userArg}\`)`,
        access.note ?? null,
      ].filter((note): note is string => note !== null);
      return `| \`${coordinate}\` | ${mark(access, 'client')} | ${mark(access, 'analyst')} | ${mark(access, 'admin')} | ${notes.join('; ')} |`;
    });
  return [
    '| Field | client | analyst | admin | Also |',
    '| ----- | ------ | ------- | ----- | ---- |',
    ...rows,
  ].join('\n');
}
