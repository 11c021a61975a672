import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { asc, eq, gt, sql } from 'drizzle-orm';
import { type Database } from '../../db/client.js';
import { getCatalogDim } from '../../db/queries/items.js';
import { items, ratings, users } from '../../db/schema.js';
import { csvField } from '../../lib/csv.js';
import { npyHeader } from '../../lib/npy.js';
import { type ProgressListener } from '../../lib/progress.js';

/** manifest.json of a dataset snapshot (docs/FORMATS.md). */
export interface SnapshotManifest {
  formatVersion: 1;
  kind: 'rebeca-dataset';
  createdAt: string;
  embeddingDim: number;
  counts: { users: number; items: number; ratings: number };
  contentHash: string;
}

const PAGE = 2000;

/**
 * Write the catalog and all ratings as a dataset snapshot folder. Rows are ordered by external ids so
 * the same database gives the same bytes. Written to a temporary sibling and renamed at the end: a
 * failed export leaves nothing behind.
 */
export async function exportSnapshot(
  db: Database,
  outDir: string,
  onProgress?: ProgressListener,
): Promise<SnapshotManifest> {
  const target = resolve(outDir);
  const temporary = join(dirname(target), `.${Date.now()}-${process.pid}.partial`);
  await mkdir(temporary, { recursive: true });
  try {
    let manifest: SnapshotManifest | undefined;
    await db.transaction(async (tx) => {
      const tdb = tx as unknown as Database;
      // One consistent view of the data for the whole export.
      await tdb.execute(sql`set transaction isolation level repeatable read, read only`);
      const dim = (await getCatalogDim(tdb)) ?? 0;
      const itemCount = await tdb.$count(items);
      const itemsCsv = createWriteStream(join(temporary, 'items.csv'));
      const npy = createWriteStream(join(temporary, 'embeddings.npy'));
      await write(itemsCsv, 'item_id,title,image_url\n');
      await write(npy, npyHeader([itemCount, dim]));
      let last = '';
      let done = 0;
      for (;;) {
        const page = await tdb
          .select({
            externalId: items.externalId,
            title: items.title,
            imageUrl: items.imageUrl,
            embedding: items.embedding,
          })
          .from(items)
          .where(done === 0 ? undefined : gt(items.externalId, last))
          .orderBy(asc(items.externalId))
          .limit(PAGE);
        if (page.length === 0) break;
        const lines = page.map(
          (row) => `${csvField(row.externalId)},${csvField(row.title)},${csvField(row.imageUrl)}\n`,
        );
        await write(itemsCsv, lines.join(''));
        const block = new Float32Array(page.length * dim);
        page.forEach((row, index) => block.set(row.embedding, index * dim));
        await write(npy, Buffer.from(block.buffer));
        done += page.length;
        last = page.at(-1)?.externalId ?? last;
        onProgress?.({ phase: 'export items', done, total: itemCount });
      }
      await close(itemsCsv);
      await close(npy);

      const ratingsCsv = createWriteStream(join(temporary, 'ratings.csv'));
      await write(ratingsCsv, 'user_id,item_id,score\n');
      const userRows = await tdb
        .select({ id: users.id, externalId: users.externalId })
        .from(users)
        .orderBy(asc(users.externalId));
      let ratingCount = 0;
      let ratedUsers = 0;
      for (const user of userRows) {
        const rows = await tdb
          .select({ itemId: items.externalId, score: ratings.score })
          .from(ratings)
          .innerJoin(items, eq(items.id, ratings.itemId))
          .where(eq(ratings.userId, user.id))
          .orderBy(asc(items.externalId));
        if (rows.length === 0) continue;
        const userField = csvField(user.externalId);
        await write(
          ratingsCsv,
          rows.map((row) => `${userField},${csvField(row.itemId)},${row.score}\n`).join(''),
        );
        ratingCount += rows.length;
        ratedUsers += 1;
        onProgress?.({ phase: 'export ratings', done: ratingCount });
      }
      await close(ratingsCsv);
      manifest = {
        formatVersion: 1,
        kind: 'rebeca-dataset',
        createdAt: new Date().toISOString(),
        embeddingDim: dim,
        counts: { users: ratedUsers, items: itemCount, ratings: ratingCount },
        contentHash: await hashFiles(temporary, ['items.csv', 'embeddings.npy', 'ratings.csv']),
      };
      await writeFile(join(temporary, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    });
    await rm(target, { recursive: true, force: true });
    await rename(temporary, target);
    if (manifest === undefined) throw new Error('export wrote no manifest');
    return manifest;
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

function write(stream: WriteStream, data: string | Buffer): Promise<void> {
  return new Promise((resolveWrite, reject) => {
    stream.write(data, (error) => (error ? reject(error) : resolveWrite()));
  });
}

function close(stream: WriteStream): Promise<void> {
  return new Promise((resolveClose, reject) => {
    stream.end((error?: Error | null) => (error ? reject(error) : resolveClose()));
  });
}

async function hashFiles(dir: string, names: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const name of names) {
    for await (const chunk of createReadStream(join(dir, name))) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}
