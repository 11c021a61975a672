import { Arg, ID, Int, Resolver, Root, Subscription } from 'type-graphql';
import { BadUserInputError, ForbiddenError } from '../errors.js';
import { mayReadJob } from '../services/access/principal.js';
import { NOT_YOUR_JOB } from './generation.resolver.js';
import { type ProgressEvent } from '../services/generation/events.js';
import { type GatewayContext } from './context.js';
import { GenerationProgress } from './types/generation-progress.type.js';

/**
 * The service's event stream, closed as soon as the client unsubscribes. graphql-ws calls `return()`
 * while a `next()` is still waiting for an event; a generator would queue that return behind the next
 * event (which may never come), so `return()` here aborts first, which ends the pending wait.
 */
function watchJob(context: GatewayContext, job: string, every: number): AsyncIterableIterator<ProgressEvent> {
  const stop = new AbortController();
  const events = context.services.generation.watch(job, every, stop.signal);
  const iterator: AsyncIterableIterator<ProgressEvent> = {
    next: () => events.next(),
    return: async () => {
      stop.abort();
      await events.return(undefined);
      return { done: true, value: undefined };
    },
    throw: async (error: unknown) => {
      stop.abort();
      return events.throw(error);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

@Resolver(() => GenerationProgress)
export class ProgressResolver {
  @Subscription(() => GenerationProgress, {
    description:
      "A job's events so far (every step a late subscriber missed, from a bounded per-job buffer; else its " +
      'stored state), then every `every`-th denoising step as it happens, then completion or failure.',
    // Unknown jobs and bad arguments are refused when subscribing (an error message, not a broken stream).
    subscribe: async ({ args, context }) => {
      const gateway = context as GatewayContext;
      if (!Number.isInteger(args.every) || (args.every as number) < 1) {
        throw new BadUserInputError('every must be a positive integer');
      }
      const job = await gateway.services.generation.requireJob(args.job as string);
      if (!mayReadJob(gateway.principal, job)) throw new ForbiddenError(NOT_YOUR_JOB);
      return watchJob(gateway, args.job as string, args.every as number);
    },
  })
  generationProgress(
    @Root() event: ProgressEvent,
    @Arg('job', () => ID) _job: string,
    @Arg('every', () => Int, { defaultValue: 1, description: 'Send every k-th step only.' }) _every: number,
  ): GenerationProgress {
    // Over HTTP a subscription runs as a query, without an event: subscribing needs graphql-ws.
    if (event == null) {
      throw new BadUserInputError(
        'generationProgress is a subscription: subscribe over WebSocket (graphql-ws)',
      );
    }
    // The event carries the job and the preview item: a step costs no database read (the job's items
    // are read once, when it has succeeded).
    return GenerationProgress.from(event);
  }
}
