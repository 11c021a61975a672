import { join } from 'node:path';
import { type Database } from '../../db/client.js';
import { countItems } from '../../db/queries/items.js';
import { type Logger } from '../../lib/logger.js';
import { generateWorld, worldOptions, writeWorld } from '../../world/index.js';
import { importItems } from './import-items.js';
import { importRatings } from './import-ratings.js';
import { tempDir } from '../../lib/temp-dir.js';

/** The world models/demo was trained on (training/make_demo.sh). */
export const DEMO_WORLD = { preset: 'demo', seed: 1 } as const;

/**
 * On a first start with an empty catalog, import the demo world so that the demo model's users and
 * items exist and the gateway answers with something to look at. Returns whether it imported.
 */
export async function importDemoWorldIfEmpty(db: Database, logger: Logger): Promise<boolean> {
  if ((await countItems(db)) > 0) return false;
  const started = performance.now();
  const dir = await tempDir('rebeca-demo-');
  try {
    const world = join(dir.path, 'world');
    await writeWorld(generateWorld(worldOptions(DEMO_WORLD.preset, DEMO_WORLD.seed)), world);
    const items = await importItems(db, {
      itemsPath: join(world, 'items.csv'),
      embeddingsPath: join(world, 'embeddings.npy'),
    });
    const ratings = await importRatings(db, { ratingsPath: join(world, 'ratings.csv') });
    logger.info('imported the demo world into the empty database', {
      items: items.rows,
      ratings: ratings.rows,
      ms: Math.round(performance.now() - started),
    });
    return true;
  } finally {
    await dir.cleanup();
  }
}
