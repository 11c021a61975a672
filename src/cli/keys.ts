import { type Config } from '../config.js';
import { openConfiguredDatabase } from '../db/client.js';
import { type ApiKeyRecord } from '../records.js';
import { ApiKeyService } from '../services/access/api-keys.service.js';
import { ROLES, type Role } from '../vocabulary.js';
import { type CliCommand, parseFlags, requireFlag, UsageError } from './command.js';
import { postToGateway } from './gateway-client.js';

/** What the command shows of a key (its hash never; the key itself only when created). */
interface KeyListing {
  id: string;
  name: string;
  role: string;
  prefix: string;
  users: string[] | null;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

function listing(record: ApiKeyRecord): KeyListing {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    prefix: record.keyPrefix,
    users: record.users,
    createdAt: record.createdAt.toISOString(),
    revokedAt: record.revokedAt?.toISOString() ?? null,
    lastUsedAt: record.lastUsedAt?.toISOString() ?? null,
  };
}

function printTable(keys: KeyListing[]): void {
  if (keys.length === 0) {
    console.log('No API keys.');
    return;
  }
  for (const key of keys) {
    const users = key.users === null ? 'any user' : `users ${key.users.join(',')}`;
    const used = key.lastUsedAt === null ? 'never used' : `last used ${key.lastUsedAt}`;
    const state = key.revokedAt === null ? `active, ${used}` : `revoked ${key.revokedAt}`;
    console.log(`${key.id}  ${key.role.padEnd(7)}  ${key.prefix}…  ${key.name}  (${users}; ${state})`);
  }
}

const KEY_FIELDS = 'id name role prefix users createdAt revokedAt lastUsedAt';

/** The same operations through a running gateway's GraphQL API, as an admin (GATEWAY_API_KEY). */
async function viaGateway(url: string, apiKey: string | undefined, query: string, variables = {}) {
  if (apiKey === undefined)
    throw new UsageError('--gateway needs GATEWAY_API_KEY (an admin key) in the environment');
  return postToGateway(url, apiKey, query, variables);
}

function fromApi(key: Record<string, unknown>): KeyListing {
  return { ...(key as unknown as KeyListing), role: String(key.role).toLowerCase() };
}

async function withService<T>(config: Config, work: (keys: ApiKeyService) => Promise<T>): Promise<T> {
  const database = await openConfiguredDatabase(config);
  try {
    return await work(new ApiKeyService(database.db));
  } finally {
    await database.close();
  }
}

export const keysCommand: CliCommand = {
  name: 'keys',
  summary: 'Create, list and revoke API keys (only a hash is stored; a key is shown once).',
  help: [
    'Subcommands:',
    '  keys create --role R --name N [--users a,b,c]   R: client, analyst or admin; --users binds a',
    '                                                 client key to those users (default: any user)',
    '  keys list',
    '  keys revoke --id ID                            running gateways stop accepting it within 10 s',
    'Flags:',
    '  --gateway URL   work through a running gateway (its /graphql URL) with GATEWAY_API_KEY, an',
    '                  admin key; needed beside `npm start` with the embedded database',
    '  --json          print JSON',
  ].join('\n'),
  async run(argv, config) {
    const [action, ...rest] = argv;
    const flags = parseFlags(rest, {
      role: { type: 'string' },
      name: { type: 'string' },
      users: { type: 'string' },
      id: { type: 'string' },
      gateway: { type: 'string' },
      json: { type: 'boolean' },
    });
    const print = (value: KeyListing[] | (KeyListing & { key?: string })) => {
      if (flags.json === true) console.log(JSON.stringify(value, null, 2));
      else if (Array.isArray(value)) printTable(value);
    };
    const gateway = flags.gateway;
    switch (action) {
      case 'create': {
        const role = requireFlag(flags.role, 'role') as Role;
        if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
        const name = requireFlag(flags.name, 'name');
        const users = flags.users === undefined ? null : flags.users.split(',').map((user) => user.trim());
        const created =
          gateway === undefined
            ? await withService(config, async (keys) => {
                const { key, record } = await keys.create({ name, role, users });
                return { key, ...listing(record) };
              })
            : await (async () => {
                const data = await viaGateway(
                  gateway,
                  config.GATEWAY_API_KEY,
                  `mutation Create($input: ApiKeyInput!) { createApiKey(input: $input) { key apiKey { ${KEY_FIELDS} } } }`,
                  { input: { name, role: role.toUpperCase(), users } },
                );
                const answer = data.createApiKey as { key: string; apiKey: Record<string, unknown> };
                return { key: answer.key, ...fromApi(answer.apiKey) };
              })();
        if (flags.json === true) print(created);
        else {
          console.log(
            `Created ${created.role} key ${created.id} (${created.name}). It is shown this once:\n`,
          );
          console.log(`  ${created.key}\n`);
          console.log('Send it as the header `Authorization: Bearer <key>`, or in the graphql-ws payload.');
        }
        return;
      }
      case 'list': {
        const keys =
          gateway === undefined
            ? await withService(config, async (service) => (await service.list()).map(listing))
            : (
                (await viaGateway(gateway, config.GATEWAY_API_KEY, `{ apiKeys { ${KEY_FIELDS} } }`))
                  .apiKeys as Record<string, unknown>[]
              ).map(fromApi);
        print(keys);
        return;
      }
      case 'revoke': {
        const id = requireFlag(flags.id, 'id');
        const revoked =
          gateway === undefined
            ? await withService(config, async (keys) => listing(await keys.revoke(id)))
            : fromApi(
                (
                  await viaGateway(
                    gateway,
                    config.GATEWAY_API_KEY,
                    `mutation Revoke($id: ID!) { revokeApiKey(id: $id) { ${KEY_FIELDS} } }`,
                    { id },
                  )
                ).revokeApiKey as Record<string, unknown>,
              );
        if (flags.json === true) print(revoked);
        else
          console.log(`Revoked ${revoked.role} key ${revoked.id} (${revoked.name}) at ${revoked.revokedAt}.`);
        return;
      }
      default:
        throw new UsageError(
          action === undefined ? 'name a subcommand: create, list or revoke' : `unknown subcommand ${action}`,
        );
    }
  },
};
