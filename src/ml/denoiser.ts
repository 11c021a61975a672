import type { PriorInputs } from './session.js';

/** Anything that predicts noise for a batch of rows: the session run alone, or the shared batcher. */
export interface Denoiser {
  /** Predicted noise [rows, D]; rejects with an AbortError when `signal` aborts first. */
  denoise(inputs: PriorInputs, signal?: AbortSignal): Promise<Float32Array>;
  /** Validates inputs up front so that one bad request cannot fail a shared batch. */
  validate(inputs: PriorInputs): number;
  /** Announces a caller that will send a stream of requests (lets a batcher run without waiting). */
  register?(): () => void;
}

/** The error a cancelled sampling or denoising request rejects with (`name === 'AbortError'`). */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('sampling was aborted', 'AbortError');
}
