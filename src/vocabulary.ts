/**
 * The words every layer shares (database, services, resolvers): job states, samplers, the like threshold
 * and the stable error codes. Nothing here imports anything: any module may import it.
 */

/** A generation job's states; see services/generation/job-lifecycle.ts for the transitions. */
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** States a job never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled']);
/** States of a job that has not finished: it counts against the limits and blocks nothing else. */
export const OPEN_STATUSES: readonly JobStatus[] = ['queued', 'running'];

/** Reverse-diffusion methods: DDPM (the paper's ancestral sampler, every step) and DDIM (any steps). */
export const SAMPLERS = ['ddpm', 'ddim'] as const;
export type SamplerKind = (typeof SAMPLERS)[number];

/** A rating is a like when its score is at least this (the paper: 4 of 5). */
export const LIKE_THRESHOLD = 4;

/** Why a generation job failed (GenerationJob.errorCode). */
export const JOB_ERROR_CODES = [
  'MODEL_NOT_READY',
  'USER_NOT_IN_MODEL',
  'SAMPLING_FAILED',
  'WORKER_LOST',
  'QUEUE_UNAVAILABLE',
] as const;
export type JobErrorCode = (typeof JOB_ERROR_CODES)[number];

/** Codes of the errors clients may see (`extensions.code`). */
export const API_ERROR_CODES = [
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'MODEL_NOT_READY',
  'USER_NOT_IN_MODEL',
  'RESOURCE_EXHAUSTED',
  'QUERY_TIMEOUT',
  'QUEUE_UNAVAILABLE',
  'UNAUTHENTICATED',
  'FORBIDDEN',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/**
 * What an API key may do (server/access.ts holds the table): `client` serves end users (recommend, rate,
 * generate, watch its own jobs), `analyst` reads everything and runs evaluations, `admin` does all.
 */
export const ROLES = ['client', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];
