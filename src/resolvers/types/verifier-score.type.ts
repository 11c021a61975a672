import { Field, Float, ID, ObjectType } from 'type-graphql';

@ObjectType({ description: "The verifier's probability that a user likes an item." })
export class VerifierScore {
  @Field(() => ID)
  item!: string;
  @Field(() => Float)
  probability!: number;
}
