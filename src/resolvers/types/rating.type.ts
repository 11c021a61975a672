import { GraphQLDateTime } from 'graphql-scalars';
import { Field, Int, ObjectType } from 'type-graphql';
import { type RatingRecord } from '../../records.js';
import { LIKE_THRESHOLD } from '../../vocabulary.js';

@ObjectType({ description: "A user's score for a catalog item." })
export class Rating {
  @Field(() => Int, { description: '1..5' })
  score!: number;

  @Field(() => Boolean, { description: `score >= ${LIKE_THRESHOLD}, as in the paper` })
  liked!: boolean;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;

  rowId!: number;
  userRowId!: number;
  itemRowId!: number;

  static from(row: RatingRecord): Rating {
    return Object.assign(new Rating(), {
      score: row.score,
      liked: row.score >= LIKE_THRESHOLD,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      rowId: row.id,
      userRowId: row.userId,
      itemRowId: row.itemId,
    });
  }
}
