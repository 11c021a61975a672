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
