import { ArgsType, Field, Float, ID, Int } from 'type-graphql';
import { Sampler } from './enums.js';

@ArgsType()
export class GenerateArgs {
  @Field(() => ID)
  user!: string;
  @Field(() => Int, { defaultValue: 4, description: 'Embeddings to generate, 1..64.' })
  count!: number;
  @Field(() => Float, { nullable: true, description: "Classifier-free guidance w; default the model's." })
  guidanceScale?: number | null;
  @Field(() => Float, {
    nullable: true,
    description:
      "Verifier guidance: how far (standardised units per step) each step moves the clean estimate up the verifier's " +
      "log P(like); 0 is off; default the model's measured value.",
  })
  verifierScale?: number | null;
  @Field(() => Int, {
    nullable: true,
    description:
      'Candidates drawn per kept item (1..16): the job keeps the best by verifier score among those in the ' +
      "catalog's range, no two more alike than the diversity floor; default the model's measured value.",
  })
  candidates?: number | null;
  @Field(() => Int, { defaultValue: 50, description: 'DDIM steps; DDPM always runs every training step.' })
  steps!: number;
  @Field(() => Sampler, { defaultValue: Sampler.DDIM })
  sampler!: Sampler;
  @Field(() => Int, {
    nullable: true,
    description: 'Same seed and parameters, same embeddings; default random.',
  })
  seed?: number | null;
}
