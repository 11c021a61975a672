import { registerEnumType } from 'type-graphql';

export enum Sampler {
  DDPM = 'ddpm',
  DDIM = 'ddim',
}
registerEnumType(Sampler, {
  name: 'Sampler',
  description: 'DDPM: ancestral over every training step (the paper). DDIM: any number of steps.',
});

export enum JobStatus {
  QUEUED = 'queued',
  RUNNING = 'running',
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
  CANCELLED = 'cancelled',
}
registerEnumType(JobStatus, { name: 'JobStatus' });

export enum RecommendationSource {
  CATALOG = 'catalog',
  GENERATED = 'generated',
}
registerEnumType(RecommendationSource, { name: 'RecommendationSource' });

export enum RecommendationReason {
  CATALOG_BY_VERIFIER = 'CATALOG_BY_VERIFIER',
  GENERATED_ABOVE_CATALOG = 'GENERATED_ABOVE_CATALOG',
  MOST_LIKED = 'MOST_LIKED',
}
registerEnumType(RecommendationReason, {
  name: 'RecommendationReason',
  description: 'Why an entry is in the answer.',
  valuesConfig: {
    CATALOG_BY_VERIFIER: {
      description: "An unrated catalog item, ranked by the verifier's like-probability.",
    },
    GENERATED_ABOVE_CATALOG: {
      description:
        'A generated item in the catalog range that the verifier clearly prefers to the catalog item it replaced ' +
        '(within the share of places generated items may take).',
    },
    MOST_LIKED: { description: 'No model is serving: one of the most liked items.' },
  },
});

export enum GenerationBlock {
  NOT_IN_TRAINING_DATA = 'NOT_IN_TRAINING_DATA',
  BELOW_MIN_LIKES = 'BELOW_MIN_LIKES',
  TOO_FEW_RATINGS = 'TOO_FEW_RATINGS',
  NO_MODEL = 'NO_MODEL',
}
registerEnumType(GenerationBlock, {
  name: 'GenerationBlock',
  description: 'Why the active model cannot generate for a user.',
  valuesConfig: {
    NOT_IN_TRAINING_DATA: {
      description: 'A table-conditioned prior trained before the user rated anything.',
    },
    BELOW_MIN_LIKES: { description: 'A table-conditioned prior dropped the user by its min-likes rule.' },
    TOO_FEW_RATINGS: { description: 'A taste-conditioned prior needs a vector fitted from more ratings.' },
    NO_MODEL: { description: 'No model is serving.' },
  },
});

export enum EvaluationKind {
  PERSONALISATION = 'personalisation',
  DISTRIBUTION = 'distribution',
  PRECISION_RECALL = 'precision_recall',
  GUIDANCE_SWEEP = 'guidance_sweep',
  ABLATION = 'ablation',
  TOPIC_PRECISION = 'topic_precision',
}
registerEnumType(EvaluationKind, {
  name: 'EvaluationKind',
  description: 'What an evaluation report measures.',
  valuesConfig: {
    PERSONALISATION: {
      description: "The paper's Algorithm 1: the verifier statistic against a null of shuffled assignments.",
    },
    DISTRIBUTION: {
      description: 'Frechet distance and CMMD between generated and held-out liked embeddings.',
    },
    PRECISION_RECALL: {
      description:
        'Each generated embedding matched to its nearest held-out item of the user (reference code).',
    },
    GUIDANCE_SWEEP: {
      description: 'Verifier score, oracle like-rate, diversity and CMMD against the scale.',
    },
    ABLATION: {
      description: 'Without the user condition, unconditional, and without each generation-quality option.',
    },
    TOPIC_PRECISION: {
      description: "Taste world: generated pictures whose decoded attributes lie within the user's likes.",
    },
  },
});

export enum EvaluationStatus {
  QUEUED = 'queued',
  RUNNING = 'running',
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
}
registerEnumType(EvaluationStatus, { name: 'EvaluationStatus' });

export enum ApiKeyRole {
  CLIENT = 'client',
  ANALYST = 'analyst',
  ADMIN = 'admin',
}
registerEnumType(ApiKeyRole, {
  name: 'ApiKeyRole',
  description:
    'CLIENT: recommend, rate, generate and watch its own jobs (optionally for its users only). ANALYST: ' +
    'reads everything, verifier scores and evaluations. ADMIN: everything, including items and keys.',
});
