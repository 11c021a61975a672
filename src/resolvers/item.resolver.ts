import { Arg, Args, Ctx, FieldResolver, Float, Int, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { catalogImageKey } from '../services/decoders/image-cache.js';
import { noDecoder } from '../services/decoders/image-decoder.js';
import { type GatewayContext } from './context.js';
import { ItemConnection, toConnection } from './types/connection.type.js';
import { Image } from './types/generated-item.type.js';
import { ItemInput } from './types/item.input.js';
import { Item } from './types/item.type.js';
import { PageArgs } from './types/page.args.js';

/** Media types by file extension, for a catalog item's own imageUrl. */
const MIME_TYPES: Record<string, string> = {
  avif: 'image/avif',
  gif: 'image/gif',
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  png: 'image/png',
  svg: 'image/svg+xml',
  webp: 'image/webp',
};

/** A URL's media type: a data: URL's own, else by the path's extension, else unknown. */
function mimeTypeOf(url: string): string {
  const data = /^data:([\w.+-]+\/[\w.+-]+)[;,]/i.exec(url);
  if (data !== null) return data[1]!.toLowerCase();
  const extension = /\.(\w+)(?:[?#].*)?$/.exec(url)?.[1]?.toLowerCase();
  return (extension !== undefined ? MIME_TYPES[extension] : undefined) ?? 'application/octet-stream';
}

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

  @FieldResolver(() => Image, {
    nullable: true,
    description:
      "A picture of the item: the image decoder's picture of its embedding (IMAGE_DECODER; the taste world's SVG), else its imageUrl; null when it has no imageUrl and no decoder is configured or the decoder cannot draw embeddings of this width (the taste world's decoder draws only its own width).",
  })
  async image(@Root() item: Item, @Ctx() context: GatewayContext): Promise<Image | null> {
    const { services } = context;
    if (services.images.decoder !== noDecoder) {
      const embedding = Float32Array.from(await this.embedding(item, context));
      const decoded = await services.images.imageFor(catalogImageKey(embedding), embedding);
      if (decoded !== null) return decoded;
    }
    if (item.imageUrl === null || item.imageUrl === '') return null;
    return { mimeType: mimeTypeOf(item.imageUrl), url: item.imageUrl };
  }
}
