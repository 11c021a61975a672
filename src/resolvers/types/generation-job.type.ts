import { GraphQLDateTime } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { type JobRecord } from '../../records.js';
import { JobStatus, Sampler } from './enums.js';

@ObjectType({ description: 'A request to sample new items for a user with the diffusion prior.' })
export class GenerationJob {
  @Field(() => ID)
  id!: string;
  @Field(() => JobStatus)
  status!: JobStatus;
  @Field(() => Int, { description: 'Embeddings to generate.' })
  count!: number;
  @Field(() => Sampler)
  sampler!: Sampler;
  @Field(() => Int, { description: 'Denoising steps (DDPM: every training step).' })
  steps!: number;
  @Field(() => Float)
  guidanceScale!: number;
  @Field(() => Float, { description: 'Verifier guidance (0: off).' })
  verifierScale!: number;
  @Field(() => Int, { description: 'Candidates drawn per kept item (1: no selection).' })
  candidates!: number;
  @Field(() => Int)
  seed!: number;
  @Field(() => Int, { description: 'Denoising steps done (updated a few times a second).' })
  step!: number;
  @Field(() => String, {
    nullable: true,
    description:
      'Why it failed: MODEL_NOT_READY, USER_NOT_IN_MODEL, SAMPLING_FAILED, WORKER_LOST or QUEUE_UNAVAILABLE.',
  })
  errorCode!: string | null;
  @Field(() => GraphQLDateTime)
  createdAt!: Date;
  @Field(() => GraphQLDateTime, { nullable: true })
  startedAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  finishedAt!: Date | null;

  row!: JobRecord;

  static from(row: JobRecord): GenerationJob {
    return Object.assign(new GenerationJob(), {
      id: row.id,
      status: row.status as JobStatus,
      count: row.count,
      sampler: row.sampler as Sampler,
      steps: row.steps,
      guidanceScale: row.guidanceScale,
      verifierScale: row.verifierScale,
      candidates: row.candidates,
      seed: row.seed,
      step: row.step,
      errorCode: row.errorCode,
      createdAt: row.createdAt,
      startedAt: row.startedAt,
      finishedAt: row.finishedAt,
      row,
    });
  }
}
