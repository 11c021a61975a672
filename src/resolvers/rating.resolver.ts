import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import { type GatewayContext } from './context.js';
import { Item } from './types/item.type.js';
import { Rating } from './types/rating.type.js';
import { User } from './types/user.type.js';

@Resolver(() => Rating)
export class RatingResolver {
  @Mutation(() => Rating, { description: 'Rate an item 1..5; rating it again replaces the score.' })
  async rateItem(
    @Arg('user', () => ID) user: string,
    @Arg('item', () => ID) item: string,
    @Arg('score', () => Int) score: number,
    @Ctx() { services }: GatewayContext,
  ): Promise<Rating> {
    return Rating.from(await services.ratings.rateItem(user, item, score));
  }

  @FieldResolver(() => User)
  async user(@Root() rating: Rating, @Ctx() { loaders }: GatewayContext): Promise<User> {
    const row = await loaders.userById.load(rating.userRowId);
    if (row === undefined) throw new Error(`rating ${rating.rowId} has no user`);
    return User.from(row);
  }

  @FieldResolver(() => Item)
  async item(@Root() rating: Rating, @Ctx() { loaders }: GatewayContext): Promise<Item> {
    const row = await loaders.itemById.load(rating.itemRowId);
    if (row === undefined) throw new Error(`rating ${rating.rowId} has no item`);
    return Item.from(row);
  }
}
