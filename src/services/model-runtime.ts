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
import { denoiseBatchRows, denoiseRunSeconds } from '../lib/metrics.js';
import {
  CatalogIndex,
  type DataRange,
  dataRangeOf,
  DenoiseBatcher,
  type Denoiser,
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
  /** Where generation jobs' steps run: the shared batcher (tests may wrap it, see `wrapDenoiser`). */
  denoiser: Denoiser;
  /**
   * The data's range a generated item must lie in: the training catalog's (manifest), else the served
   * catalog's; null only for an old artifact with an empty catalog.
   */
  range: DataRange | null;
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
  /** Wraps each model's batcher (tests hold steps back with a gate to make timing deterministic). */
  wrapDenoiser?: ((batcher: DenoiseBatcher) => Denoiser) | undefined;
}

/** Register an artifact folder as a model version (reading its manifest); optionally activate it. */
export async function registerModelArtifact(
  db: Database,
  dir: string,
  activate: boolean,
  /** When the training snapshot was read; default: now (everything rated so far counts as seen). */
  ratingsAsOf?: Date,
): Promise<ModelVersionRow> {
  const artifactDir = resolve(dir);
  const manifest = await readManifest(artifactDir);
  const row = await upsertModelVersion(db, {
    preset: manifest.preset ?? 'custom',
    embeddingDim: manifest.embeddingDim,
    artifactDir,
    datasetHash: manifest.datasetHash ?? null,
    metrics: { training: manifest.metrics ?? {}, verifier: manifest.verifier.metrics ?? {} },
    ratingsAsOf: ratingsAsOf ?? new Date(),
  });
  if (activate) {
    await activateModelVersion(db, row.id);
    return { ...row, active: true };
  }
  return row;
}

/** A hold on one model version: its session stays alive until every lease is released. */
export interface ModelLease {
  active: ActiveModel;
  release(): void;
}

interface Loaded {
  active: ActiveModel;
  batcher: DenoiseBatcher;
  leases: number;
  retired: boolean;
}

/**
 * Owns the served model: which version is active, its ONNX session, its denoising batcher and the
 * catalog's projection under its verifier. A new version or catalog is built completely before it is
 * swapped in; a replaced version is released once the jobs that hold it have finished.
 */
