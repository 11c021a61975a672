import { Arg, Ctx, FieldResolver, ID, Int, Resolver, Root, Subscription } from 'type-graphql';
import { BadUserInputError } from '../errors.js';
import { type ProgressPayload } from '../services/generation/events.js';
import { type GatewayContext } from './context.js';
import { type JobStatus } from './types/enums.js';
import { GenerationJob } from './types/generation-job.type.js';
import { GenerationProgress } from './types/generation-progress.type.js';
import { Item } from './types/item.type.js';

/**
 * The service's event stream, closed as soon as the client unsubscribes. graphql-ws calls `return()`
 * while a `next()` is still waiting for an event; a generator would queue that return behind the next
 * event (which may never come), so `return()` here aborts first, which ends the pending wait.
 */
function watchJob(
  context: GatewayContext,
  job: string,
  every: number,
): AsyncIterableIterator<ProgressPayload> {
  const stop = new AbortController();
  const events = context.services.generation.watch(job, every, stop.signal);
  const iterator: AsyncIterableIterator<ProgressPayload> = {
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
      "A job's current state first, then every `every`-th denoising step, then completion or failure.",
    // Unknown jobs and bad arguments are refused when subscribing (an error message, not a broken stream).
    subscribe: async ({ args, context }) => {
      const gateway = context as GatewayContext;
      if (!Number.isInteger(args.every) || (args.every as number) < 1) {
        throw new BadUserInputError('every must be a positive integer');
      }
      await gateway.services.generation.requireJob(args.job as string);
      return watchJob(gateway, args.job as string, args.every as number);
    },
  })
  generationProgress(
    @Root() payload: ProgressPayload,
    @Ctx() context: GatewayContext,
    @Arg('job', () => ID) _job: string,
    @Arg('every', () => Int, { defaultValue: 1, description: 'Send every k-th step only.' }) _every: number,
  ): GenerationProgress {
    // One subscription shares one context across its events: batch loaders cached by the previous
    // event would show a stale job (no items yet), so each event resolves with fresh ones.
    context.loaders = context.services.createLoaders();
    return Object.assign(new GenerationProgress(), { ...payload, status: payload.status as JobStatus });
  }

  @FieldResolver(() => GenerationJob, { description: 'The job as stored now.' })
  async job(@Root() progress: GenerationProgress, @Ctx() { services }: GatewayContext) {
    return GenerationJob.from(await services.generation.requireJob(progress.jobId));
  }

  @FieldResolver(() => Item, {
    nullable: true,
    description: 'The catalog item nearest to the current estimate.',
  })
  async previewNearest(@Root() progress: GenerationProgress, @Ctx() { loaders }: GatewayContext) {
    if (progress.previewNearestItemId === null) return null;
    const row = await loaders.itemByExternalId.load(progress.previewNearestItemId);
    return row === undefined ? null : Item.from(row);
  }
}
