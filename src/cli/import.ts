import { openConfiguredDatabase } from '../db/client.js';
import { terminalProgress } from '../lib/progress.js';
import { importItems } from '../services/ingestion/import-items.js';
import { importRatings } from '../services/ingestion/import-ratings.js';
import { type CliCommand, integerFlag, parseFlags, UsageError } from './command.js';

export const importCommand: CliCommand = {
  name: 'import',
  summary: 'Import catalog items with embeddings, and ratings, into the database.',
  help: [
    'Flags:',
    '  --items F        items.csv (item_id,title,image_url); needs --embeddings',
    '  --embeddings F   embeddings.npy, float32 or float64 [N, D], row i = i-th item',
    '  --ratings F      ratings.csv (user_id,item_id,score) or the FLICKR-AES layout',
    '  --dir D          a folder holding items.csv, embeddings.npy and ratings.csv',
    '  --batch N        rows per INSERT (default: 250 items, 5000 ratings)',
    '',
    'Each file is imported in one transaction: a malformed row aborts that file with its line number',
    'and nothing of it is kept. Importing the same files twice changes nothing.',
  ].join('\n'),
  async run(argv, config) {
    const flags = parseFlags(argv, {
      items: { type: 'string' },
      embeddings: { type: 'string' },
      ratings: { type: 'string' },
      dir: { type: 'string' },
      batch: { type: 'string' },
    });
    const dir = flags.dir;
    const itemsPath = flags.items ?? (dir === undefined ? undefined : `${dir}/items.csv`);
    const embeddingsPath = flags.embeddings ?? (dir === undefined ? undefined : `${dir}/embeddings.npy`);
    const ratingsPath = flags.ratings ?? (dir === undefined ? undefined : `${dir}/ratings.csv`);
    if ((itemsPath === undefined) !== (embeddingsPath === undefined)) {
      throw new UsageError('--items and --embeddings go together');
    }
    if (itemsPath === undefined && ratingsPath === undefined) throw new UsageError('nothing to import');
    const batch = flags.batch === undefined ? undefined : integerFlag(flags.batch, 'batch', 0, 1);
    const database = await openConfiguredDatabase(config);
    try {
      if (itemsPath !== undefined && embeddingsPath !== undefined) {
        const progress = terminalProgress();
        const summary = await importItems(database.db, {
          itemsPath,
          embeddingsPath,
          onProgress: progress,
          ...(batch === undefined ? {} : { batchSize: batch }),
        });
        progress.finish();
        console.log(
          `items: ${summary.rows} rows read, ${summary.written} written in ${summary.seconds.toFixed(1)} s`,
        );
      }
      if (ratingsPath !== undefined) {
        const progress = terminalProgress();
        const summary = await importRatings(database.db, {
          ratingsPath,
          onProgress: progress,
          ...(batch === undefined ? {} : { batchSize: batch }),
        });
        progress.finish();
        console.log(
          `ratings: ${summary.rows} rows read, ${summary.written} written in ${summary.seconds.toFixed(1)} s ` +
            `(${Math.round(summary.rows / Math.max(summary.seconds, 1e-9))} rows/s)`,
        );
      }
    } finally {
      await database.close();
    }
  },
};
