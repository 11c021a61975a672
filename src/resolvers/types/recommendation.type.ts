import { createUnionType, Field, Float, Int, ObjectType } from 'type-graphql';
import { RecommendationReason, RecommendationSource } from './enums.js';
import { GeneratedItem } from './generated-item.type.js';
import { GenerationJob } from './generation-job.type.js';
import { Item } from './item.type.js';
import { ModelVersion } from './model-version.type.js';
import { User } from './user.type.js';

export const RecommendedItem = createUnionType({
  name: 'RecommendedItem',
  types: () => [Item, GeneratedItem] as const,
  resolveType: (value) => (value instanceof GeneratedItem ? GeneratedItem : Item),
});

@ObjectType({
  description: "One entry of a ranked answer; score is the verifier's like-probability for both sources.",
})
export class Recommendation {
  @Field(() => Int)
  rank!: number;
  @Field(() => Float)
  score!: number;
  @Field(() => RecommendationSource)
  source!: RecommendationSource;
  @Field(() => RecommendedItem)
  item!: Item | GeneratedItem;
  @Field(() => RecommendationReason)
  reason!: RecommendationReason;
  @Field(() => String, { description: 'Why it is here, in one sentence with the scores involved.' })
  explanation!: string;
}

@ObjectType()
export class RecommendationList {
  @Field(() => User)
  user!: User;
  @Field(() => [Recommendation])
  items!: Recommendation[];
  @Field(() => ModelVersion, {
    nullable: true,
    description: 'The model that ranked them; null without a model.',
  })
  modelVersion!: ModelVersion | null;
  @Field(() => GenerationJob, {
    nullable: true,
    description: 'Set when generated items were asked for and none were ready: subscribe to follow it.',
  })
  pendingGeneration!: GenerationJob | null;
  @Field(() => String, {
    nullable: true,
    description:
      'Set when the answer is not personalised: NO_MODEL (most-liked items, scored by like share) or ' +
      "NO_RATINGS (the average user's taste under the verifier).",
  })
  fallback!: string | null;
}
