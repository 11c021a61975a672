import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { type GatewayContext } from './context.js';
import { ModelVersion } from './types/model-version.type.js';
import { VerifierScore } from './types/verifier-score.type.js';

@Resolver()
export class ModelResolver {
  @Query(() => [ModelVersion], { description: 'Registered model versions, newest first.' })
  async modelVersions(@Ctx() { services }: GatewayContext) {
    return (await services.models.listVersions()).map(ModelVersion.from);
  }

  @Query(() => [VerifierScore], {
    description: "The verifier's like-probability of each item for the user (at most 1000 items).",
  })
  async verifierScores(
    @Arg('user', () => ID) user: string,
    @Arg('items', () => [ID]) items: string[],
    @Ctx() { services }: GatewayContext,
  ): Promise<VerifierScore[]> {
    return services.recommendation.verifierScores(user, items);
  }
}