export class ModelRuntime {
  private current: Loaded | null = null;
  private problem: string | null = 'no model loaded yet';
  private catalogStale = false;
  private catalogBuiltFrom = '';
  private refreshing: Promise<void> | null = null;
  private checking: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ModelRuntimeOptions) {}

  /** Why no model serves, or null when one does. */
  get notReadyReason(): string | null {
    return this.problem;
  }

  /**
   * Load the configured or active model; failures leave the gateway up with a reason instead. Then,
   * every few seconds in the background, look for changes made by other processes: another version
   * activated (a `train` elsewhere), items imported.
   */
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
      } else {
        await this.load(version);
      }
    } catch (error) {
      this.problem = `model could not be loaded: ${(error as Error).message}`;
      logger.error('model could not be loaded', { error });
    }
    this.timer = setInterval(() => {
      this.checking ??= this.checkForChanges().finally(() => (this.checking = null));
    }, this.options.refreshIntervalMs ?? 5000);
    this.timer.unref();
  }

  /** The active model, after rebuilding the catalog projection if this process changed items. */
  async active(): Promise<ActiveModel | null> {
    if (this.catalogStale && this.current !== null) {
      this.refreshing ??= this.rebuildCatalog().finally(() => (this.refreshing = null));
      await this.refreshing;
    }
    return this.current?.active ?? null;
  }

  /** The active model, held until `release()`: for work that must not lose its session midway. */
  async acquire(): Promise<ModelLease | null> {
    await this.active();
    const loaded = this.current;
    if (loaded === null) return null;
    loaded.leases += 1;
    let released = false;
    return {
      active: loaded.active,
      release: () => {
        if (released) return;
        released = true;
        loaded.leases -= 1;
        if (loaded.retired && loaded.leases === 0) void this.dispose(loaded);
      },
    };
  }

  private async checkForChanges(): Promise<void> {
    const { db, logger } = this.options;
    try {
      if (this.options.modelDir === undefined) {
        const active = await findActiveModelVersion(db);
        if (active !== undefined && active.id !== this.current?.active.version.id) await this.load(active);
      }
      if (this.current !== null && (await catalogSignature(db)) !== this.catalogBuiltFrom) {
        this.refreshing ??= this.rebuildCatalog().finally(() => (this.refreshing = null));
        await this.refreshing;
      }
    } catch (error) {
      logger.error('could not check for model or catalog changes', { error });
    }
  }

  /** Items were written: the next request rebuilds the catalog projection. */
  invalidateCatalog(): void {
    this.catalogStale = true;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
    const current = this.current;
    this.current = null;
    this.problem = 'shut down';
    if (current !== null) await this.dispose(current);
  }

  private async load(version: ModelVersionRow): Promise<void> {
    const { db, logger } = this.options;
    const started = performance.now();
    const model = await loadModel(version.artifactDir, { executionProvider: this.options.executionProvider });
    const batcher = new DenoiseBatcher(model.prior, {
      onRun: (rows, seconds) => {
        denoiseBatchRows.observe(rows);
        denoiseRunSeconds.observe(seconds);
      },
      ...(this.options.maxBatchRows === undefined ? {} : { maxBatchRows: this.options.maxBatchRows }),
      ...(this.options.maxQueueDelayMs === undefined
        ? {}
        : { maxQueueDelayMs: this.options.maxQueueDelayMs }),
    });
    const signature = await catalogSignature(db);
    const { index, problem } = await this.buildIndex(model);
    const previous = this.current;
    this.current = {
      active: {
        version,
        model,
        index,
        denoiser: this.options.wrapDenoiser?.(batcher) ?? batcher,
        range: rangeOf(model, index),
      },
      batcher,
      leases: 0,
      retired: false,
    };
    this.catalogBuiltFrom = signature;
    this.catalogStale = false;
    this.problem = problem;
    if (previous !== null) {
      previous.retired = true;
      if (previous.leases === 0) await this.dispose(previous);
    }
    if (model.manifest.health?.passed === false) {
      logger.warn('serving a model that failed its health gate', { reasons: model.manifest.health.reasons });
    }
    logger.info('model loaded', {
      version: version.id,
      preset: version.preset,
      dir: version.artifactDir,
      catalogItems: index?.size ?? 0,
      ms: Math.round(performance.now() - started),
    });
  }

  private async rebuildCatalog(): Promise<void> {
    const loaded = this.current;
    if (loaded === null) return;
    this.catalogStale = false;
    const signature = await catalogSignature(this.options.db);
    const { index, problem } = await this.buildIndex(loaded.active.model);
    // Swapped in whole: requests meanwhile kept the previous projection.
    loaded.active.index = index;
    loaded.active.range = rangeOf(loaded.active.model, index);
    this.catalogBuiltFrom = signature;
    this.problem = problem;
  }

  /** The catalog projected by the model's verifier; null with a reason when the widths disagree. */
  private async buildIndex(
    model: RebecaModel,
  ): Promise<{ index: CatalogIndex | null; problem: string | null }> {
    const { db, logger } = this.options;
    const dim = await getCatalogDim(db);
    if (dim === null) return { index: null, problem: null };
    if (dim !== model.embeddingDim) {
      const problem = `the catalog's embeddings have width ${dim}, the model's ${model.embeddingDim}`;
      logger.warn('catalog and model disagree', { reason: problem });
      return { index: null, problem };
    }
    const rows = await loadCatalogRows(db, dim);
    return {
      index: await CatalogIndex.build({ ids: rows.ids, embeddings: rows.embeddings, dim }, model.verifier),
      problem: null,
    };
  }

  private async dispose(loaded: Loaded): Promise<void> {
    loaded.batcher.close();
    await loaded.active.model.dispose();
  }
}

function rangeOf(model: RebecaModel, index: CatalogIndex | null): DataRange | null {
  if (model.dataRange !== null) return model.dataRange;
  if (index === null || index.size === 0) return null;
  return dataRangeOf(index.catalog.embeddings, index.size, model.standardization);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
