import { Field, ID, ObjectType } from 'type-graphql';
import { type ItemRow } from '../../db/queries/items.js';

@ObjectType({ description: 'A catalog item with its image embedding.' })
export class Item {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  title!: string | null;

  @Field(() => String, { nullable: true })
  imageUrl!: string | null;

  @Field(() => [Number], { description: 'The image embedding (e.g. CLIP), as stored.' })
  embedding!: number[];

  rowId!: number;

  static from(row: ItemRow): Item {
    return Object.assign(new Item(), {
      id: row.externalId,
      title: row.title,
      imageUrl: row.imageUrl,
      embedding: row.embedding,
      rowId: row.id,
    });
  }
}
