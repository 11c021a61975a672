import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { findActiveModelVersion } from '../../src/db/queries/models.js';
import { loadModel } from '../../src/ml/index.js';
import { checkPython, trainModel } from '../../src/services/training.service.js';
import { tempDir } from '../helpers/files.js';
import { importTinyDataset } from '../helpers/tiny-world.js';

const python = process.env.PYTHON ?? '/usr/bin/python3';
// Training needs PyTorch: skipped with a reason on a machine without it, never in CI (.ci/run installs it).
const hasTorch = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch && process.env.CI) throw new Error(`CI needs PyTorch for ${python}`);
if (!hasTorch) console.warn(`train tests skipped: PyTorch is not installed for ${python}`);

describe.skipIf(!hasTorch)('train command', () => {
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
      expect(model.manifest.users).toContain('u00');
      expect(model.manifest.health).toMatchObject({ passed: true, reasons: [] });
    } finally {
      await model.dispose();
    }
  }, 180_000);

  it('registers but does not activate a model that fails its health gate, unless forced', async () => {
    // A gate no model can pass: the tiny preset's permutation z is far below 1000.
    const refused = await trainModel(database.db, {
      preset: 'tiny',
      python,
      dataDir: dir.path,
      device: 'cpu',
      seed: 1,
      maxEpochs: 2,
      activate: true,
      extraArgs: ['--health-min-z', '1000'],
    });
    expect(refused.healthProblems.join(' ')).toMatch(
      /personalises weakly: permutation z [\d.-]+ by the verifier \(at least 1000/,
    );
    expect(refused.version.active).toBe(false);
    expect((await findActiveModelVersion(database.db))?.id).not.toBe(refused.version.id);
    const forced = await trainModel(database.db, {
      preset: 'tiny',
      python,
      dataDir: dir.path,
      device: 'cpu',
      seed: 2,
      maxEpochs: 2,
      activate: true,
      force: true,
      extraArgs: ['--health-min-z', '1000'],
    });
    expect(forced.healthProblems).not.toHaveLength(0);
    expect(forced.version.active).toBe(true);
  }, 180_000);
});
