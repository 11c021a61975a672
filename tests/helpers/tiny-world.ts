import { join } from 'node:path';
import { type DatabaseHandle } from '../../src/db/client.js';
import { importItems } from '../../src/services/ingestion/import-items.js';
import { importRatings } from '../../src/services/ingestion/import-ratings.js';

/** The tiny model trained by training/make_fixture.sh, and the dataset it was trained on. */
export const TINY_MODEL_DIR = join(import.meta.dirname, '..', 'fixtures', 'tiny-model');
export const TINY_DATASET_DIR = join(import.meta.dirname, '..', 'fixtures', 'tiny-dataset');

export async function importTinyDataset(database: DatabaseHandle): Promise<void> {
  await importItems(database.db, {
    itemsPath: join(TINY_DATASET_DIR, 'items.csv'),
    embeddingsPath: join(TINY_DATASET_DIR, 'embeddings.npy'),
  });
  await importRatings(database.db, { ratingsPath: join(TINY_DATASET_DIR, 'ratings.csv') });
}
