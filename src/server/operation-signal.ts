import { QueryTimeoutError } from '../errors.js';

/** The abort signal of one operation, and how to let go of it once the operation is done. */
export interface OperationScope {
  readonly signal: AbortSignal;
  /** When the operation's time is up (ms since the epoch), or Infinity. Checked as well as the timer:
   * work that never yields to the event loop (in-process PGlite) would not let the timer fire. */
  readonly deadline: number;
  /** The operation finished: stop its timer and stop listening to its parents. */
  done(): void;
}

/**
 * The scope of one query or mutation: aborted when any of `parents` aborts (its client left) or when
 * `timeoutMs` has passed (no timer for `null`, e.g. a subscription). The reason is a QueryTimeoutError
 * either way, which the resolvers' guard and long work (catalog scans) throw.
 */
export function operationScope(parents: AbortSignal[], timeoutMs: number | null): OperationScope {
  const controller = new AbortController();
  const timer =
    timeoutMs === null
      ? undefined
      : setTimeout(
          () => controller.abort(new QueryTimeoutError(`the operation ran longer than ${timeoutMs} ms`)),
          timeoutMs,
        );
  timer?.unref();
  const onParent = () => controller.abort(new QueryTimeoutError('the client left before the answer'));
  const done = () => {
    clearTimeout(timer);
    for (const parent of parents) parent.removeEventListener('abort', onParent);
  };
  for (const parent of parents) {
    if (parent.aborted) onParent();
    else parent.addEventListener('abort', onParent, { once: true });
  }
  controller.signal.addEventListener('abort', done, { once: true });
  return {
    signal: controller.signal,
    deadline: timeoutMs === null ? Infinity : Date.now() + timeoutMs,
    done,
  };
}
