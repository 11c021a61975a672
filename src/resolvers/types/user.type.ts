import { GraphQLDateTime } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { type UserRecord } from '../../records.js';

@ObjectType({ description: 'A person who rates items, addressed by the id your own system gives them.' })
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  /** Database key, never exposed. */
  rowId!: number;

  static from(row: UserRecord): User {
    return Object.assign(new User(), { id: row.externalId, createdAt: row.createdAt, rowId: row.id });
  }
}
