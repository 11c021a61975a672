import { basename } from 'node:path';
import { type Database } from '../../db/client.js';
import { itemIdMap } from '../../db/queries/items.js';
import { type RatingWrite, upsertRatingRows } from '../../db/queries/ratings.js';
import { ensureUsers } from '../../db/queries/users.js';
import { type ProgressListener } from '../../lib/progress.js';
import { quote } from '../../lib/text.js';
import { externalIdProblem } from '../users.service.js';
import { ImportError, importedCsv } from './import-error.js';
import { type ImportSummary } from './import-items.js';

export interface ImportRatingsOptions {
  ratingsPath: string;
  /** Ratings written per INSERT statement. */
  batchSize?: number;
  onProgress?: ProgressListener;
}

/** Header names accepted for each column: ours, and the FLICKR-AES file's. */
const COLUMN_NAMES = {
  user: ['user_id', 'worker'],
  item: ['item_id', 'imagepair'],
  score: ['score'],
} as const;

/**
 * Import ratings.csv in one transaction. Users are created as they appear; items must already be in
 * the catalog. A re-rating updates the score; the same file imported twice changes nothing.
 */
export async function importRatings(db: Database, options: ImportRatingsOptions): Promise<ImportSummary> {
  const started = performance.now();
  const file = basename(options.ratingsPath);
  const batchSize = options.batchSize ?? 5000;
  let rows = 0;
  let written = 0;
  await db.transaction(async (tx) => {
    const tdb = tx as unknown as Database;
    const itemIds = await itemIdMap(tdb);
    // Within one INSERT a (user, item) pair may appear once; the later line of the file wins.
    let batch = new Map<string, { user: string; itemId: number; score: number }>();
    const flush = async () => {
      if (batch.size === 0) return;
      const pending = [...batch.values()];
      const userIds = await ensureUsers(
        tdb,
        pending.map((row) => row.user),
      );
      const writes: RatingWrite[] = pending.map((row) => ({
        userId: userIds.get(row.user) as number,
        itemId: row.itemId,
        score: row.score,
      }));
      written += await upsertRatingRows(tdb, writes);
      batch = new Map();
      options.onProgress?.({ phase: `ratings ${file}`, done: rows });
    };
    let columns: { user: number; item: number; score: number } | null = null;
    for await (const record of importedCsv(options.ratingsPath, file)) {
      if (columns === null) {
        columns = ratingColumns(record.fields, file, record.line);
        continue;
      }
      const user = (record.fields[columns.user] ?? '').trim();
      const item = (record.fields[columns.item] ?? '').trim();
      const scoreText = (record.fields[columns.score] ?? '').trim();
      if (user === '') throw new ImportError(file, record.line, 'empty user id');
      // The rules of the API (createUser): a user it could not address is refused here too.
      const userProblem = externalIdProblem(user);
      if (userProblem !== null) throw new ImportError(file, record.line, `user id ${userProblem}`);
      const itemId = itemIds.get(item);
      if (itemId === undefined)
        throw new ImportError(file, record.line, `unknown item ${quote(item)} (import items first)`);
      const score = Number(scoreText);
      if (!/^\d+$/.test(scoreText) || score < 1 || score > 5) {
        throw new ImportError(file, record.line, `score must be an integer 1..5, got ${quote(scoreText)}`);
      }
      batch.set(`${user}\u0000${itemId}`, { user, itemId, score });
      rows += 1;
      if (batch.size >= batchSize) await flush();
    }
    if (columns === null) throw new ImportError(file, null, 'the file is empty (no header)');
    await flush();
  });
  return { rows, written, seconds: (performance.now() - started) / 1000 };
}

function ratingColumns(header: string[], file: string, line: number) {
  const names = header.map((name) => name.trim().toLowerCase());
  const find = (candidates: readonly string[]) => names.findIndex((name) => candidates.includes(name));
  const columns = {
    user: find(COLUMN_NAMES.user),
    item: find(COLUMN_NAMES.item),
    score: find(COLUMN_NAMES.score),
  };
  if (columns.user < 0 || columns.item < 0 || columns.score < 0) {
    throw new ImportError(
      file,
      line,
      `header must be user_id,item_id,score (or FLICKR-AES worker,imagePair,score); got ${quote(header.join(','))}`,
    );
  }
  return columns;
}
