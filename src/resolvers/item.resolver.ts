import { Arg, Args, Ctx, FieldResolver, Float, Int, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type GatewayContext } from './context.js';
import { ItemConnection, toConnection } from './types/connection.type.js';
import { ItemInput } from './types/item.input.js';
import { Item } from './types/item.type.js';
import { PageArgs } from './types/page.args.js';

@Resolver(() => Item)
export class ItemResolver {
  @Query(() => Item, { nullable: true, description: 'A catalog item by id, or null.' })
  async item(@Arg('id', () => ID) id: string, @Ctx() { services }: GatewayContext): Promise<Item | null> {
    const row = await services.catalog.findItem(id);
    return row === undefined ? null : Item.from(row);
  }

  @Query(() => ItemConnection, { description: 'The catalog, oldest first.' })
  async items(@Args(() => PageArgs) page: PageArgs, @Ctx() { services }: GatewayContext) {
    return toConnection(await services.catalog.listItems(page), Item.from);
  }

  @Mutation(() => Int, {
    description: 'Insert or update catalog items by id (at most 1000 per call); returns how many changed.',
  })
  async upsertItems(
    @Arg('items', () => [ItemInput]) items: ItemInput[],
    @Ctx() { services }: GatewayContext,
  ): Promise<number> {
    return services.catalog.upsertItems(
      items.map((item) => ({
        externalId: item.id,
        title: item.title ?? null,
        imageUrl: item.imageUrl ?? null,
        embedding: item.embedding,
      })),
    );
  }

  @FieldResolver(() => [Float], { description: 'The image embedding (e.g. CLIP), as stored.' })
  async embedding(@Root() item: Item, @Ctx() { loaders }: GatewayContext): Promise<number[]> {
    const embedding = await loaders.itemEmbedding.load(item.rowId);
    if (embedding === undefined) throw new Error(`item ${item.id} has no embedding`);
    return embedding;
  }
}
