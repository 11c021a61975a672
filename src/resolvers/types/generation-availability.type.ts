import { Field, Int, ObjectType } from 'type-graphql';
import { GenerationBlock } from './enums.js';

@ObjectType({ description: 'Whether the active model can generate items for a user, and if not, why.' })
export class GenerationAvailability {
  @Field(() => Boolean)
  available!: boolean;
  @Field(() => GenerationBlock, { nullable: true })
  reason!: GenerationBlock | null;
  @Field(() => String, { nullable: true, description: 'Why, and what would change it, in one sentence.' })
  message!: string | null;
  @Field(() => Boolean, { description: 'Whether training again now would let them generate.' })
  trainAgainHelps!: boolean;
  @Field(() => Int, { nullable: true, description: 'More ratings needed (taste-conditioned priors).' })
  ratingsNeeded!: number | null;
  @Field(() => Int, {
    nullable: true,
    description: 'More likes needed before training again can help (table-conditioned priors).',
  })
  likesNeeded!: number | null;
}
