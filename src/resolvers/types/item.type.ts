import { Field, ID, ObjectType } from 'type-graphql';
import { type ItemRecord } from '../../records.js';

@ObjectType({ description: 'A catalog item with its image embedding.' })
export class Item {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  title!: string | null;

  @Field(() => String, { nullable: true })
  imageUrl!: string | null;

  /** Database key, never exposed; the embedding field loads by it (only when asked for). */
  rowId!: number;

  static from(row: ItemRecord): Item {
    return Object.assign(new Item(), {
      id: row.externalId,
      title: row.title,
      imageUrl: row.imageUrl,
      rowId: row.id,
    });
  }
}
