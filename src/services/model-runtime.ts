import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Database } from '../db/client.js';
import { catalogSignature, getCatalogDim, loadCatalogRows } from '../db/queries/items.js';
import {
  activateModelVersion,
  findActiveModelVersion,
  type ModelVersionRow,
  upsertModelVersion,
} from '../db/queries/models.js';
import { type Logger } from '../lib/logger.js';
import {
  CatalogIndex,
  DenoiseBatcher,
  type ExecutionProvider,
  loadModel,
  readManifest,
  type RebecaModel,
} from '../ml/index.js';

/** The demo model shipped with the repository, served when nothing else is configured or registered. */
export const DEMO_MODEL_DIR = resolve('models/demo');

/** A model version loaded and ready to serve, with its catalog projection. */
export interface ActiveModel {
  version: ModelVersionRow;
  model: RebecaModel;
  /** Null while the catalog is empty or has another width than the model. */
  index: CatalogIndex | null;
  denoiser: DenoiseBatcher;
}

/** Options of {@link ModelRuntime}. */
export interface ModelRuntimeOptions {
  db: Database;
  logger: Logger;
  executionProvider: ExecutionProvider;
  /** Serve this artifact (MODEL_DIR); otherwise the active registered version, else models/demo. */
  modelDir?: string | undefined;
  /** Serve models/demo when no version is registered (default true). */
  demoFallback?: boolean;
  /** How often to look for versions activated and items written by other processes (default 5 s). */
  refreshIntervalMs?: number;
  /** Most rows in one batched denoising run. */
  maxBatchRows?: number;
  /** Longest a denoising step waits for company. */
  maxQueueDelayMs?: number;
}

/** Register an artifact folder as a model version (reading its manifest); optionally activate it. */
export async function registerModelArtifact(
  db: Database,
  dir: string,
  activate: boolean,
): Promise<ModelVersionRow> {
  const artifactDir = resolve(dir);
  const manifest = await readManifest(artifactDir);
  const row = await upsertModelVersion(db, {
    preset: manifest.preset ?? 'custom',
    embeddingDim: manifest.embeddingDim,
    artifactDir,
    datasetHash: manifest.datasetHash ?? null,
    metrics: { training: manifest.metrics ?? {}, verifier: manifest.verifier.metrics ?? {} },
  });
  if (activate) {
    await activateModelVersion(db, row.id);
    return { ...row, active: true };
  }
  return row;
}

/**
 * Owns the served model: which version is active, its ONNX session, its denoising batcher and the
 * catalog's projection under its verifier. The catalog projection is rebuilt when items change.
 */
export class ModelRuntime {
  private current: ActiveModel | null = null;
  private problem: string | null = 'no model loaded yet';
  private catalogStale = false;
  private catalogBuiltFrom = '';
  private refreshing: Promise<void> | null = null;
  private lastCheck = Date.now();
  private checking: Promise<void> | null = null;

  constructor(private readonly options: ModelRuntimeOptions) {}

  /** Why no model serves, or null when one does. */
  get notReadyReason(): string | null {
    return this.problem;
  }

  /** Load the configured or active model; failures leave the gateway up with a reason instead. */
  async start(): Promise<void> {
    const { db, logger } = this.options;
    try {
      let version: ModelVersionRow | undefined;
      if (this.options.modelDir !== undefined) {
        version = await registerModelArtifact(db, this.options.modelDir, true);
      } else {
        version = await findActiveModelVersion(db);
        if (version === undefined && this.options.demoFallback !== false && (await exists(DEMO_MODEL_DIR))) {
          version = await registerModelArtifact(db, DEMO_MODEL_DIR, true);
        }
      }
      if (version === undefined) {
        this.problem = 'no model: train one (npm run cli -- train) or set MODEL_DIR';
        logger.warn('serving without a model', { reason: this.problem });
        return;
      }
      await this.load(version);
    } catch (error) {
      this.problem = `model could not be loaded: ${(error as Error).message}`;
      logger.error('model could not be loaded', { error });
    }
  }

  /**
   * The active model, after rebuilding the catalog projection if items changed since. Every few seconds
   * it also looks for changes made by other processes: items imported, another version activated.
   */
  async active(): Promise<ActiveModel | null> {
    if (Date.now() - this.lastCheck >= (this.options.refreshIntervalMs ?? 5000)) {
      this.checking ??= this.checkForChanges().finally(() => (this.checking = null));
      await this.checking;
    }
    if (this.catalogStale && this.current !== null) {
      this.refreshing ??= this.rebuildCatalog().finally(() => (this.refreshing = null));
      await this.refreshing;
    }
    return this.current;
  }

  private async checkForChanges(): Promise<void> {
    this.lastCheck = Date.now();
    const { db, logger } = this.options;
    try {
      if (this.options.modelDir === undefined) {
        const active = await findActiveModelVersion(db);
        if (active !== undefined && active.id !== this.current?.version.id) await this.load(active);
      }
      if (this.current !== null && (await catalogSignature(db)) !== this.catalogBuiltFrom)
        this.catalogStale = true;
    } catch (error) {
      logger.error('could not check for model or catalog changes', { error });
    }
  }

  /** Items were written: the next request rebuilds the catalog projection. */
  invalidateCatalog(): void {
    this.catalogStale = true;
  }

  /** Swap in another version (e.g. after training); the old session is released. */
  async activate(version: ModelVersionRow): Promise<void> {
    await activateModelVersion(this.options.db, version.id);
    await this.load(version);
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = null;
    this.problem = 'shut down';
    if (current !== null) {
      current.denoiser.close();
      await current.model.dispose();
    }
  }

  private async load(version: ModelVersionRow): Promise<void> {
    const { logger } = this.options;
    const started = performance.now();
    const model = await loadModel(version.artifactDir, { executionProvider: this.options.executionProvider });
    const denoiser = new DenoiseBatcher(model.prior, {
      ...(this.options.maxBatchRows === undefined ? {} : { maxBatchRows: this.options.maxBatchRows }),
      ...(this.options.maxQueueDelayMs === undefined
        ? {}
        : { maxQueueDelayMs: this.options.maxQueueDelayMs }),
    });
    const previous = this.current;
    this.current = { version, model, index: null, denoiser };
    this.problem = null;
    await this.rebuildCatalog();
    if (previous !== null) {
      previous.denoiser.close();
      await previous.model.dispose();
    }
    logger.info('model loaded', {
      version: version.id,
      preset: version.preset,
      dir: version.artifactDir,
      catalogItems: this.current.index?.size ?? 0,
      ms: Math.round(performance.now() - started),
    });
  }

  private async rebuildCatalog(): Promise<void> {
    const current = this.current;
    if (current === null) return;
    this.catalogStale = false;
    const { db, logger } = this.options;
    this.catalogBuiltFrom = await catalogSignature(db);
    const dim = await getCatalogDim(db);
    if (dim === null) {
      current.index = null;
      return;
    }
    if (dim !== current.model.embeddingDim) {
      current.index = null;
      this.problem = `the catalog's embeddings have width ${dim}, the model's ${current.model.embeddingDim}`;
      logger.warn('catalog and model disagree', { reason: this.problem });
      return;
    }
    const rows = await loadCatalogRows(db, dim);
    current.index = await CatalogIndex.build(
      { ids: rows.ids, embeddings: rows.embeddings, dim },
      current.model.verifier,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
