import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ForbiddenError } from '../errors.js';
import { mayCancelJob, mayReadJob, ownerKeyOf } from '../services/access/principal.js';
import { type GatewayContext } from './context.js';
import { JobStatus } from './types/enums.js';
import { GenerateArgs } from './types/generate.args.js';
import { GeneratedItem } from './types/generated-item.type.js';
import { GenerationJob } from './types/generation-job.type.js';
import { ModelVersion } from './types/model-version.type.js';
import { User } from './types/user.type.js';

/** What a key is told about another key's job (ids are visible, e.g. in `recommend`). */
export const NOT_YOUR_JOB = 'this job was started by another API key';

@Resolver(() => GenerationJob)
export class GenerationResolver {
  @Mutation(() => GenerationJob, {
    description: 'Start generating new items for a user; follow it with generationProgress.',
  })
  async generate(
    @Args(() => GenerateArgs) args: GenerateArgs,
    @Ctx() { services, principal }: GatewayContext,
  ) {
    return GenerationJob.from(
      await services.generation.generate({ ...args, apiKeyId: ownerKeyOf(principal) }),
    );
  }

  @Mutation(() => GenerationJob, {
    description: 'Cancel a queued or running job; a finished job is returned unchanged.',
  })
  async cancelGeneration(@Arg('job', () => ID) job: string, @Ctx() { services, principal }: GatewayContext) {
    const row = await services.generation.requireJob(job);
    if (!mayCancelJob(principal, row)) throw new ForbiddenError(NOT_YOUR_JOB);
    return GenerationJob.from(await services.generation.cancel(job));
  }

  @Query(() => GenerationJob, {
    nullable: true,
    description: 'A job by id, or null; a client key reads only the jobs it started.',
  })
  async generationJob(@Arg('id', () => ID) id: string, @Ctx() { services, principal }: GatewayContext) {
    const row = await services.generation.findJob(id);
    if (row === undefined) return null;
    if (!mayReadJob(principal, row)) throw new ForbiddenError(NOT_YOUR_JOB);
    return GenerationJob.from(row);
  }

  @FieldResolver(() => User)
  async user(@Root() job: GenerationJob, @Ctx() { loaders }: GatewayContext): Promise<User> {
    const row = await loaders.userById.load(job.row.userId);
    if (row === undefined) throw new Error(`job ${job.id} has no user`);
    return User.from(row);
  }

  @FieldResolver(() => [GeneratedItem], { description: 'The generated items, once the job succeeded.' })
  async items(@Root() job: GenerationJob, @Ctx() { loaders }: GatewayContext): Promise<GeneratedItem[]> {
    // Items exist only once a job has succeeded, and never change after: no read before, and a cached
    // read is never stale.
    if (job.status !== JobStatus.SUCCEEDED) return [];
    return (await loaders.jobItems.load(job.id)).map(GeneratedItem.from);
  }

  @FieldResolver(() => ModelVersion, { nullable: true })
  async modelVersion(@Root() job: GenerationJob, @Ctx() { loaders }: GatewayContext) {
    if (job.row.modelVersionId === null) return null;
    const row = await loaders.modelVersionById.load(job.row.modelVersionId);
    return row === undefined ? null : ModelVersion.from(row);
  }
}
