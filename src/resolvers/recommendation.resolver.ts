import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import { type RecommendationEntry } from '../services/recommendation.service.js';
import { type GatewayContext } from './context.js';
import { RecommendationSource } from './types/enums.js';
import { GeneratedItem } from './types/generated-item.type.js';
import { GenerationJob } from './types/generation-job.type.js';
import { Item } from './types/item.type.js';
import { ModelVersion } from './types/model-version.type.js';
import { type Recommendation, RecommendationList } from './types/recommendation.type.js';
import { User } from './types/user.type.js';

function toRecommendation(entry: RecommendationEntry): Recommendation {
  return entry.source === 'catalog'
    ? {
        rank: entry.rank,
        score: entry.score,
        source: RecommendationSource.CATALOG,
        item: Item.from(entry.item),
      }
    : {
        rank: entry.rank,
        score: entry.score,
        source: RecommendationSource.GENERATED,
        item: GeneratedItem.from(entry.generated),
      };
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
    @Ctx() { services }: GatewayContext,
  ): Promise<RecommendationList> {
    const result = await services.recommendation.recommend(user, { includeGenerated, first });
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
