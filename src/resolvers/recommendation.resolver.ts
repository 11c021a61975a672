import { Arg, Ctx, Float, ID, Int, Query, Resolver } from 'type-graphql';
import { type RecommendationEntry } from '../services/recommendation.service.js';
import { ownerKeyOf, roleOf } from '../services/access/principal.js';
import { type GatewayContext } from './context.js';
import { RecommendationReason, RecommendationSource } from './types/enums.js';
import { GeneratedItem } from './types/generated-item.type.js';
import { GenerationJob } from './types/generation-job.type.js';
import { Item } from './types/item.type.js';
import { ModelVersion } from './types/model-version.type.js';
import { type Recommendation, RecommendationList } from './types/recommendation.type.js';
import { User } from './types/user.type.js';

function toRecommendation(entry: RecommendationEntry): Recommendation {
  const common = {
    rank: entry.rank,
    score: entry.score,
    reason: entry.reason as RecommendationReason,
    explanation: entry.explanation,
  };
  return entry.source === 'catalog'
    ? { ...common, source: RecommendationSource.CATALOG, item: Item.from(entry.item) }
    : { ...common, source: RecommendationSource.GENERATED, item: GeneratedItem.from(entry.generated) };
}

@Resolver(() => RecommendationList)
export class RecommendationResolver {
  @Query(() => RecommendationList, {
    description: 'Catalog items, and generated items when asked, ranked for the user in one answer.',
  })
  async recommend(
    @Arg('user', () => ID) user: string,
    @Arg('includeGenerated', () => Boolean, { defaultValue: false }) includeGenerated: boolean,
    @Arg('first', () => Int, { defaultValue: 20, description: 'Entries to return, 1..200.' }) first: number,
    @Arg('generatedShare', () => Float, {
      nullable: true,
      description:
        'Share of the places generated items may take, 0..1 (default 0.2: 2 of the first 10); each must beat ' +
        'the catalog item it replaces. 0 keeps the catalog answer unchanged.',
    })
    generatedShare: number | null | undefined,
    @Ctx() { services, principal }: GatewayContext,
  ): Promise<RecommendationList> {
    const result = await services.recommendation.recommend(user, {
      includeGenerated,
      first,
      generatedShare: generatedShare ?? undefined,
      // Analysts read: their answers never start the pool's job.
      refill: roleOf(principal) === 'analyst' ? false : { apiKeyId: ownerKeyOf(principal) },
    });
    return {
      user: User.from(result.user),
      items: result.entries.map(toRecommendation),
      modelVersion: result.modelVersion === null ? null : ModelVersion.from(result.modelVersion),
      pendingGeneration:
        result.pendingGeneration === null ? null : GenerationJob.from(result.pendingGeneration),
      fallback: result.fallback,
    };
  }
}
