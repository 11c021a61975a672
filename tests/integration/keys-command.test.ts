import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { testDatabases } from '../helpers/databases.js';
import { tempDir } from '../helpers/files.js';
import { SERVED_ACCESS, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { API_KEY_PATTERN, startCli, waitForExit } from '../helpers/processes.js';

/** `npm run cli -- keys ...` as a real process on an embedded database: create, list, revoke, refuse. */
describe('the keys command', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const env = () => ({ DATA_DIR: dir.path, LOG_LEVEL: 'warn' });
  const unset = ['DATABASE_URL', 'AUTH_DISABLED'];
  async function cli(...args: string[]) {
    const run = startCli(['keys', ...args], env(), { unset });
    const exit = await waitForExit(run);
    return { code: exit.code, output: run.output() };
  }

  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => {
    await dir?.cleanup();
  });

  it('creates a key shown once, lists it without the key, and revokes it', async () => {
    const created = await cli('create', '--role', 'client', '--name', 'web', '--users', 'u-1,u-2', '--json');
    expect(created.code).toBe(0);
    const key = JSON.parse(created.output) as { key: string; id: string; role: string; users: string[] };
    expect(key.key).toMatch(new RegExp(`^${API_KEY_PATTERN.source}$`));
    expect(key).toMatchObject({ role: 'client', users: ['u-1', 'u-2'] });

    const listed = await cli('list', '--json');
    expect(listed.code).toBe(0);
    expect(listed.output).not.toContain(key.key);
    expect(JSON.parse(listed.output)).toEqual([expect.objectContaining({ id: key.id, revokedAt: null })]);

    const revoked = await cli('revoke', '--id', key.id);
    expect(revoked.code).toBe(0);
    expect(revoked.output).toMatch(/^Revoked client key/);
    expect(JSON.parse((await cli('list', '--json')).output)[0].revokedAt).toEqual(expect.any(String));
  }, 60_000);

  it('refuses bad requests with their reason and exit status', async () => {
    expect(await cli('create', '--role', 'root', '--name', 'x')).toMatchObject({
      code: 2,
      output: expect.stringMatching(/--role must be one of client, analyst, admin/),
    });
    expect(await cli('create', '--role', 'analyst', '--name', 'x', '--users', 'a')).toMatchObject({
      code: 1,
      output: expect.stringMatching(/only client keys are bound to users/),
    });
    expect(await cli('revoke', '--id', '00000000-0000-0000-0000-000000000000')).toMatchObject({
      code: 1,
      output: expect.stringMatching(/does not exist/),
    });
    expect((await cli('rotate')).code).toBe(2);
  }, 60_000);

  describe('through a running gateway (--gateway, GATEWAY_API_KEY)', () => {
    let database: DatabaseHandle;
    let gateway: TestGateway;
    let admin: string;
    async function viaGateway(key: string | undefined, ...args: string[]) {
      const run = startCli(
        args,
        { LOG_LEVEL: 'warn', ...(key === undefined ? {} : { GATEWAY_API_KEY: key }) },
        {
          unset: ['GATEWAY_API_KEY'],
        },
      );
      const exit = await waitForExit(run);
      return { code: exit.code, output: run.output() };
    }

    beforeAll(async () => {
      database = await testDatabases[0]!.open();
      gateway = await startTestGateway(database, {}, { gateway: SERVED_ACCESS });
      admin = (await gateway.services.apiKeys.create({ name: 'ops', role: 'admin' })).key;
    });
    afterAll(async () => {
      await gateway?.stop();
      await database?.close();
    });

    it('creates, lists and revokes keys as the admin key it sends, and names what is missing', async () => {
      const created = await viaGateway(
        admin,
        'keys',
        'create',
        '--role',
        'analyst',
        '--name',
        'notebook',
        '--json',
        '--gateway',
        gateway.url,
      );
      expect(created.code).toBe(0);
      const key = JSON.parse(created.output) as { key: string; id: string; role: string };
      expect(key.role).toBe('analyst');
      expect((await gateway.services.apiKeys.authenticate(key.key)).kind).toBe('key');
      const listed = await viaGateway(admin, 'keys', 'list', '--json', '--gateway', gateway.url);
      expect(JSON.parse(listed.output)).toEqual(
        expect.arrayContaining([expect.objectContaining({ id: key.id, role: 'analyst', revokedAt: null })]),
      );
      expect((await viaGateway(admin, 'keys', 'revoke', '--id', key.id, '--gateway', gateway.url)).code).toBe(
        0,
      );
      expect((await gateway.services.apiKeys.authenticate(key.key)).kind).toBe('anonymous');
      expect(await viaGateway(undefined, 'keys', 'list', '--gateway', gateway.url)).toMatchObject({
        code: 2,
        output: expect.stringMatching(/GATEWAY_API_KEY/),
      });
      // evaluate --gateway sends the key too: a client key is refused by its role, not as missing.
      const client = (await gateway.services.apiKeys.create({ name: 'frontend', role: 'client' })).key;
      expect(await viaGateway(client, 'evaluate', '--gateway', gateway.url)).toMatchObject({
        code: 1,
        output: expect.stringMatching(
          /Mutation\.runEvaluation needs an analyst or an admin key; this is a client key/,
        ),
      });
    }, 90_000);
  });
});
