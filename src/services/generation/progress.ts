import { type GenerationJobRow } from '../../db/queries/jobs.js';
import { type ProgressPayload } from './events.js';

export const TERMINAL: ReadonlySet<ProgressPayload['status']> = new Set(['succeeded', 'failed', 'cancelled']);

/** A job's stored state as a progress event (what a late or reconnecting subscriber sees first). */
export function progressFromJob(job: GenerationJobRow, now = Date.now()): ProgressPayload {
  const started = job.startedAt?.getTime() ?? null;
  const ended = job.finishedAt?.getTime() ?? now;
  const elapsedMs = started === null ? 0 : Math.max(0, ended - started);
  // A job records the steps it runs: DDIM's as asked, DDPM's every training step.
  const total = job.steps;
  return {
    jobId: job.id,
    status: job.status,
    step: job.step,
    totalSteps: total,
    elapsedMs,
    etaMs:
      job.status === 'running' && job.step > 0
        ? Math.round((elapsedMs / job.step) * (total - job.step))
        : null,
    previewScore: null,
    previewNearestItemId: null,
    errorCode: job.errorCode,
  };
}
