import { GraphQLDateTime } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { type ModelVersionRecord } from '../../records.js';

@ObjectType({ description: 'A trained model artifact registered with the gateway.' })
export class ModelVersion {
  @Field(() => ID)
  id!: string;
  @Field(() => String, { description: 'Training preset: tiny, small, paper...' })
  preset!: string;
  @Field(() => Int)
  embeddingDim!: number;
  @Field(() => GraphQLDateTime)
  createdAt!: Date;
  @Field(() => Boolean)
  active!: boolean;
  @Field(() => String, { description: 'JSON text of the training and verifier metrics.' })
  metrics!: string;
  @Field(() => String, {
    nullable: true,
    description: 'Content hash of the dataset snapshot it learned from.',
  })
  datasetHash!: string | null;

  static from(row: ModelVersionRecord): ModelVersion {
    return Object.assign(new ModelVersion(), {
      id: String(row.id),
      preset: row.preset,
      embeddingDim: row.embeddingDim,
      createdAt: row.createdAt,
      active: row.active,
      metrics: JSON.stringify(row.metrics),
      datasetHash: row.datasetHash,
    });
  }
}
