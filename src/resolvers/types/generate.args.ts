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
