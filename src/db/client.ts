import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { type PgDatabase, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import * as schema from './schema.js';

export { DataDirLockedError } from './data-dir-lock.js';

export type Schema = typeof schema;
/** The drizzle database, whichever driver is underneath. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Options for {@link openDatabase}. */
export interface DatabaseOptions {
  /** PostgreSQL connection string; absent means embedded PGlite. */
  url?: string | undefined;
  /** Folder for PGlite's files; `null` keeps the embedded database in memory (tests). */
  dataDir: string | null;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
  /** Called with every SQL statement drizzle sends (tests count queries with it). */
  onQuery?: (query: string) => void;
}

export interface DatabaseHandle {
  readonly db: Database;
  readonly kind: 'postgres' | 'pglite';
  /** Apply pending migrations; concurrent callers on PostgreSQL are serialised by an advisory lock. */
  migrate(): Promise<void>;
  /**
   * Resolves (with "N of N migrations applied") when the database answers and every migration in
   * `migrations/` is applied; rejects with "unreachable: <reason>" or "N of M migrations applied".
   */
  checkReady(): Promise<string>;
  close(): Promise<void>;
}

// Any fixed 64-bit key: it only has to be the same in every process that migrates this database.
const MIGRATION_LOCK_KEY = 7_276_501_234;

async function expectedMigrationCount(): Promise<number> {
  const journal = JSON.parse(await readFile(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

/** The innermost reason of a (drizzle-wrapped) driver error: its message, else its code. */
function rootReason(error: unknown): string {
  let current = error as { message?: string; code?: string; cause?: unknown } | undefined;
  while (current?.cause instanceof Error) current = current.cause as typeof current;
  return current?.message || current?.code || String(error);
}

async function checkMigrated(db: Database): Promise<string> {
  const expected = await expectedMigrationCount();
  try {
    await db.execute(sql`select 1`);
  } catch (error) {
    throw new Error(`unreachable: ${rootReason(error)}`, { cause: error });
  }
  let applied = 0;
  try {
    const result = await db.execute<{ count: number }>(
      sql`select count(*)::int as count from drizzle.__drizzle_migrations`,
    );
    applied = Number((result as unknown as { rows: { count: number }[] }).rows[0]?.count ?? 0);
  } catch (error) {
    // The database answered a moment ago: a missing journal table means nothing was applied yet.
    const code = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
    if (code !== '42P01' && code !== '3F000')
      throw new Error(`unreachable: ${rootReason(error)}`, { cause: error });
  }
  if (applied < expected) throw new Error(`${applied} of ${expected} migrations applied`);
  return `${applied} of ${expected} migrations applied`;
}

function queryLogger(options: DatabaseOptions) {
  const onQuery = options.onQuery;
  return onQuery === undefined ? {} : { logger: { logQuery: (query: string) => onQuery(query) } };
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url !== undefined) {
    // A connection attempt to an unreachable server fails after 10 s instead of waiting forever.
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: 10_000,
    });
    // An idle client's network error must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    // A checked-out client whose socket fails (PostgreSQL restarted mid-query) emits 'error' on itself,
    // which the pool does not listen to while the client is lent: unhandled, it would end the process.
    // The query in flight rejects anyway, and the pool discards the client when it is released.
    pool.on('connect', (client) => client.on('error', () => undefined));
    const db = drizzleNodePg(pool, { schema, ...queryLogger(options) }) as unknown as Database;
    return {
      db,
      kind: 'postgres',
      async migrate() {
        const client = await pool.connect();
        try {
          await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
          try {
            await migrateNodePg(drizzleNodePg(client, { schema }), { migrationsFolder });
          } finally {
            await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
          }
        } finally {
          client.release();
        }
      },
      checkReady: () => checkMigrated(db),
      close: () => pool.end(),
    };
  }
  // PGlite on disk has one owner (issue 14): a second PGlite on the same files loses writes.
  let lock: DataDirLock | undefined;
  let client: PGlite;
  if (options.dataDir === null) {
    client = await PGlite.create();
  } else {
    lock = await acquireDataDirLock(options.dataDir);
    try {
      const dataPath = join(options.dataDir, 'pglite');
      await mkdir(dataPath, { recursive: true });
      client = await PGlite.create(dataPath);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }
  const drizzleDb = drizzlePglite(client, { schema, ...queryLogger(options) });
  const db = drizzleDb as unknown as Database;
  return {
    db,
    kind: 'pglite',
    migrate: () => migratePglite(drizzleDb, { migrationsFolder }),
    checkReady: () => checkMigrated(db),
    async close() {
      try {
        await client.close();
      } finally {
        await lock?.release();
      }
    },
  };
}

/** Open the database the configuration names and apply pending migrations. */
export async function openConfiguredDatabase(config: {
  DATABASE_URL?: string | undefined;
  DATA_DIR: string;
}): Promise<DatabaseHandle> {
  const handle = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR });
  try {
    await handle.migrate();
  } catch (error) {
    await handle.close();
    throw new Error(`could not apply database migrations: ${(error as Error).message}`, { cause: error });
  }
  return handle;
}
