import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { exportSnapshot } from '../../src/services/ingestion/export-snapshot.js';
import { importItems } from '../../src/services/ingestion/import-items.js';
import { importRatings } from '../../src/services/ingestion/import-ratings.js';
import { generateWorld, worldOptions, writeWorld } from '../../src/world/index.js';
import { testDatabases } from '../helpers/databases.js';
import { tempDir } from '../helpers/files.js';

describe.each(testDatabases)('the taste world through import and export on $name', (engine) => {
  let database: DatabaseHandle;
  let dir: { path: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    database = await engine.open();
    dir = await tempDir();
  });
  afterAll(async () => {
    await database?.close();
    await dir?.cleanup();
  });

  it('imports a generated world and exports the same bytes', async () => {
    const world = join(dir.path, 'world');
    await writeWorld(generateWorld(worldOptions('small', 11)), world);
    await importItems(database.db, {
      itemsPath: join(world, 'items.csv'),
      embeddingsPath: join(world, 'embeddings.npy'),
    });
    await importRatings(database.db, { ratingsPath: join(world, 'ratings.csv') });
    const snapshot = join(dir.path, 'snapshot');
    const manifest = await exportSnapshot(database.db, snapshot);
    expect(manifest.embeddingDim).toBe(32);
    for (const name of ['items.csv', 'embeddings.npy', 'ratings.csv']) {
      expect(await readFile(join(snapshot, name)), name).toEqual(await readFile(join(world, name)));
    }
  });
});
