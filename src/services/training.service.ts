import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Database } from '../db/client.js';
import { type ModelVersionRow } from '../db/queries/models.js';
import { type ProgressListener } from '../lib/progress.js';
import { exportSnapshot, type SnapshotManifest } from './ingestion/export-snapshot.js';
import { readManifest } from '../ml/index.js';
import { registerModelArtifact } from './model-runtime.js';

/** The presets of training/rebeca/presets.py. */
export const TRAINING_PRESETS = ['tiny', 'tiny-table', 'small', 'large', 'paper'] as const;
export type TrainingPreset = (typeof TRAINING_PRESETS)[number];

export interface TrainOptions {
  preset: TrainingPreset;
  /** Python with PyTorch (config PYTHON). */
  python: string;
  /** Snapshots and artifacts go under `<dataDir>/snapshots` and `<dataDir>/models`. */
  dataDir: string;
  device: 'auto' | 'cpu' | 'cuda';
  seed: number;
  maxEpochs?: number | undefined;
  activate: boolean;
  /** Activate even when the health gate failed. */
  force?: boolean;
  /** A taste world's folder (truth.json): the health gate records the oracle's view. */
  truthDir?: string | undefined;
  /** More flags for training/rebeca/train.py (e.g. `--health-min-z`). */
  extraArgs?: string[];
  onExportProgress?: ProgressListener;
}

export class TrainingError extends Error {
  override name = 'TrainingError';
}

/** Fails with a clear message when the interpreter or PyTorch is missing. */
export async function checkPython(python: string): Promise<string> {
  const result = await run(python, ['-c', 'import torch, numpy; print(torch.__version__)'], 'pipe');
  if (result.code !== 0) {
    const missing = /No module named '?(\w+)/.exec(result.stderr)?.[1];
    throw new TrainingError(
      result.code === 127 || /ENOENT/.test(result.stderr)
        ? `Python interpreter "${python}" was not found; set PYTHON to one that has PyTorch`
        : `PyTorch is not available to ${python}${missing ? ` (no module ${missing})` : ''}: ` +
            `install it (Debian: apt-get install python3-torch libopenblas0-pthread) or set PYTHON`,
    );
  }
  return result.stdout.trim();
}

/**
 * Export a snapshot of the database, train the prior and the verifier on it with training/ (Python),
 * register the artifact as a model version and, by default, activate it.
 */
export async function trainModel(
  db: Database,
  options: TrainOptions,
): Promise<{
  snapshot: SnapshotManifest;
  artifactDir: string;
  version: ModelVersionRow;
  /** Why the health gate failed (then the model was registered, not activated, unless forced). */
  healthProblems: string[];
}> {
  await checkPython(options.python);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const snapshotDir = resolve(options.dataDir, 'snapshots', stamp);
  const artifactDir = resolve(options.dataDir, 'models', `${stamp}-${options.preset}`);
  await mkdir(resolve(options.dataDir, 'models'), { recursive: true });
  const snapshot = await exportSnapshot(db, snapshotDir, options.onExportProgress);
  if (snapshot.counts.ratings === 0) throw new TrainingError('the database has no ratings to train on');
  const args = [
    '-m',
    'training.rebeca.train',
    '--data',
    snapshotDir,
    '--out',
    artifactDir,
    '--preset',
    options.preset,
    '--device',
    options.device,
    '--seed',
    String(options.seed),
    ...(options.maxEpochs === undefined ? [] : ['--max-epochs', String(options.maxEpochs)]),
    ...(options.truthDir === undefined ? [] : ['--truth', resolve(options.truthDir)]),
    ...(options.extraArgs ?? []),
  ];
  // Progress (epochs, losses, ETA) goes straight to our stderr; stdout's last line names the artifact.
  const result = await run(options.python, args, 'inherit-stderr');
  if (result.code !== 0) throw new TrainingError(`training failed (exit code ${result.code})`);
  const reported = /ARTIFACT (.+)\s*$/.exec(result.stdout.trim())?.[1];
  const dir = reported === undefined ? artifactDir : reported.trim();
  const manifest = await readManifest(dir);
  const healthProblems = manifest.health?.passed === false ? manifest.health.reasons : [];
  // A model that failed its health gate is kept for inspection but serves only when forced.
  const activate = options.activate && (healthProblems.length === 0 || options.force === true);
  const version = await registerModelArtifact(db, dir, activate, new Date(snapshot.createdAt));
  return { snapshot, artifactDir: dir, version, healthProblems };
}

const projectRoot = resolve(join(import.meta.dirname, '..', '..'));

function run(
  command: string,
  args: string[],
  mode: 'pipe' | 'inherit-stderr',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', mode === 'pipe' ? 'pipe' : 'inherit'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) =>
      resolvePromise({ code: 127, stdout, stderr: `${stderr}${error.message}` }),
    );
    child.once('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });
}
