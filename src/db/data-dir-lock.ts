import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';

/**
 * One owner of the embedded database: whichever process opens PGlite on disk holds `DATA_DIR/pglite.lock`.
 * PGlite has no lock of its own, and a second PGlite on the same files loses writes (issue 14).
 *
 * - Acquire: create the file with O_EXCL (`open(path, 'wx')`) holding {@link LockOwner} as JSON.
 * - Held by a live process on this host (`kill(pid, 0)`, EPERM counts as alive), or by a process on
 *   another host (which cannot be checked): refused with {@link DataDirLockedError}.
 * - Stale (its process is gone, e.g. after `kill -9`): removed under a takeover guard
 *   (`pglite.lock.takeover`, also O_EXCL) only if it still holds the very bytes judged stale, then the
 *   O_EXCL create is retried; so of two starters racing over a stale lock exactly one wins.
 * - Release deletes the file only if it still holds this owner's bytes.
 */

export const LOCK_FILE = 'pglite.lock';

/** What the lock file holds. */
export interface LockOwner {
  pid: number;
  /** The owner's command line, without node and the script (`serve --port 4000`). */
  command: string;
  startedAt: string;
  hostname: string;
  /** Random per acquisition: no two locks have the same bytes, even from one pid. */
  token: string;
}

export interface DataDirLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** Delete the lock file if it is still ours; safe to call more than once. */
  release(): Promise<void>;
}

/** How long acquire waits out transient states (a lock file being written, a takeover in progress). */
const ACQUIRE_PATIENCE_MS = 5_000;
/** A lock file still unreadable after this long was left half-written by a crash. */
const UNREADABLE_STALE_MS = 2_000;
/** A takeover guard is held for a few milliseconds; one this old was left by a crash. */
const GUARD_STALE_MS = 10_000;

/** Locks this process holds (or is acquiring), by absolute lock path. */
const held = new Map<string, LockOwner>();

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';

  constructor(
    readonly dataDir: string,
    readonly lockPath: string,
    /** The owner the lock file names; null when it cannot be read. */
    readonly owner: LockOwner | null,
    /** The command that was refused (`import --dir x`). */
    readonly requester: string,
  ) {
    super(lockedMessage(dataDir, lockPath, owner, requester));
  }
}

/** This process's command line for the lock file and messages: `serve --port 4000`, `import --dir d`. */
export function commandSummary(argv: readonly string[] = process.argv): string {
  const args = argv.slice(2).join(' ').trim();
  const text = args !== '' ? args : basename(argv[1] ?? argv[0] ?? 'node');
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/** Take the lock on `dataDir` (created if missing), or throw {@link DataDirLockedError}. */
export async function acquireDataDirLock(
  dataDir: string,
  options: { command?: string } = {},
): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const lockPath = resolve(dataDir, LOCK_FILE);
  const command = options.command ?? commandSummary();
  const already = held.get(lockPath);
  if (already !== undefined) throw new DataDirLockedError(dataDir, lockPath, already, command);
  const owner: LockOwner = {
    pid: process.pid,
    command,
    startedAt: new Date().toISOString(),
    hostname: hostname(),
    token: randomBytes(8).toString('hex'),
  };
  const content = `${JSON.stringify(owner)}\n`;
  // Marked before the first await: a second acquire in this process is refused above, never races.
  held.set(lockPath, owner);
  try {
    await claim(dataDir, lockPath, content, owner, command);
  } catch (error) {
    held.delete(lockPath);
    throw error;
  }
  let released = false;
  return {
    path: lockPath,
    owner,
    async release() {
      if (released) return;
      released = true;
      try {
        if ((await readOrNull(lockPath)) === content) await unlinkIfPresent(lockPath);
      } finally {
        held.delete(lockPath);
      }
    },
  };
}

async function claim(
  dataDir: string,
  lockPath: string,
  content: string,
  me: LockOwner,
  command: string,
): Promise<void> {
  const deadline = Date.now() + ACQUIRE_PATIENCE_MS;
  let lastOwner: LockOwner | null = null;
  for (;;) {
    if (await createExclusive(lockPath, content)) return;
    const found = await readLock(lockPath);
    if (found !== null) {
      lastOwner = found.owner;
      const verdict = judge(found, me);
      if (verdict === 'held') throw new DataDirLockedError(dataDir, lockPath, found.owner, command);
      if (verdict === 'stale' && (await breakStale(lockPath, found.raw))) continue;
    }
    // Gone between create and read, being written, or another starter is taking over: try again shortly.
    if (Date.now() > deadline) throw new DataDirLockedError(dataDir, lockPath, lastOwner, command);
    await sleep(20 + Math.random() * 30);
  }
}

interface FoundLock {
  raw: string;
  owner: LockOwner | null;
  mtimeMs: number;
}

