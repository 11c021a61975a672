import { Field, Int, ObjectType } from 'type-graphql';
import { type Page } from '../../services/pagination.js';
import { Item } from './item.type.js';
import { Rating } from './rating.type.js';
import { User } from './user.type.js';

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType()
export class UserEdge {
  @Field(() => String)
  cursor!: string;
  @Field(() => User)
  node!: User;
}

@ObjectType()
export class UserConnection {
  @Field(() => [UserEdge])
  edges!: UserEdge[];
  @Field(() => PageInfo)
  pageInfo!: PageInfo;
  @Field(() => Int)
  totalCount!: number;
}

@ObjectType()
export class ItemEdge {
  @Field(() => String)
  cursor!: string;
  @Field(() => Item)
  node!: Item;
}

@ObjectType()
export class ItemConnection {
  @Field(() => [ItemEdge])
  edges!: ItemEdge[];
  @Field(() => PageInfo)
  pageInfo!: PageInfo;
  @Field(() => Int)
  totalCount!: number;
}

@ObjectType()
export class RatingEdge {
  @Field(() => String)
  cursor!: string;
  @Field(() => Rating)
  node!: Rating;
}

@ObjectType()
export class RatingConnection {
  @Field(() => [RatingEdge])
  edges!: RatingEdge[];
  @Field(() => PageInfo)
  pageInfo!: PageInfo;
  @Field(() => Int)
  totalCount!: number;
}

/** Shape a service page as a Relay connection, mapping each row to its GraphQL type. */
export function toConnection<Row, Node>(page: Page<Row>, map: (row: Row) => Node) {
  return {
    edges: page.nodes.map((edge) => ({ cursor: edge.cursor, node: map(edge.node) })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
    totalCount: page.totalCount,
  };
}
