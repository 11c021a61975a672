import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { BadUserInputError } from '../errors.js';
import { EvaluationReport } from './types/evaluation-report.type.js';
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

  @Query(() => [EvaluationReport], { description: 'Stored evaluation reports, newest first.' })
  async evaluationReports(
    @Arg('modelVersion', () => ID, { nullable: true }) modelVersion: string | null | undefined,
    @Arg('kind', () => String, { nullable: true }) kind: string | null | undefined,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Ctx() { services }: GatewayContext,
  ): Promise<EvaluationReport[]> {
    if (!Number.isInteger(first) || first < 1 || first > 200)
      throw new BadUserInputError('first must be 1..200');
    if (modelVersion != null && !/^\d+$/.test(modelVersion))
      throw new BadUserInputError('modelVersion is a number');
    const rows = await services.evaluation.list(
      { modelVersionId: modelVersion == null ? undefined : Number(modelVersion), kind: kind ?? undefined },
      first,
    );
    return rows.map(EvaluationReport.from);
  }
}
