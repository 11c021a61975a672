import { GraphQLDateTime } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { type GeneratedItemRecord } from '../../records.js';
import { Item } from './item.type.js';

@ObjectType({ description: 'A picture of an item, catalog or generated.' })
export class Image {
  @Field(() => String, {
    description: "The URL's media type; for a catalog item's own imageUrl, guessed from the URL.",
  })
  mimeType!: string;
  @Field(() => String, {
    description:
      "A data: URL (the taste world's SVG, or a decoder service's bytes), or a catalog item's own imageUrl.",
  })
  url!: string;
}

@ObjectType({ description: 'A catalog item near an embedding.' })
export class ItemSimilarity {
  @Field(() => Item)
  item!: Item;
  @Field(() => Float)
  cosine!: number;
}

@ObjectType({ description: 'A new item sampled for one user by the diffusion prior.' })
export class GeneratedItem {
  @Field(() => ID)
  id!: string;
  @Field(() => [Float], { description: 'The sampled embedding, in the catalog embedding space.' })
  embedding!: number[];
  @Field(() => Float, { description: "The verifier's like-probability for the user, when generated." })
  verifierScore!: number;
  @Field(() => Int, { description: 'Position within its job (0-based).' })
  position!: number;
  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  row!: GeneratedItemRecord;

  static from(row: GeneratedItemRecord): GeneratedItem {
    return Object.assign(new GeneratedItem(), {
      id: row.id,
      embedding: row.embedding,
      verifierScore: row.verifierScore,
      position: row.position,
      createdAt: row.createdAt,
      row,
    });
  }
}
