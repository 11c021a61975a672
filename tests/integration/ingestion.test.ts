import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { countItems } from '../../src/db/queries/items.js';
import { countUsers } from '../../src/db/queries/users.js';
import { ratings } from '../../src/db/schema.js';
import { readNpy } from '../../src/lib/npy.js';
import { exportSnapshot } from '../../src/services/ingestion/export-snapshot.js';
import { ImportError } from '../../src/services/ingestion/import-error.js';
import { importItems } from '../../src/services/ingestion/import-items.js';
import { importRatings } from '../../src/services/ingestion/import-ratings.js';
import { testDatabases } from '../helpers/databases.js';
import { makeDataset, tempDir, writeDataset } from '../helpers/files.js';

describe.each(testDatabases)('ingestion on $name', (engine) => {
  let database: DatabaseHandle;
  let dir: { path: string; cleanup: () => Promise<void> };
  const data = makeDataset(60, 12, 7, 25);

  beforeAll(async () => {
    database = await engine.open();
    dir = await tempDir();
  });
  afterAll(async () => {
    await database?.close();
    await dir?.cleanup();
  });

  const countRatings = () => database.db.$count(ratings);

  it('imports a FLICKR-AES-layout file, in batches, and a second import changes nothing', async () => {
    const files = await writeDataset(dir.path, data, { flickr: true });
    const items = await importItems(database.db, {
      itemsPath: files.items,
      embeddingsPath: files.embeddings,
      batchSize: 7,
    });
    expect(items).toMatchObject({ rows: 60, written: 60 });
    const events: number[] = [];
    const first = await importRatings(database.db, {
      ratingsPath: files.ratings,
      batchSize: 16,
      onProgress: (event) => events.push(event.done),
    });
    expect(first).toMatchObject({ rows: data.ratings.length, written: data.ratings.length });
    expect(events.length).toBeGreaterThan(5);
    expect(await countUsers(database.db)).toBe(7);
    expect(await countRatings()).toBe(data.ratings.length);

    const again = await importItems(database.db, {
      itemsPath: files.items,
      embeddingsPath: files.embeddings,
    });
    const ratingsAgain = await importRatings(database.db, { ratingsPath: files.ratings });
    expect(again.written).toBe(0);
    expect(ratingsAgain.written).toBe(0);
    expect(await countRatings()).toBe(data.ratings.length);
  });

  it.each([
    [
      'a bad score',
      (lines: string[]) => lines.splice(30, 1, 'worker1,img_0001.jpg,6'),
      /ratings\.csv:31: score must be an integer 1\.\.5, got "6"/,
    ],
    [
      'an unknown item',
      (lines: string[]) => lines.splice(40, 1, 'worker2,nope.jpg,3'),
      /ratings\.csv:41: unknown item "nope\.jpg"/,
    ],
    [
      'an unterminated quote',
      (lines: string[]) => lines.splice(20, 1, 'worker1,"img_0001.jpg,3'),
      /ratings\.csv:21: unterminated quoted field/,
    ],
    [
      'an empty score',
      (lines: string[]) => lines.splice(12, 1, 'worker2,img_0003.jpg,'),
      /ratings\.csv:13: score/,
    ],
  ])(
    'a ratings file with %s aborts with its line and keeps nothing of it',
    async (_what, corrupt, message) => {
      const bad = join(dir.path, 'bad-ratings.csv');
      const lines = ['user_id,item_id,score'];
      for (let i = 0; i < 60; i += 1)
        lines.push(`newcomer${i % 3},img_${String(i).padStart(4, '0')}.jpg,${1 + (i % 5)}`);
      corrupt(lines);
      await writeFile(bad, `${lines.join('\n')}\n`);
      const before = { ratings: await countRatings(), users: await countUsers(database.db) };
      const error = await importRatings(database.db, { ratingsPath: bad, batchSize: 10 }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ImportError);
      expect((error as Error).message).toMatch(message);
      expect({ ratings: await countRatings(), users: await countUsers(database.db) }).toEqual(before);
    },
  );

  it('rejects an items file whose embeddings hold NaN, or have the wrong width, and keeps nothing', async () => {
    const width = data.dim;
    const extra = makeDataset(20, width, 1, 1, 99);
    extra.itemIds = extra.itemIds.map((id) => `extra-${id}`);
    extra.embeddings[7 * width + 3] = Number.NaN;
    const nanDir = await tempDir();
    const files = await writeDataset(nanDir.path, extra);
    const error = await importItems(database.db, {
      itemsPath: files.items,
      embeddingsPath: files.embeddings,
      batchSize: 5,
    }).catch((e: unknown) => e as Error);
    expect(String(error)).toMatch(
      /items\.csv:9: item "extra-img_0007\.jpg" .*embedding value 3 is not a finite number/,
    );
    expect(await countItems(database.db)).toBe(60);

    const wide = makeDataset(3, width + 1, 1, 1, 5);
    await writeDataset(nanDir.path, wide);
    const widthError = await importItems(database.db, {
      itemsPath: files.items,
      embeddingsPath: files.embeddings,
    }).catch((e: unknown) => e as Error);
    expect(String(widthError)).toMatch(/embedding width 13 differs from the catalog's 12/);
    expect(await countItems(database.db)).toBe(60);
    await nanDir.cleanup();
  });

  it('exports a snapshot that imports into an empty database and exports to the same bytes', async () => {
    const first = await tempDir();
    const manifest = await exportSnapshot(database.db, join(first.path, 'snap'));
    expect(manifest.counts).toEqual({ users: 7, items: 60, ratings: data.ratings.length });
    expect(manifest.embeddingDim).toBe(12);
    const npy = await readNpy(join(first.path, 'snap', 'embeddings.npy'));
    expect(npy.shape).toEqual([60, 12]);
    // Sorted by item id, the export puts img_0000 first: its embedding is the dataset's first row.
    expect(Array.from(npy.data.subarray(0, 12))).toEqual(Array.from(data.embeddings.subarray(0, 12)));

    const copy = await engine.open();
    try {
      const snap = join(first.path, 'snap');
      await importItems(copy.db, {
        itemsPath: join(snap, 'items.csv'),
        embeddingsPath: join(snap, 'embeddings.npy'),
      });
      await importRatings(copy.db, { ratingsPath: join(snap, 'ratings.csv') });
      const second = await exportSnapshot(copy.db, join(first.path, 'snap2'));
      expect(second.contentHash).toBe(manifest.contentHash);
      for (const name of ['items.csv', 'ratings.csv', 'embeddings.npy']) {
        expect(await readFile(join(first.path, 'snap2', name))).toEqual(await readFile(join(snap, name)));
      }
    } finally {
      await copy.close();
      await first.cleanup();
    }
  });
});
