import { type ItemRecord, type JobRecord } from '../../records.js';
import { TERMINAL_STATUSES } from '../../vocabulary.js';
import { type ProgressEvent, type SequencedProgress } from './events.js';

/**
 * The one builder of progress events. Without `live`, a job's stored state (what a subscriber sees when
 * no step is kept for it); with `live`, one denoising step or the end of a run.
 */
export function progressEvent(
  job: JobRecord,
  live?: { step: number; previewScore: number | null; previewNearest: ItemRecord | null },
  now = Date.now(),
): ProgressEvent {
  const started = job.startedAt?.getTime() ?? null;
  const ended = job.finishedAt?.getTime() ?? now;
  const elapsedMs = started === null ? 0 : Math.max(0, ended - started);
  const step = live?.step ?? job.step;
  // A job records the steps it runs: DDIM's as asked, DDPM's every training step.
  const totalSteps = job.steps;
  return {
    job: { ...job, step },
    step,
    totalSteps,
    elapsedMs,
    etaMs: job.status === 'running' && step > 0 ? Math.round((elapsedMs / step) * (totalSteps - step)) : null,
    previewScore: live?.previewScore ?? null,
    previewNearest: live?.previewNearest ?? null,
  };
}

export function isTerminal(event: ProgressEvent): boolean {
  return TERMINAL_STATUSES.has(event.job.status);
}

/**
 * Which events one subscriber receives: each numbered event once (replayed and live streams overlap),
 * every state change, every `every`-th step and the last step.
 */
export class ProgressFilter {
  private lastSeq = 0;

  constructor(private readonly every: number) {}

  admit({ seq, event }: SequencedProgress): boolean {
    if (seq <= this.lastSeq) return false;
    this.lastSeq = seq;
    if (event.job.status !== 'running' || event.step === 0) return true;
    return event.step % this.every === 0 || event.step === event.totalSteps;
  }
}
