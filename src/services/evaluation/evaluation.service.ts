import { setTimeout as sleep } from 'node:timers/promises';
import { type Database } from '../../db/client.js';
import {
  type EvaluationReportRow,
  failAbandonedEvaluations,
  findEvaluationReport,
  finishEvaluationReport,
  insertEvaluationReport,
  listEvaluationReports,
  touchEvaluationReports,
  updateEvaluationProgress,
} from '../../db/queries/evaluations.js';
import { likedItemsOfUsers } from '../../db/queries/ratings.js';
import {
  BadUserInputError,
  ModelNotReadyError,
  NotFoundError,
  ResourceExhaustedError,
} from '../../errors.js';
import { type Logger } from '../../lib/logger.js';
import { quote } from '../../lib/text.js';
import { MAX_GUIDANCE, MAX_VERIFIER_GUIDANCE } from '../../limits.js';
import { type World } from '../../world/index.js';
import { samplingDefaults } from '../generation/sampling-defaults.js';
import { type ModelRuntime } from '../model-runtime.js';
import { computeEvaluation } from './compute.js';
import {
  EVALUATION_KINDS,
  type EvaluationKind,
  type EvaluationParameters,
  type EvaluationProgress,
  type EvaluationReportView,
  type EvaluationResults,
  type EvaluationStatus,
} from './report.js';

/** What a client may set on an evaluation; anything left out takes the model's or the paper's value. */
export interface EvaluationRequest {
  kind: EvaluationKind;
  samplesPerUser?: number | null | undefined;
  permutations?: number | null | undefined;
  sampler?: 'ddim' | 'ddpm' | null | undefined;
  steps?: number | null | undefined;
  guidanceScale?: number | null | undefined;
  verifierScale?: number | null | undefined;
  candidates?: number | null | undefined;
  seed?: number | null | undefined;
  maxUsers?: number | null | undefined;
  scales?: readonly number[] | null | undefined;
  verifierScales?: readonly number[] | null | undefined;
}

/** Reports waiting or running in one gateway at most; beyond it runEvaluation is RESOURCE_EXHAUSTED. */
export const MAX_QUEUED_EVALUATIONS = 8;
/** Progress is written to the database at most this often. */
const PROGRESS_WRITE_MS = 250;
/** How often a watcher reads the report again. */
const WATCH_POLL_MS = 250;
/** How often the gateway holding unfinished reports says so, and after how long without it they end. */
export const EVALUATION_HEARTBEAT_MS = 5_000;
export const EVALUATION_ABANDONED_MS = 60_000;
const DEFAULT_SCALES = [1, 2, 3, 5, 7, 10];

function integerIn(
  value: number | null | undefined,
  fallback: number,
  min: number,
  max: number,
  name: string,
) {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen) || chosen < min || chosen > max)
    throw new BadUserInputError(`${name} must be an integer from ${min} to ${max}`);
  return chosen;
}

function numberIn(
  value: number | null | undefined,
  fallback: number,
  min: number,
  max: number,
  name: string,
) {
  const chosen = value ?? fallback;
  if (!Number.isFinite(chosen) || chosen < min || chosen > max)
    throw new BadUserInputError(`${name} must be from ${min} to ${max}`);
  return chosen;
}

export function toView(row: EvaluationReportRow): EvaluationReportView {
  return {
    id: row.id,
    kind: row.kind as EvaluationKind,
    status: row.status as EvaluationStatus,
    modelVersionId: row.modelVersionId,
    parameters: row.parameters as EvaluationParameters,
    results: (row.results ?? {}) as EvaluationResults,
    progress: (row.progress ?? null) as EvaluationProgress | null,
    error: row.errorMessage,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
  };
}

export function isFinished(view: EvaluationReportView): boolean {
  return view.status === 'succeeded' || view.status === 'failed';
}

/**
 * Evaluations of the active model, run in this process one at a time (they sample with the same batched
 * prior as generation jobs): started by `runEvaluation` or the CLI, stored as they go (status, progress,
 * then typed figures), watched by polling the stored row, so any gateway on the same database can
 * stream any report.
 */
