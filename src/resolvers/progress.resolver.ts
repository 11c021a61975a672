import { Arg, Ctx, FieldResolver, ID, Int, Resolver, Root, Subscription } from 'type-graphql';
import { type ProgressPayload } from '../services/generation/events.js';
import { type GatewayContext } from './context.js';
import { type JobStatus } from './types/enums.js';
import { GenerationJob } from './types/generation-job.type.js';
import { GenerationProgress } from './types/generation-progress.type.js';
import { Item } from './types/item.type.js';

/** Close the service's stream when the client unsubscribes (graphql-ws calls return()). */
async function* watchJob(
  context: GatewayContext,
  job: string,
  every: number,
): AsyncGenerator<ProgressPayload> {
  const stop = new AbortController();
  try {
    yield* context.services.generation.watch(job, every, stop.signal);
  } finally {
    stop.abort();
  }
}

@Resolver(() => GenerationProgress)
export class ProgressResolver {
  @Subscription(() => GenerationProgress, {
    description:
      "A job's current state first, then every `every`-th denoising step, then completion or failure.",
    subscribe: ({ args, context }) =>
      watchJob(context as GatewayContext, args.job as string, args.every as number),
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
