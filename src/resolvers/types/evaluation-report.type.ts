import { GraphQLDateTime } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { type EvaluationReportRecord } from '../../records.js';

@ObjectType({ description: 'A stored evaluation of a model version (npm run cli -- evaluate).' })
export class EvaluationReport {
  @Field(() => ID)
  id!: string;
  @Field(() => String, { description: 'What was evaluated: personalisation (the paper’s permutation test).' })
  kind!: string;
  @Field(() => ID)
  modelVersionId!: string;
  @Field(() => String, { description: 'JSON text of the parameters.' })
  parameters!: string;
  @Field(() => String, {
    description:
      'JSON text of the results (personalisation: statistic, permutationMean, permutationStd, z, pValue, ownVsOthersGap).',
  })
  results!: string;
  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  static from(row: EvaluationReportRecord): EvaluationReport {
    return Object.assign(new EvaluationReport(), {
      id: row.id,
      kind: row.kind,
      modelVersionId: String(row.modelVersionId),
      parameters: JSON.stringify(row.parameters),
      results: JSON.stringify(row.results),
      createdAt: row.createdAt,
    });
  }
}
