import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { JobStatus } from './enums.js';

@ObjectType({
  description:
    "One event of a generation's life: its state on subscribe, every denoising step, then the end.",
})
export class GenerationProgress {
  @Field(() => ID)
  jobId!: string;
  @Field(() => JobStatus)
  status!: JobStatus;
  @Field(() => Int)
  step!: number;
  @Field(() => Int)
  totalSteps!: number;
  @Field(() => Int)
  elapsedMs!: number;
  @Field(() => Int, { nullable: true })
  etaMs!: number | null;
  @Field(() => Float, {
    nullable: true,
    description: "Mean verifier score of the current clean estimates (x0) for the job's user.",
  })
  previewScore!: number | null;
  @Field(() => String, { nullable: true, description: 'Stable code when status is FAILED.' })
  errorCode!: string | null;

  /** Resolved by field resolvers. */
  previewNearestItemId!: string | null;
}