export class EvaluationService {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly pending = new Set<string>();
  private readonly stopping = new AbortController();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly db: Database,
    private readonly runtime: ModelRuntime,
    private readonly world: () => World | null,
    private readonly logger: Logger,
  ) {
    // The reports this gateway holds are alive; any gateway ends those whose holder went silent.
    this.heartbeat = setInterval(() => {
      void touchEvaluationReports(this.db, [...this.pending])
        .then(() => this.failAbandoned())
        .catch(() => undefined);
    }, EVALUATION_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Validate, store as queued and run in the background; returns the queued report. */
  async start(request: EvaluationRequest): Promise<EvaluationReportView> {
    if (!EVALUATION_KINDS.includes(request.kind))
      throw new BadUserInputError(`kind must be one of ${EVALUATION_KINDS.join(', ')}`);
    if (this.pending.size >= MAX_QUEUED_EVALUATIONS) {
      throw new ResourceExhaustedError(
        `${this.pending.size} evaluations are waiting or running on this gateway; try again later`,
      );
    }
    const active = await this.runtime.active();
    if (active === null) throw new ModelNotReadyError(this.runtime.notReadyReason ?? 'no model is loaded');
    if (request.kind === 'topic_precision' && this.world() === null) {
      throw new BadUserInputError(
        'topic precision needs the taste world the data came from (IMAGE_DECODER=world:<preset>:<seed>)',
      );
    }
    const parameters = this.parameters(
      request,
      active.model.schedule.timesteps,
      samplingDefaults(active.model),
    );
    const row = await insertEvaluationReport(this.db, {
      modelVersionId: active.version.id,
      kind: request.kind,
      parameters,
    });
    this.pending.add(row.id);
    const run = this.chain.then(() => this.run(row.id, request.kind, parameters));
    this.chain = run.catch(() => undefined);
    return toView(row);
  }

  /** Start and wait for the end (the CLI without a gateway); progress goes to `onProgress` too. */
  async runToEnd(
    request: EvaluationRequest,
    onProgress?: (progress: EvaluationProgress) => void,
  ): Promise<EvaluationReportView> {
    const started = await this.start(request);
    let last = '';
    for await (const view of this.watch(started.id, this.stopping.signal)) {
      if (view.progress !== null && onProgress !== undefined) {
        const key = JSON.stringify(view.progress);
        if (key !== last) onProgress(view.progress);
        last = key;
      }
      if (isFinished(view)) return view;
    }
    return this.require(started.id);
  }

  private parameters(
    request: EvaluationRequest,
    timesteps: number,
    defaults: ReturnType<typeof samplingDefaults>,
  ): EvaluationParameters {
    const sampler = request.sampler ?? 'ddim';
    const sweep = request.kind === 'guidance_sweep' || request.kind === 'ablation';
    const scales = request.scales ?? (request.kind === 'guidance_sweep' ? DEFAULT_SCALES : []);
    const verifierScales = request.verifierScales ?? [];
    if (scales.length > 12 || verifierScales.length > 8)
      throw new BadUserInputError('at most 12 guidance scales and 8 verifier scales');
    for (const w of scales) numberIn(w, 0, 0, MAX_GUIDANCE, 'each guidance scale');
    for (const v of verifierScales) numberIn(v, 0, 0, MAX_VERIFIER_GUIDANCE, 'each verifier scale');
    if (request.kind === 'guidance_sweep' && scales.length + verifierScales.length === 0)
      throw new BadUserInputError('a sweep needs at least one guidance or verifier scale');
    return {
      samplesPerUser: integerIn(request.samplesPerUser, 25, 2, 1000, 'samplesPerUser'),
      permutations: integerIn(request.permutations, sweep ? 200 : 1000, 1, 100_000, 'permutations'),
      sampler,
      // DDPM is the paper's ancestral sampler over every training step: record what runs.
      steps:
        sampler === 'ddpm'
          ? timesteps
          : integerIn(request.steps, Math.min(50, timesteps), 1, timesteps, 'steps'),
      guidanceScale: numberIn(
        request.guidanceScale,
        defaults.guidanceScale,
        0,
        MAX_GUIDANCE,
        'guidanceScale',
      ),
      verifierScale: numberIn(
        request.verifierScale,
        defaults.verifierScale,
        0,
        MAX_VERIFIER_GUIDANCE,
        'verifierScale',
      ),
      candidates: integerIn(request.candidates, defaults.candidates, 1, 16, 'candidates'),
      seed: integerIn(request.seed, 0, 0, 2 ** 31 - 1, 'seed'),
      maxUsers: integerIn(request.maxUsers, 0, 0, 100_000, 'maxUsers'),
      scales: [...scales],
      verifierScales: [...verifierScales],
    };
  }

  private async run(id: string, kind: EvaluationKind, parameters: EvaluationParameters): Promise<void> {
    const lease = await this.runtime.acquire();
    try {
      if (lease === null) throw new Error(this.runtime.notReadyReason ?? 'no model is loaded');
      let lastWrite = 0;
      let writing: Promise<void> = Promise.resolve();
      const results = await computeEvaluation(kind, parameters, {
        active: lease.active,
        world: this.world(),
        likedItems: async (users) => {
          const map = new Map<string, string[]>();
          for (const { user, item } of await likedItemsOfUsers(this.db, users)) {
            const list = map.get(user) ?? [];
            list.push(item);
            map.set(user, list);
          }
          return map;
        },
        signal: this.stopping.signal,
        onProgress: (progress) => {
          const now = Date.now();
          if (now - lastWrite < PROGRESS_WRITE_MS && progress.done !== progress.total) return;
          lastWrite = now;
          writing = writing
            .then(() => updateEvaluationProgress(this.db, id, progress))
            .catch(() => undefined);
        },
      });
      await writing;
      await finishEvaluationReport(this.db, id, { status: 'succeeded', results });
    } catch (error) {
      const message = this.stopping.signal.aborted
        ? 'the gateway stopped before the evaluation ended'
        : (error as Error).message;
      if (!this.stopping.signal.aborted) this.logger.warn('evaluation failed', { id, error });
      await finishEvaluationReport(this.db, id, { status: 'failed', errorMessage: message }).catch(
        () => undefined,
      );
    } finally {
      lease?.release();
      this.pending.delete(id);
    }
  }

  async find(id: string): Promise<EvaluationReportView | undefined> {
    if (!UUID.test(id)) return undefined;
    const row = await findEvaluationReport(this.db, id);
    return row === undefined ? undefined : toView(row);
  }

  async require(id: string): Promise<EvaluationReportView> {
    const view = await this.find(id);
    if (view === undefined) throw new NotFoundError(`evaluation report ${quote(id)} does not exist`);
    return view;
  }

  async list(
    filter: { modelVersionId?: number | undefined; kind?: string | undefined },
    limit: number,
  ): Promise<EvaluationReportView[]> {
    return (await listEvaluationReports(this.db, filter, limit)).map(toView);
  }

  /** The report now, then each time its status or progress changes, until it ends. */
  async *watch(id: string, signal: AbortSignal): AsyncGenerator<EvaluationReportView> {
    let last = '';
    while (!signal.aborted) {
      const view = await this.require(id);
      const key = `${view.status}:${JSON.stringify(view.progress)}`;
      if (key !== last) {
        last = key;
        yield view;
      }
      if (isFinished(view)) return;
      await sleep(WATCH_POLL_MS, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Unfinished reports whose gateway went silent (stopped or died) end as failed; how many. */
  async failAbandoned(staleMs = EVALUATION_ABANDONED_MS): Promise<number> {
    const count = await failAbandonedEvaluations(
      this.db,
      'the gateway running it stopped before the evaluation ended',
      staleMs,
    );
    if (count > 0) this.logger.info('marked abandoned evaluations failed', { count });
    return count;
  }

  /** Stop the running evaluation (it ends failed) and wait for the queue to settle. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.stopping.abort();
    await this.chain;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
