import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type GatewayContext } from './context.js';
import { RatingConnection, toConnection, UserConnection } from './types/connection.type.js';
import { PageArgs } from './types/page.args.js';
import { Rating } from './types/rating.type.js';
import { User } from './types/user.type.js';
import { type GenerationBlock } from './types/enums.js';
import { GenerationAvailability } from './types/generation-availability.type.js';

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, { nullable: true, description: 'A user by id, or null.' })
  async user(@Arg('id', () => ID) id: string, @Ctx() { services }: GatewayContext): Promise<User | null> {
    const row = await services.users.findUser(id);
    return row === undefined ? null : User.from(row);
  }

  @Query(() => UserConnection, { description: 'All users, oldest first.' })
  async users(@Args(() => PageArgs) page: PageArgs, @Ctx() { services }: GatewayContext) {
    return toConnection(await services.users.listUsers(page), User.from);
  }

  @Mutation(() => User, { description: 'Create a user; an existing id returns that user unchanged.' })
  async createUser(@Arg('id', () => ID) id: string, @Ctx() { services }: GatewayContext): Promise<User> {
    return User.from(await services.users.createUser(id));
  }

  @FieldResolver(() => Int)
  async ratingCount(@Root() user: User, @Ctx() { loaders }: GatewayContext): Promise<number> {
    return (await loaders.ratingCounts.load(user.rowId)).ratingCount;
  }

  @FieldResolver(() => Int, { description: 'Ratings with score >= 4.' })
  async likedCount(@Root() user: User, @Ctx() { loaders }: GatewayContext): Promise<number> {
    return (await loaders.ratingCounts.load(user.rowId)).likedCount;
  }

  @FieldResolver(() => GenerationAvailability, {
    description: 'Whether the active model can generate items for this user, and if not, why.',
  })
  async generation(@Root() user: User, @Ctx() { services, loaders }: GatewayContext) {
    const row = await loaders.userById.load(user.rowId);
    if (row === undefined) throw new Error(`user ${user.id} vanished`);
    const availability = await services.generation.availability(row);
    return Object.assign(new GenerationAvailability(), {
      ...availability,
      reason: availability.reason as GenerationBlock | null,
    });
  }

  @FieldResolver(() => RatingConnection, { description: "The user's ratings, oldest first." })
  async ratings(
    @Root() user: User,
    @Args(() => PageArgs) page: PageArgs,
    @Ctx() { services }: GatewayContext,
  ) {
    return toConnection(await services.ratings.listUserRatings(user.rowId, page), Rating.from);
  }
}
