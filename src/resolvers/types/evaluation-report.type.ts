import { GraphQLDateTime } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import {
  type DistributionFigures as DistributionData,
  type EvaluationReportView,
  type Histogram as HistogramData,
  type OracleFigures as OracleData,
  type PersonalisationFigures as PersonalisationData,
  type PrecisionRecallFigures as PrecisionRecallData,
  type SettingFigures as SettingData,
  type TopicFigures as TopicData,
  type UserFigure as UserFigureData,
} from '../../services/evaluation/report.js';
import { EvaluationKind, EvaluationStatus, Sampler } from './enums.js';

@ObjectType({ description: 'counts[i] values fell in [edges[i], edges[i + 1]).' })
export class Histogram implements HistogramData {
  @Field(() => [Float])
  edges!: number[];
  @Field(() => [Int])
  counts!: number[];
}

@ObjectType({ description: "One user's value of a figure." })
export class UserFigure implements UserFigureData {
  @Field(() => ID)
  user!: string;
  @Field(() => Float)
  value!: number;
}

@ObjectType({ description: "The paper's personalisation test (Algorithm 1)." })
export class PersonalisationFigures implements PersonalisationData {
  @Field(() => Int)
  users!: number;
  @Field(() => Int)
  samplesPerUser!: number;
  @Field(() => Float, { description: "Mean over users of the verifier's mean score of their own samples." })
  statistic!: number;
  @Field(() => Float)
  permutationMean!: number;
  @Field(() => Float)
  permutationStd!: number;
  @Field(() => Float, { description: '(statistic - permutation mean) / permutation sd.' })
  z!: number;
  @Field(() => Float, { description: '(k + 1) / (N + 1), k shuffles at least the statistic.' })
  pValue!: number;
  @Field(() => Float)
  ownVsOthersGap!: number;
  @Field(() => Histogram, {
    name: 'nullDistribution',
    description: 'The null distribution of the statistic (40 bins).',
  })
  null!: Histogram;
}

@ObjectType({ description: 'Generated embeddings against the held-out liked ones (the test split).' })
export class DistributionFigures implements DistributionData {
  @Field(() => Int)
  generated!: number;
  @Field(() => Int)
  reference!: number;
  @Field(() => Float)
  frechetDistance!: number;
  @Field(() => Float, {
    description: 'RBF kernel, sigma 10, scale 1000, L2-normalised (the reference constants).',
  })
  cmmd!: number;
  @Field(() => [UserFigure])
  perUserFrechet!: UserFigure[];
  @Field(() => [UserFigure])
  perUserCmmd!: UserFigure[];
}

@ObjectType({ description: 'Precision and recall at k as the reference code defines them.' })
export class PrecisionRecallFigures implements PrecisionRecallData {
  @Field(() => Int)
  k!: number;
  @Field(() => Float, { description: 'Share of matches (nearest held-out item of the user) the user liked.' })
  precision!: number;
  @Field(() => Float, {
    description: "Share of the user's held-out liked items some generated embedding matched.",
  })
  recall!: number;
  @Field(() => [UserFigure])
  perUserPrecision!: UserFigure[];
  @Field(() => [UserFigure])
  perUserRecall!: UserFigure[];
}

@ObjectType({ description: 'The oracle of a taste world on generated items (absent elsewhere).' })
export class OracleFigures implements OracleData {
  @Field(() => Float)
  generatedLikeRate!: number;
  @Field(() => Float, { description: "Each user's 10 best catalog items by the oracle." })
  bestCatalogLikeRate!: number;
  @Field(() => Float)
  randomCatalogLikeRate!: number;
}

@ObjectType({ description: 'One setting of a sweep or an ablation, and what it gave.' })
export class SettingFigures implements SettingData {
  @Field(() => String)
  label!: string;
  @Field(() => Float)
  guidanceScale!: number;
  @Field(() => Float)
  verifierScale!: number;
  @Field(() => Float)
  verifierScore!: number;
  @Field(() => Float, { description: "Mean pairwise cosine distance within a user's items." })
  diversity!: number;
  @Field(() => Float)
  cmmd!: number;
  @Field(() => Float)
  inRange!: number;
  @Field(() => Float, { nullable: true })
  oracleLikeRate!: number | null;
  @Field(() => Float)
  z!: number;
}

@ObjectType({
  description:
    "Taste world: shares of generated pictures whose decoded attributes are all among the user's topics (values more common in their likes than in the catalog).",
})
export class TopicFigures implements TopicData {
  @Field(() => Float)
  contentPrecision!: number;
  @Field(() => Float)
  stylePrecision!: number;
  @Field(() => Float)
  randomContentPrecision!: number;
  @Field(() => Float)
  randomStylePrecision!: number;
  @Field(() => [UserFigure])
  perUserContent!: UserFigure[];
  @Field(() => [UserFigure])
  perUserStyle!: UserFigure[];
}

