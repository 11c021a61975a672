/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation Generate($user: ID!, $count: Int = 4, $steps: Int = 50, $sampler: Sampler = DDIM, $seed: Int) {\n  generate(\n    user: $user\n    count: $count\n    steps: $steps\n    sampler: $sampler\n    seed: $seed\n  ) {\n    id\n    status\n    steps\n  }\n}": typeof types.GenerateDocument,
    "subscription GenerationProgress($job: ID!, $every: Int = 1) {\n  generationProgress(job: $job, every: $every) {\n    status\n    step\n    totalSteps\n    etaMs\n    previewScore\n    previewNearest {\n      id\n      title\n    }\n    job {\n      id\n      status\n      errorCode\n      items {\n        id\n        verifierScore\n        image {\n          mimeType\n          url\n        }\n      }\n    }\n  }\n}": typeof types.GenerationProgressDocument,
    "query Recommend($user: ID!, $first: Int = 10, $includeGenerated: Boolean = true) {\n  recommend(user: $user, first: $first, includeGenerated: $includeGenerated) {\n    fallback\n    pendingGeneration {\n      id\n      status\n    }\n    items {\n      rank\n      score\n      source\n      reason\n      explanation\n      item {\n        __typename\n        ... on Item {\n          id\n          title\n          image {\n            mimeType\n            url\n          }\n        }\n        ... on GeneratedItem {\n          id\n          verifierScore\n          image {\n            mimeType\n            url\n          }\n        }\n      }\n    }\n  }\n}": typeof types.RecommendDocument,
};
const documents: Documents = {
    "mutation Generate($user: ID!, $count: Int = 4, $steps: Int = 50, $sampler: Sampler = DDIM, $seed: Int) {\n  generate(\n    user: $user\n    count: $count\n    steps: $steps\n    sampler: $sampler\n    seed: $seed\n  ) {\n    id\n    status\n    steps\n  }\n}": types.GenerateDocument,
    "subscription GenerationProgress($job: ID!, $every: Int = 1) {\n  generationProgress(job: $job, every: $every) {\n    status\n    step\n    totalSteps\n    etaMs\n    previewScore\n    previewNearest {\n      id\n      title\n    }\n    job {\n      id\n      status\n      errorCode\n      items {\n        id\n        verifierScore\n        image {\n          mimeType\n          url\n        }\n      }\n    }\n  }\n}": types.GenerationProgressDocument,
    "query Recommend($user: ID!, $first: Int = 10, $includeGenerated: Boolean = true) {\n  recommend(user: $user, first: $first, includeGenerated: $includeGenerated) {\n    fallback\n    pendingGeneration {\n      id\n      status\n    }\n    items {\n      rank\n      score\n      source\n      reason\n      explanation\n      item {\n        __typename\n        ... on Item {\n          id\n          title\n          image {\n            mimeType\n            url\n          }\n        }\n        ... on GeneratedItem {\n          id\n          verifierScore\n          image {\n            mimeType\n            url\n          }\n        }\n      }\n    }\n  }\n}": types.RecommendDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Generate($user: ID!, $count: Int = 4, $steps: Int = 50, $sampler: Sampler = DDIM, $seed: Int) {\n  generate(\n    user: $user\n    count: $count\n    steps: $steps\n    sampler: $sampler\n    seed: $seed\n  ) {\n    id\n    status\n    steps\n  }\n}"): typeof import('./graphql.js').GenerateDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription GenerationProgress($job: ID!, $every: Int = 1) {\n  generationProgress(job: $job, every: $every) {\n    status\n    step\n    totalSteps\n    etaMs\n    previewScore\n    previewNearest {\n      id\n      title\n    }\n    job {\n      id\n      status\n      errorCode\n      items {\n        id\n        verifierScore\n        image {\n          mimeType\n          url\n        }\n      }\n    }\n  }\n}"): typeof import('./graphql.js').GenerationProgressDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Recommend($user: ID!, $first: Int = 10, $includeGenerated: Boolean = true) {\n  recommend(user: $user, first: $first, includeGenerated: $includeGenerated) {\n    fallback\n    pendingGeneration {\n      id\n      status\n    }\n    items {\n      rank\n      score\n      source\n      reason\n      explanation\n      item {\n        __typename\n        ... on Item {\n          id\n          title\n          image {\n            mimeType\n            url\n          }\n        }\n        ... on GeneratedItem {\n          id\n          verifierScore\n          image {\n            mimeType\n            url\n          }\n        }\n      }\n    }\n  }\n}"): typeof import('./graphql.js').RecommendDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
