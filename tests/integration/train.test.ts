import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { findActiveModelVersion } from '../../src/db/queries/models.js';
import { loadModel } from '../../src/ml/index.js';
import { checkPython, trainModel } from '../../src/services/training.service.js';
import { tempDir } from '../helpers/files.js';
import { importTinyDataset } from '../helpers/tiny-world.js';

const python = process.env.PYTHON ?? '/usr/bin/python3';

describe('train command', () => {
  let database: DatabaseHandle;
  let dir: { path: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    database = await openDatabase({ dataDir: null });
    await database.migrate();
    await importTinyDataset(database);
    dir = await tempDir();
  });
  afterAll(async () => {
    await database?.close();
    await dir?.cleanup();
  });

  it('says clearly when Python or PyTorch is missing', async () => {
    await expect(checkPython('/nonexistent/python3')).rejects.toThrow(/was not found; set PYTHON/);
  });

  it('exports, trains the tiny preset, registers and activates a model that loads', async () => {
    const result = await trainModel(database.db, {
      preset: 'tiny',
      python,
      dataDir: dir.path,
      device: 'cpu',
      seed: 0,
      maxEpochs: 3,
      activate: true,
    });
    expect(result.snapshot.counts).toMatchObject({ items: 300, ratings: 732, users: 14 });
    expect(result.version).toMatchObject({ preset: 'tiny', embeddingDim: 16, active: true });
    // Ratings after the snapshot are news to this model (their users get a fitted vector).
    expect(result.version.ratingsAsOf?.toISOString()).toBe(result.snapshot.createdAt);
    expect((await findActiveModelVersion(database.db))?.id).toBe(result.version.id);
    const model = await loadModel(result.artifactDir);
    try {
      expect(model.manifest.datasetHash).toBe(result.snapshot.contentHash);
      expect(model.priorUserRow('u00')).toBeTypeOf('number');
    } finally {
      await model.dispose();
    }
  }, 180_000);
});