@ObjectType({ description: 'The settings a report ran with (the sampler’s real step count).' })
export class EvaluationParameters {
  @Field(() => Int)
  samplesPerUser!: number;
  @Field(() => Int)
  permutations!: number;
  @Field(() => Sampler)
  sampler!: Sampler;
  @Field(() => Int, { description: 'Denoising steps run (DDPM: every training step).' })
  steps!: number;
  @Field(() => Float)
  guidanceScale!: number;
  @Field(() => Float)
  verifierScale!: number;
  @Field(() => Int)
  candidates!: number;
  @Field(() => Int)
  seed!: number;
  @Field(() => Int, { description: '0: every user the prior knows.' })
  maxUsers!: number;
  @Field(() => [Float])
  scales!: number[];
  @Field(() => [Float])
  verifierScales!: number[];
}

@ObjectType()
export class EvaluationProgress {
  @Field(() => String)
  phase!: string;
  @Field(() => Int)
  done!: number;
  @Field(() => Int)
  total!: number;
}

@ObjectType({ description: 'One chart of a report, as SVG.' })
export class Chart {
  @Field(() => String)
  name!: string;
  @Field(() => String)
  title!: string;
  @Field(() => String, {
    description:
      'Path of the SVG on this gateway, /reports/:id/charts/:name.svg, with its access token (valid 24 hours).',
  })
  url!: string;
  @Field(() => String, { description: 'The SVG document.' })
  svg!: string;
}

@ObjectType({ description: 'An evaluation of a model version: runEvaluation or `npm run cli -- evaluate`.' })
export class EvaluationReport {
  @Field(() => ID)
  id!: string;
  @Field(() => EvaluationKind)
  kind!: EvaluationKind;
  @Field(() => EvaluationStatus)
  status!: EvaluationStatus;
  @Field(() => ID)
  modelVersionId!: string;
  @Field(() => EvaluationParameters)
  parameters!: EvaluationParameters;
  @Field(() => GraphQLDateTime)
  createdAt!: Date;
  @Field(() => GraphQLDateTime, { nullable: true })
  finishedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'Why it failed.' })
  error!: string | null;
  @Field(() => EvaluationProgress, { nullable: true, description: 'While queued or running.' })
  progress!: EvaluationProgress | null;
  @Field(() => PersonalisationFigures, { nullable: true })
  personalisation!: PersonalisationFigures | null;
  @Field(() => DistributionFigures, { nullable: true })
  distribution!: DistributionFigures | null;
  @Field(() => PrecisionRecallFigures, { nullable: true })
  precisionRecall!: PrecisionRecallFigures | null;
  @Field(() => [SettingFigures], { nullable: true, description: 'guidance_sweep: one row per scale.' })
  sweep!: SettingFigures[] | null;
  @Field(() => [SettingFigures], { nullable: true, description: 'ablation: the served setting first.' })
  ablations!: SettingFigures[] | null;
  @Field(() => TopicFigures, { nullable: true })
  topicPrecision!: TopicFigures | null;
  @Field(() => OracleFigures, { nullable: true, description: 'On a taste world: the oracle’s view.' })
  oracle!: OracleFigures | null;
  @Field(() => Float, { nullable: true })
  samplingSeconds!: number | null;
  /** The view it was made from (charts are drawn from it). */
  view!: EvaluationReportView;

  static from(view: EvaluationReportView): EvaluationReport {
    const { results } = view;
    return Object.assign(new EvaluationReport(), {
      id: view.id,
      kind: view.kind as EvaluationKind,
      status: view.status as EvaluationStatus,
      modelVersionId: String(view.modelVersionId),
      parameters: view.parameters,
      createdAt: view.createdAt,
      finishedAt: view.finishedAt,
      error: view.error,
      progress: view.progress,
      personalisation: results.personalisation ?? null,
      distribution: results.distribution ?? null,
      precisionRecall: results.precisionRecall ?? null,
      sweep: results.sweep ?? null,
      ablations: results.ablations ?? null,
      topicPrecision: results.topicPrecision ?? null,
      oracle: results.oracle ?? null,
      samplingSeconds: results.samplingSeconds ?? null,
      view,
    });
  }
}

@InputType({ description: 'An evaluation to run; anything left out takes the model’s or the paper’s value.' })
export class EvaluationInput {
  @Field(() => EvaluationKind)
  kind!: EvaluationKind;
  @Field(() => Int, {
    nullable: true,
    description: 'Embeddings per user (default 25, as the reference code).',
  })
  samplesPerUser?: number | null;
  @Field(() => Int, { nullable: true, description: 'Shuffles of the null (default 1000; sweeps 200).' })
  permutations?: number | null;
  @Field(() => Sampler, { nullable: true })
  sampler?: Sampler | null;
  @Field(() => Int, { nullable: true, description: 'DDIM steps (default 50); DDPM runs every step.' })
  steps?: number | null;
  @Field(() => Float, { nullable: true })
  guidanceScale?: number | null;
  @Field(() => Float, { nullable: true })
  verifierScale?: number | null;
  @Field(() => Int, { nullable: true })
  candidates?: number | null;
  @Field(() => Int, { nullable: true })
  seed?: number | null;
  @Field(() => Int, { nullable: true, description: 'Evaluate the first N users only (0: all).' })
  maxUsers?: number | null;
  @Field(() => [Float], {
    nullable: true,
    description: 'guidance_sweep: scales (default 1, 2, 3, 5, 7, 10).',
  })
  scales?: number[] | null;
  @Field(() => [Float], {
    nullable: true,
    description: 'guidance_sweep: verifier guidance scales to try too.',
  })
  verifierScales?: number[] | null;
}
