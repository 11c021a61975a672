import { openConfiguredDatabase } from '../db/client.js';
import { terminalProgress } from '../lib/progress.js';
import { exportSnapshot } from '../services/ingestion/export-snapshot.js';
import { type CliCommand, parseFlags, requireFlag } from './command.js';

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'Write a dataset snapshot (items.csv, embeddings.npy, ratings.csv, manifest.json) for training.',
  help: ['Flags:', '  --out D   the snapshot folder to write (replaced if it exists)'].join('\n'),
  async run(argv, config) {
    const flags = parseFlags(argv, { out: { type: 'string' } });
    const out = requireFlag(flags.out, 'out');
    const database = await openConfiguredDatabase(config);
    try {
      const progress = terminalProgress();
      const manifest = await exportSnapshot(database.db, out, progress);
      progress.finish();
      console.log(
        `snapshot ${out}: ${manifest.counts.items} items (D=${manifest.embeddingDim}), ` +
          `${manifest.counts.ratings} ratings from ${manifest.counts.users} users, sha256 ${manifest.contentHash.slice(0, 12)}`,
      );
    } finally {
      await database.close();
    }
  },
};
