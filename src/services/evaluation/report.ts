/**
 * The typed shape of an evaluation report: what the runner stores in `evaluation_reports.results`
 * (jsonb), what GraphQL serves field by field, and what the charts and the report page draw. One type
 * per kind of figure; a report holds the figures of its kind, plus the oracle's view on a taste world.
 */

export const EVALUATION_KINDS = [
  /** The paper's Algorithm 1: verifier statistic against a null of shuffled sample -> user assignments. */
  'personalisation',
  /** Frechet distance and CMMD between generated and held-out liked embeddings, overall and per user. */
  'distribution',
  /** Each generated embedding matched to its nearest held-out item of the user (the reference code). */
  'precision_recall',
  /** The guidance scale swept (and verifier guidance, when asked): quality against the scale. */
  'guidance_sweep',
  /** Without the user condition, unconditional, and without each generation-quality option. */
  'ablation',
  /** Taste world only: generated pictures whose decoded attributes all lie within the user's likes. */
  'topic_precision',
] as const;
export type EvaluationKind = (typeof EVALUATION_KINDS)[number];

export const EVALUATION_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type EvaluationStatus = (typeof EVALUATION_STATUSES)[number];

/** What was run: every setting that changes the figures, as run (DDPM records all its steps). */
export interface EvaluationParameters {
  samplesPerUser: number;
  /** Shuffles of the permutation test (personalisation), else 0. */
  permutations: number;
  sampler: 'ddim' | 'ddpm';
  /** Denoising steps actually run (DDPM: the model's every training step). */
  steps: number;
  guidanceScale: number;
  verifierScale: number;
  candidates: number;
  seed: number;
  /** Users evaluated at most (the first by id), 0 = all the prior knows. */
  maxUsers: number;
  /** guidance_sweep: the guidance scales tried. */
  scales: number[];
  /** guidance_sweep: verifier guidance scales tried (empty: the default only). */
  verifierScales: number[];
}

/** A histogram: `counts[i]` values fell in [edges[i], edges[i + 1]). */
export interface Histogram {
  edges: number[];
  counts: number[];
}

export interface PersonalisationFigures {
  users: number;
  samplesPerUser: number;
  statistic: number;
  permutationMean: number;
  permutationStd: number;
  z: number;
  /** (k + 1) / (N + 1). */
  pValue: number;
  ownVsOthersGap: number;
  /** The null distribution, kept as a histogram (40 bins). */
  null: Histogram;
}

/** One user's figures (distribution and precision/recall kinds). */
export interface UserFigure {
  user: string;
  value: number;
}

export interface DistributionFigures {
  /** Generated embeddings compared (all users). */
  generated: number;
  /** Held-out liked embeddings compared (the artifact's test split, liked rows). */
  reference: number;
  frechetDistance: number;
  /** CMMD: RBF kernel, sigma 10, scale 1000, on L2-normalised embeddings (the reference constants). */
  cmmd: number;
  /** Per user, against that user's held-out likes (few points each: noisy, for comparison only). */
  perUserFrechet: UserFigure[];
  perUserCmmd: UserFigure[];
}

export interface PrecisionRecallFigures {
  /** Generated embeddings per user (k). */
  k: number;
  /** Share of matches (nearest held-out item of the user, by cosine) that the user liked. */
  precision: number;
  /** Share of the user's held-out liked items that some generated embedding matched. */
  recall: number;
  perUserPrecision: UserFigure[];
  perUserRecall: UserFigure[];
}

/** The oracle's judgement of generated items on a taste world (null elsewhere). */
export interface OracleFigures {
  /** Mean oracle P(like) of generated items for the users they were made for. */
  generatedLikeRate: number;
  /** Mean oracle P(like) of each user's 10 best catalog items by the oracle. */
  bestCatalogLikeRate: number;
  /** Mean oracle P(like) of random catalog items. */
  randomCatalogLikeRate: number;
}

/** One setting of a sweep or an ablation, and what it gave. */
export interface SettingFigures {
  /** What was changed, e.g. "w = 3" or "no user condition". */
  label: string;
  guidanceScale: number;
  verifierScale: number;
  /** Mean verifier P(like) of the generated items for their users. */
  verifierScore: number;
  /** Mean pairwise cosine distance among one user's generated items, averaged over users. */
  diversity: number;
  /** CMMD against the held-out liked embeddings. */
  cmmd: number;
  /** Share of generated embeddings inside the catalog's per-dimension range. */
  inRange: number;
  /** Oracle like-rate on a taste world, else null. */
  oracleLikeRate: number | null;
  /** Personalisation z (verifier) of this setting. */
  z: number;
}

export interface TopicFigures {
  /** Share of generated pictures whose content attributes (subject, composition) are all among the
   * user's topics: the decoded attribute values more common among the user's liked items than in the
   * catalog (every value a user with hundreds of likes ever liked would admit almost anything). */
  contentPrecision: number;
  /** The same for style attributes (palette, texture, lighting). */
  stylePrecision: number;
  /** The same share for random catalog items: the baseline. */
  randomContentPrecision: number;
  randomStylePrecision: number;
  perUserContent: UserFigure[];
  perUserStyle: UserFigure[];
}

/** The figures a report holds: those of its kind, and the oracle's where a taste world is known. */
export interface EvaluationResults {
  personalisation?: PersonalisationFigures;
  distribution?: DistributionFigures;
  precisionRecall?: PrecisionRecallFigures;
  sweep?: SettingFigures[];
  ablations?: SettingFigures[];
  topicPrecision?: TopicFigures;
  oracle?: OracleFigures | null;
  samplingSeconds?: number;
}

/** Progress of a report being run. */
export interface EvaluationProgress {
  phase: string;
  done: number;
  total: number;
}

/** A stored report, as services hand it around. */
export interface EvaluationReportView {
  id: string;
  kind: EvaluationKind;
  status: EvaluationStatus;
  modelVersionId: number;
  parameters: EvaluationParameters;
  results: EvaluationResults;
  progress: EvaluationProgress | null;
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

/** One chart of a report: an SVG document, named for its URL (`/reports/:id/charts/:name.svg`). */
export interface Chart {
  name: string;
  title: string;
  svg: string;
}
