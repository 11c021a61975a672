import { spawn } from 'node:child_process';
import { access, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirLockedError, type LockOwner } from '../../src/db/data-dir-lock.js';
import { makeDataset, tempDir, writeDataset } from '../helpers/files.js';
import {
  bearer,
  freePort,
  type GatewayProcess,
  startCli,
  waitForAdminKey,
  waitForExit,
  waitForReady,
} from '../helpers/processes.js';

const root = new URL('../..', import.meta.url).pathname;

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const readOwner = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as LockOwner;

/** The pid of a process that has exited (and been reaped): nobody runs under it now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  expect(child.pid).toBeGreaterThan(0);
  return child.pid as number;
}

function staleOwner(pid: number): LockOwner {
  return { pid, command: 'serve', startedAt: '2020-01-01T00:00:00.000Z', hostname: hostname(), token: 'old' };
}

describe('the data directory lock', () => {
  const dirs: { cleanup: () => Promise<void> }[] = [];
  const dir = async () => {
    const made = await tempDir('rebeca-lock-');
    dirs.push(made);
    return made.path;
  };
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((made) => made.cleanup()));
  });

  it('refuses a second acquire in the same process, and allows it after release', async () => {
    const dataDir = await dir();
    const first = await acquireDataDirLock(dataDir, { command: 'serve' });
    const second = acquireDataDirLock(dataDir, { command: 'import --dir x' });
    await expect(second).rejects.toBeInstanceOf(DataDirLockedError);
    await expect(second).rejects.toThrow(/is already open in this process/);
    await first.release();
    const third = await acquireDataDirLock(dataDir);
    expect(third.owner.token).not.toBe(first.owner.token);
    await third.release();
  });

  it('writes who holds it, and release deletes the file', async () => {
    const dataDir = await dir();
    const lock = await acquireDataDirLock(dataDir, { command: 'export --out x' });
    expect(lock.path).toBe(join(dataDir, 'pglite.lock'));
    expect(await readOwner(lock.path)).toMatchObject({
      pid: process.pid,
      command: 'export --out x',
      hostname: hostname(),
    });
    await lock.release();
    expect(await exists(lock.path)).toBe(false);
    await lock.release(); // twice is harmless
  });

  it('takes over a stale lock whose process is gone (kill -9)', async () => {
    const dataDir = await dir();
    const lockPath = join(dataDir, 'pglite.lock');
    const pid = await deadPid();
    await writeFile(lockPath, JSON.stringify(staleOwner(pid)));
    const lock = await acquireDataDirLock(dataDir, { command: 'serve' });
    expect(await readOwner(lockPath)).toMatchObject({ pid: process.pid, token: lock.owner.token });
    await lock.release();
    expect(await exists(lockPath)).toBe(false);
  });

  it('refuses a lock held by a live process, naming it', async () => {
    const dataDir = await dir();
    // A live process that is not this one: the parent (vitest's main process).
    await writeFile(join(dataDir, 'pglite.lock'), JSON.stringify({ ...staleOwner(process.ppid) }));
    const attempt = acquireDataDirLock(dataDir, { command: 'import --dir d' });
    await expect(attempt).rejects.toBeInstanceOf(DataDirLockedError);
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `^DATA_DIR ${escape(dataDir)} is in use by process ${process.ppid} \\(serve, since 2020-01-01T00:00:00.000Z\\): ` +
          'the embedded database has one owner\\. Stop that process and run import again, or send the data ' +
          'through its GraphQL API',
      ),
    );
    expect((await readOwner(join(dataDir, 'pglite.lock'))).pid).toBe(process.ppid);
  });

  it('release leaves a lock file that another owner has replaced', async () => {
    const dataDir = await dir();
    const lock = await acquireDataDirLock(dataDir);
    const other = JSON.stringify({ ...staleOwner(process.ppid), token: 'theirs' });
    await writeFile(lock.path, other);
    await lock.release();
    expect(await readFile(lock.path, 'utf8')).toBe(other);
  });

  it('of several processes racing over a stale lock, exactly one wins', async () => {
    const dataDir = await dir();
    await writeFile(join(dataDir, 'pglite.lock'), JSON.stringify(staleOwner(await deadPid())));
    // Each imports the module, says ready, acquires on "go", prints the outcome; the winner holds on.
    const script = [
      "const { acquireDataDirLock } = await import('./src/db/data-dir-lock.ts');",
      "process.stdout.write('ready\\n');",
      "process.stdin.once('data', async () => {",
      "  try { await acquireDataDirLock(process.env.LOCK_DIR, { command: 'race' }); console.log('won'); }",
      "  catch (error) { console.log(error.name === 'DataDirLockedError' ? 'refused' : `error ${error}`); }",
      '});',
      "process.stdin.once('end', () => process.exit(0));",
    ].join('\n');
    const racers = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: root,
        env: { ...process.env, LOCK_DIR: dataDir },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      return { child, output: () => output };
    });
    const until = async (test: () => boolean) => {
      const deadline = Date.now() + 30_000;
      while (!test()) {
        if (Date.now() > deadline) throw new Error(racers.map((racer) => racer.output()).join('|'));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    try {
      await until(() => racers.every((racer) => racer.output().includes('ready')));
      for (const racer of racers) racer.child.stdin.write('go\n');
      await until(() => racers.every((racer) => /won|refused|error/.test(racer.output())));
      const outcomes = racers.map((racer) => racer.output().replace('ready\n', '').trim()).sort();
      expect(outcomes).toEqual(['refused', 'refused', 'refused', 'won']);
      const winner = racers.find((racer) => racer.output().includes('won'));
      expect((await readOwner(join(dataDir, 'pglite.lock'))).pid).toBe(winner?.child.pid);
    } finally {
      for (const racer of racers) racer.child.stdin.end();
      await Promise.all(
        racers.map(
          (racer) =>
            racer.child.exitCode ?? new Promise((resolve) => racer.child.once('exit', () => resolve(null))),
        ),
      );
    }
  }, 60_000);
});

/** Issue 14: a CLI beside `serve` on one DATA_DIR opened a second PGlite and writes were lost. */
describe('serve and the CLI on one DATA_DIR', () => {
  let dataDir: { path: string; cleanup: () => Promise<void> };
  let datasetDir: { path: string; cleanup: () => Promise<void> };
  let server: GatewayProcess | undefined;
  let port: number;
  /** The admin key the first start printed (the data directory is new); later starts print none. */
  let key: string | undefined;
  const lockPath = () => join(dataDir.path, 'pglite.lock');
  // No DATABASE_URL or REDIS_URL from the environment: this is about the embedded database, served
  // with authentication on as by default.
  const unset = ['DATABASE_URL', 'REDIS_URL', 'MODEL_DIR', 'AUTH_DISABLED'];
  const env = () => ({ DATA_DIR: dataDir.path, LOG_LEVEL: 'warn' });

  async function startServer(): Promise<GatewayProcess> {
    port = await freePort();
    const started = startCli(['serve', '--host', '127.0.0.1'], { ...env(), PORT: String(port) }, { unset });
    server = started;
    await waitForReady(`http://127.0.0.1:${port}/readyz`, started, 90_000);
    if (key === undefined) key = await waitForAdminKey(started);
    return started;
  }

  async function graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(key as string) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    return body.data as T;
  }

  const catalogState = () =>
    graphql<{
      items: { totalCount: number };
      imported: { id: string } | null;
      user: {
        ratingCount: number;
        ratings: { edges: { node: { score: number; item: { id: string } } }[] };
      } | null;
    }>(
      `
        query State($user: ID!) {
          items(first: 1) {
            totalCount
          }
          imported: item(id: "img_0000.jpg") {
            id
          }
          user(id: $user) {
            ratingCount
            ratings(first: 5) {
              edges {
                node {
                  score
                  item {
                    id
                  }
                }
              }
            }
          }
        }
      `,
      { user: 'lock-witness' },
    );

  beforeAll(async () => {
    dataDir = await tempDir('rebeca-lock-serve-');
    datasetDir = await tempDir('rebeca-lock-dataset-');
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await dataDir?.cleanup();
    await datasetDir?.cleanup();
  });

  it('refuses import and export while serve runs, loses nothing, and survives kill -9', async () => {
    const first = await startServer();
    expect(await readOwner(lockPath())).toMatchObject({
      pid: first.child.pid,
      command: expect.stringMatching(/^serve/),
    });

    // A write the server acknowledges before the CLI tries.
    const some = await graphql<{
      items: { totalCount: number; edges: { node: { id: string; embedding: number[] } }[] };
    }>('{ items(first: 1) { totalCount edges { node { id embedding } } } }');
    const item = some.items.edges[0]?.node.id as string;
    expect(some.items.totalCount).toBeGreaterThan(0);
    // A dataset the CLI could import into this catalog (same embedding width), were it allowed to.
    const dim = some.items.edges[0]?.node.embedding.length ?? 0;
    await writeDataset(datasetDir.path, makeDataset(20, dim, 3, 5));
    await graphql('mutation { createUser(id: "lock-witness") { id } }');
    await graphql(
      'mutation Rate($item: ID!) { rateItem(user: "lock-witness", item: $item, score: 5) { score } }',
      {
        item,
      },
    );

    const cliImport = startCli(['import', '--dir', datasetDir.path], env(), { unset });
    expect(await waitForExit(cliImport)).toEqual({ code: 1, signal: null });
    expect(cliImport.output()).toMatch(
      new RegExp(
        `import failed: DATA_DIR ${escape(dataDir.path)} is in use by process ${first.child.pid} \\(serve[^,]*, since [-0-9T:.Z]+\\): ` +
          'the embedded database has one owner\\.',
      ),
    );
    expect(cliImport.output()).not.toMatch(/written/);
    const snapshot = join(datasetDir.path, 'snapshot');
    const cliExport = startCli(['export', '--out', snapshot], env(), { unset });
    expect((await waitForExit(cliExport)).code).toBe(1);
    expect(cliExport.output()).toMatch(/export failed: DATA_DIR .* is in use by process \d+ \(serve/);
    expect(await exists(snapshot)).toBe(false);
    // The refused commands left the server's lock alone, and the server still answers.
    expect((await readOwner(lockPath())).pid).toBe(first.child.pid);
    const before = await catalogState();
    expect(before.imported).toBeNull();

    await first.stop('SIGTERM');
    expect(first.child.exitCode).toBe(0);
    expect(await exists(lockPath())).toBe(false);

    // After a restart: the acknowledged rating is there, nothing of the refused import is.
    const second = await startServer();
    const after = await catalogState();
    expect(after).toEqual(before);
    expect(after.user?.ratingCount).toBe(1);
    expect(after.user?.ratings.edges[0]?.node).toEqual({ score: 5, item: { id: item } });

    // kill -9 leaves the lock behind; the next start takes it over.
    await second.stop('SIGKILL');
    expect((await readOwner(lockPath())).pid).toBe(second.child.pid);
    const third = await startServer();
    expect((await readOwner(lockPath())).pid).toBe(third.child.pid);
    expect(await catalogState()).toEqual(before);
    await third.stop('SIGTERM');
    expect(third.child.exitCode).toBe(0);
    expect(await exists(lockPath())).toBe(false);
  }, 240_000);
});
