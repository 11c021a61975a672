import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { type ProgressEvent } from '../../services/generation/events.js';
import { JobStatus } from './enums.js';
import { GenerationJob } from './generation-job.type.js';
import { Item } from './item.type.js';

@ObjectType({
  description:
    "One event of a generation's life: its state (or the steps a late subscriber missed), every denoising " +
    'step, then the end.',
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
  @Field(() => GenerationJob, { description: 'The job as it stood at this event (no database read).' })
  job!: GenerationJob;
  @Field(() => Item, { nullable: true, description: 'The catalog item nearest to the current estimate.' })
  previewNearest!: Item | null;

  static from(event: ProgressEvent): GenerationProgress {
    return Object.assign(new GenerationProgress(), {
      jobId: event.job.id,
      status: event.job.status as JobStatus,
      step: event.step,
      totalSteps: event.totalSteps,
      elapsedMs: event.elapsedMs,
      etaMs: event.etaMs,
      previewScore: event.previewScore,
      errorCode: event.job.errorCode,
      job: GenerationJob.from(event.job),
      previewNearest: event.previewNearest === null ? null : Item.from(event.previewNearest),
    });
  }
}
