/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type JobStatus =
  | 'CANCELLED'
  | 'FAILED'
  | 'QUEUED'
  | 'RUNNING'
  | 'SUCCEEDED';

/** Why an entry is in the answer. */
export type RecommendationReason =
  /** An unrated catalog item, ranked by the verifier's like-probability. */
  | 'CATALOG_BY_VERIFIER'
  /** A generated item in the catalog range that the verifier clearly prefers to the catalog item it replaced (within the share of places generated items may take). */
  | 'GENERATED_ABOVE_CATALOG'
  /** No model is serving: one of the most liked items. */
  | 'MOST_LIKED';

export type RecommendationSource =
  | 'CATALOG'
  | 'GENERATED';

/** DDPM: ancestral over every training step (the paper). DDIM: any number of steps. */
export type Sampler =
  | 'DDIM'
  | 'DDPM';

export type GenerateMutationVariables = Exact<{
  user: string | number;
  count?: number | null | undefined;
  steps?: number | null | undefined;
  sampler?: Sampler | null | undefined;
  seed?: number | null | undefined;
}>;


export type GenerateMutation = { generate: { id: string, status: JobStatus, steps: number } };

export type GenerationProgressSubscriptionVariables = Exact<{
  job: string | number;
  every?: number | null | undefined;
}>;


export type GenerationProgressSubscription = { generationProgress: { status: JobStatus, step: number, totalSteps: number, etaMs: number | null, previewScore: number | null, previewNearest: { id: string, title: string | null } | null, job: { id: string, status: JobStatus, errorCode: string | null, items: Array<{ id: string, verifierScore: number, image: { mimeType: string, url: string } | null }> } } };

export type RecommendQueryVariables = Exact<{
  user: string | number;
  first?: number | null | undefined;
  includeGenerated?: boolean | null | undefined;
}>;


export type RecommendQuery = { recommend: { fallback: string | null, pendingGeneration: { id: string, status: JobStatus } | null, items: Array<{ rank: number, score: number, source: RecommendationSource, reason: RecommendationReason, explanation: string, item:
        | { __typename: 'GeneratedItem', id: string, verifierScore: number, image: { mimeType: string, url: string } | null }
        | { __typename: 'Item', id: string, title: string | null, image: { mimeType: string, url: string } | null }
       }> } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const GenerateDocument = new TypedDocumentString(`
    mutation Generate($user: ID!, $count: Int = 4, $steps: Int = 50, $sampler: Sampler = DDIM, $seed: Int) {
  generate(
    user: $user
    count: $count
    steps: $steps
    sampler: $sampler
    seed: $seed
  ) {
    id
    status
    steps
  }
}
    `) as unknown as TypedDocumentString<GenerateMutation, GenerateMutationVariables>;
export const GenerationProgressDocument = new TypedDocumentString(`
    subscription GenerationProgress($job: ID!, $every: Int = 1) {
  generationProgress(job: $job, every: $every) {
    status
    step
    totalSteps
    etaMs
    previewScore
    previewNearest {
      id
      title
    }
    job {
      id
      status
      errorCode
      items {
        id
        verifierScore
        image {
          mimeType
          url
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<GenerationProgressSubscription, GenerationProgressSubscriptionVariables>;
export const RecommendDocument = new TypedDocumentString(`
    query Recommend($user: ID!, $first: Int = 10, $includeGenerated: Boolean = true) {
  recommend(user: $user, first: $first, includeGenerated: $includeGenerated) {
    fallback
    pendingGeneration {
      id
      status
    }
    items {
      rank
      score
      source
      reason
      explanation
      item {
        __typename
        ... on Item {
          id
          title
          image {
            mimeType
            url
          }
        }
        ... on GeneratedItem {
          id
          verifierScore
          image {
            mimeType
            url
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<RecommendQuery, RecommendQueryVariables>;