import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';

/** A database engine the integration suites run against. */
export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /** A fresh, migrated, empty database; closing it drops it. */
  open(options?: { onQuery?: (query: string) => void }): Promise<DatabaseHandle>;
}

const pglite: TestDatabase = {
  name: 'pglite',
  async open(options = {}) {
    const handle = await openDatabase({ dataDir: null, ...options });
    await handle.migrate();
    return handle;
  },
};

/** A throwaway database created on the server TEST_DATABASE_URL points at, dropped on close. */
function postgres(adminUrl: string): TestDatabase {
  return {
    name: 'postgres',
    async open(options = {}) {
      const name = `rebeca_test_${process.pid}_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      await admin.end();
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      const handle = await openDatabase({
        url: url.toString(),
        dataDir: null,
        maxConnections: 4,
        ...options,
      });
      await handle.migrate();
      return {
        ...handle,
        async close() {
          await handle.close();
          const dropper = new pg.Client({ connectionString: adminUrl });
          await dropper.connect();
          await dropper.query(`drop database if exists ${name} with (force)`);
          await dropper.end();
        },
      };
    },
  };
}

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). */
export const testDatabases: TestDatabase[] = [
  pglite,
  ...(process.env.TEST_DATABASE_URL ? [postgres(process.env.TEST_DATABASE_URL)] : []),
];
