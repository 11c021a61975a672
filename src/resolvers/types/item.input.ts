import { Field, ID, InputType } from 'type-graphql';

@InputType({ description: 'A catalog item to insert or update by id.' })
export class ItemInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => String, { nullable: true })
  imageUrl?: string | null;

  @Field(() => [Number], { description: "Width must equal the catalog's (fixed by the first item)." })
  embedding!: number[];
}
