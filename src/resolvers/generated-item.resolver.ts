import { Arg, Ctx, FieldResolver, Float, Int, Resolver, Root } from 'type-graphql';
import { BadUserInputError } from '../errors.js';
import { generatedImageKey } from '../services/decoders/image-cache.js';
import { type GatewayContext } from './context.js';
import { Sampler } from './types/enums.js';
import { GeneratedItem, Image, ItemSimilarity } from './types/generated-item.type.js';
import { GenerationJob } from './types/generation-job.type.js';
import { Item } from './types/item.type.js';
import { ModelVersion } from './types/model-version.type.js';
import { User } from './types/user.type.js';

@Resolver(() => GeneratedItem)
export class GeneratedItemResolver {
  private async job(item: GeneratedItem, { loaders }: GatewayContext) {
    const row = await loaders.jobById.load(item.row.jobId);
    if (row === undefined) throw new Error(`generated item ${item.id} has no job`);
    return row;
  }

  @FieldResolver(() => GenerationJob, { name: 'job' })
  async jobField(@Root() item: GeneratedItem, @Ctx() context: GatewayContext) {
    return GenerationJob.from(await this.job(item, context));
  }

  @FieldResolver(() => User)
  async user(@Root() item: GeneratedItem, @Ctx() { loaders }: GatewayContext) {
    const row = await loaders.userById.load(item.row.userId);
    if (row === undefined) throw new Error(`generated item ${item.id} has no user`);
    return User.from(row);
  }

  @FieldResolver(() => ModelVersion)
  async modelVersion(@Root() item: GeneratedItem, @Ctx() { loaders }: GatewayContext) {
    const row = await loaders.modelVersionById.load(item.row.modelVersionId);
    if (row === undefined) throw new Error(`generated item ${item.id} has no model version`);
    return ModelVersion.from(row);
  }

  @FieldResolver(() => Int, { description: "The job's seed (the item is its `position`-th sample)." })
  async seed(@Root() item: GeneratedItem, @Ctx() context: GatewayContext) {
    return (await this.job(item, context)).seed;
  }

  @FieldResolver(() => Float)
  async guidanceScale(@Root() item: GeneratedItem, @Ctx() context: GatewayContext) {
    return (await this.job(item, context)).guidanceScale;
  }

  @FieldResolver(() => Sampler)
  async sampler(@Root() item: GeneratedItem, @Ctx() context: GatewayContext) {
    return (await this.job(item, context)).sampler as Sampler;
  }

  @FieldResolver(() => Int)
  async steps(@Root() item: GeneratedItem, @Ctx() context: GatewayContext) {
    return (await this.job(item, context)).steps;
  }

  @FieldResolver(() => [ItemSimilarity], { description: 'Catalog items nearest by cosine.' })
  async nearestItems(
    @Root() item: GeneratedItem,
    @Arg('first', () => Int, { defaultValue: 5 }) first: number,
    @Ctx() { services, loaders, signal }: GatewayContext,
  ): Promise<ItemSimilarity[]> {
    if (!Number.isInteger(first) || first < 1 || first > 100)
      throw new BadUserInputError('first must be 1..100');
    const hits = await services.recommendation.nearestCatalogItems(
      Float32Array.from(item.embedding),
      first,
      signal,
    );
    const rows = await loaders.itemByExternalId.loadMany(hits.map((hit) => hit.id));
    return hits.flatMap((hit, index) => {
      const row = rows[index];
      return row === undefined || row instanceof Error ? [] : [{ item: Item.from(row), cosine: hit.score }];
    });
  }

  @FieldResolver(() => Image, {
    nullable: true,
    description:
      "The image decoder's picture of the embedding (IMAGE_DECODER); null when no decoder is configured or the decoder cannot draw embeddings of this width (the taste world's decoder draws only its own width).",
  })
  async image(@Root() item: GeneratedItem, @Ctx() { services }: GatewayContext): Promise<Image | null> {
    return services.images.imageFor(generatedImageKey(item.id), Float32Array.from(item.embedding));
  }
}