function judge(found: FoundLock, me: LockOwner): 'held' | 'stale' | 'unsure' {
  const owner = found.owner;
  if (owner === null) return Date.now() - found.mtimeMs > UNREADABLE_STALE_MS ? 'stale' : 'unsure';
  // Another host's process cannot be checked from here: never take its lock.
  if (owner.hostname !== me.hostname) return 'held';
  // Our own pid but not our lock (this process holds none, see `held`): a previous process that had the
  // same pid, as a container's pid 1 after a restart.
  if (owner.pid === me.pid) return owner.token === me.token ? 'held' : 'stale';
  return isAlive(owner.pid) ? 'held' : 'stale';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Create the lock file with O_EXCL and our owner record; false if it exists. */
async function createExclusive(lockPath: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlinkIfPresent(lockPath);
    throw error;
  }
  await handle.close();
  return true;
}

/**
 * Remove a stale lock, if it still holds `staleRaw`, under the takeover guard; true if the caller should
 * retry at once, false if it should wait (another process holds the guard).
 */
async function breakStale(lockPath: string, staleRaw: string): Promise<boolean> {
  const guardPath = `${lockPath}.takeover`;
  let guard;
  try {
    guard = await open(guardPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const info = await stat(guardPath).catch(() => null);
    if (info !== null && Date.now() - info.mtimeMs > GUARD_STALE_MS) await unlinkIfPresent(guardPath);
    return false;
  }
  try {
    await guard.writeFile(`${process.pid}\n`);
    // Under the guard nobody else removes the lock, and nobody creates one while it exists: if it still
    // holds the bytes judged stale, it is the same dead owner's lock.
    if ((await readOrNull(lockPath)) === staleRaw) await unlinkIfPresent(lockPath);
  } finally {
    await guard.close();
    await unlinkIfPresent(guardPath);
  }
  return true;
}

async function readLock(lockPath: string): Promise<FoundLock | null> {
  let handle;
  try {
    handle = await open(lockPath, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const [raw, info] = await Promise.all([handle.readFile('utf8'), handle.stat()]);
    return { raw, owner: parseOwner(raw), mtimeMs: info.mtimeMs };
  } finally {
    await handle.close();
  }
}

function parseOwner(raw: string): LockOwner | null {
  try {
    const value = JSON.parse(raw) as Partial<LockOwner> | null;
    if (
      value === null ||
      typeof value !== 'object' ||
      typeof value.pid !== 'number' ||
      !Number.isInteger(value.pid) ||
      value.pid <= 0 ||
      typeof value.hostname !== 'string'
    )
      return null;
    return {
      pid: value.pid,
      hostname: value.hostname,
      command: typeof value.command === 'string' ? value.command : 'unknown command',
      startedAt: typeof value.startedAt === 'string' ? value.startedAt : 'an unknown time',
      token: typeof value.token === 'string' ? value.token : '',
    };
  } catch {
    return null;
  }
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

const SHARE = 'or set DATABASE_URL to share one PostgreSQL database between processes.';

function lockedMessage(
  dataDir: string,
  lockPath: string,
  owner: LockOwner | null,
  requester: string,
): string {
  if (owner === null)
    return (
      `DATA_DIR ${dataDir} is in use: its lock file ${lockPath} cannot be read. ` +
      `If no process uses this DATA_DIR, delete that file.`
    );
  const head = 'the embedded database has one owner.';
  if (owner.hostname !== hostname())
    return (
      `DATA_DIR ${dataDir} is in use by process ${owner.pid} on host ${owner.hostname} ` +
      `(${owner.command}, since ${owner.startedAt}): ${head} Stop that process (if it no longer runs, ` +
      `delete ${join(dataDir, LOCK_FILE)}), ${SHARE}`
    );
  if (owner.pid === process.pid)
    return `DATA_DIR ${dataDir} is already open in this process (since ${owner.startedAt}): ${head} Close it first.`;
  return (
    `DATA_DIR ${dataDir} is in use by process ${owner.pid} (${owner.command}, since ${owner.startedAt}): ` +
    `${head} ${hint(requester, owner)}`
  );
}

/** What to do instead, for the command that was refused. */
function hint(requester: string, owner: LockOwner): string {
  const command = requester.split(' ')[0] ?? '';
  const ownerServes = owner.command.split(' ')[0] === 'serve';
  if (command === 'import' && ownerServes)
    return (
      'Stop that process and run import again, or send the data through its GraphQL API ' +
      `(upsertItems, createUser, rateItem), ${SHARE}`
    );
  if (command === 'serve') return `Stop that process first, or give this one another DATA_DIR, ${SHARE}`;
  if (!['import', 'export', 'train', 'evaluate'].includes(command)) return `Stop that process, ${SHARE}`;
  return ownerServes
    ? `Stop that process (SIGTERM), run ${command}, then start it again, ${SHARE}`
    : `Let that process finish (or stop it), then run ${command} again, ${SHARE}`;
}
