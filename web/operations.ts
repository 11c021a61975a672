// The page's GraphQL operations and the shapes of their answers (hand-written; tests/e2e/web.test.ts
// validates every operation against the gateway's schema and its limits: depth 8, 15 aliases, cost 25,000).
export interface Picture {
  url: string;
}

export interface CatalogItem {
  __typename: 'Item';
  id: string;
  title: string | null;
  imageUrl: string | null;
  /** Only when the schema has Item.image (probed at start). */
  image?: Picture | null;
}

export interface GeneratedItem {
  __typename: 'GeneratedItem';
  id: string;
  verifierScore: number;
  image: Picture | null;
}

/** What the page asks of the schema before building its operations. */
export interface SchemaFeatures {
  /** Item.image: pictures for catalog items (the taste world's, for instance). */
  itemImage: boolean;
}

/** The roles a key has (src/vocabulary.ts). */
export type KeyRole = 'client' | 'analyst' | 'admin';

/**
 * The key's role, read from what it is refused (no query names the caller): evaluationReports needs an
 * analyst or admin key, apiKeys an admin key; a missing or unknown key is refused both (UNAUTHENTICATED).
 */
export const ACCESS = 'query Access { reports: evaluationReports(first: 1) { id } keys: apiKeys { id } }';

export interface AccessData {
  reports: { id: string }[];
  keys: { id: string }[];
}

export const FEATURES = 'query Features { item: __type(name: "Item") { fields { name } } }';

export interface FeaturesData {
  item: { fields: { name: string }[] | null } | null;
}

export function itemFields(features: SchemaFeatures): string {
  return `__typename id title imageUrl${features.itemImage ? ' image { url }' : ''}`;
}

const GENERATED_FIELDS = '__typename id verifierScore image { url }';

export interface UserSummary {
  id: string;
  ratingCount: number;
  likedCount: number;
}

export const USERS = `query Users {
  users(first: 500) { totalCount edges { node { id ratingCount likedCount } } }
}`;

export interface UsersData {
  users: { totalCount: number; edges: { node: UserSummary }[] };
}

export const USER = `query User($user: ID!) {
  user(id: $user) {
    id ratingCount likedCount
    generation { available reason message ratingsNeeded }
  }
}`;

export interface UserData {
  user:
    | (UserSummary & {
        generation: { available: boolean; reason: string | null; message: string | null };
      })
    | null;
}

export const ratingsQuery = (features: SchemaFeatures) => `query Ratings($user: ID!, $after: String) {
  user(id: $user) {
    ratings(first: 500, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { score updatedAt item { ${itemFields({ ...features, itemImage: false })} } } }
    }
  }
}`;

export interface Rated {
  score: number;
  updatedAt: string;
  item: CatalogItem;
}

export interface RatingsData {
  user: {
    ratings: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Rated }[] };
  } | null;
}

/** Pictures of a few catalog items by id, one alias each (at most 15 aliases an operation). */
export function picturesQuery(count: number): string {
  const ids = Array.from({ length: count }, (_, i) => i);
  return `query Pictures(${ids.map((i) => `$i${i}: ID!`).join(', ')}) {
  ${ids.map((i) => `i${i}: item(id: $i${i}) { id image { url } }`).join('\n  ')}
}`;
}

export const recommendQuery = (features: SchemaFeatures) => `query Recommend($user: ID!, $first: Int!) {
  recommend(user: $user, includeGenerated: true, first: $first) {
    fallback
    modelVersion { id preset }
    pendingGeneration { id status steps }
    items {
      rank score source reason explanation
      item { ... on Item { ${itemFields(features)} } ... on GeneratedItem { ${GENERATED_FIELDS} } }
    }
  }
}`;

export interface Recommendation {
  rank: number;
  score: number;
  source: 'CATALOG' | 'GENERATED';
  reason: 'CATALOG_BY_VERIFIER' | 'GENERATED_ABOVE_CATALOG' | 'MOST_LIKED';
  explanation: string;
  item: CatalogItem | GeneratedItem;
}

export interface RecommendData {
  recommend: {
    fallback: string | null;
    modelVersion: { id: string; preset: string } | null;
    pendingGeneration: { id: string; status: string; steps: number } | null;
    items: Recommendation[];
  };
}

export const GENERATE = `mutation Generate($user: ID!, $count: Int!, $sampler: Sampler!, $steps: Int!) {
  generate(user: $user, count: $count, sampler: $sampler, steps: $steps) { id status steps }
}`;

export interface GenerateData {
  generate: { id: string; status: string; steps: number };
}

export const CANCEL = `mutation Cancel($job: ID!) { cancelGeneration(job: $job) { id status } }`;

export const progressSubscription = (features: SchemaFeatures) => `subscription Progress($job: ID!) {
  generationProgress(job: $job) {
    jobId status step totalSteps elapsedMs etaMs previewScore errorCode
    previewNearest { ${itemFields(features)} }
  }
}`;

export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface Progress {
  jobId: string;
  status: JobStatus;
  step: number;
  totalSteps: number;
  elapsedMs: number;
  etaMs: number | null;
  previewScore: number | null;
  errorCode: string | null;
  previewNearest: CatalogItem | null;
}

export const JOB_ITEMS = `query JobItems($job: ID!) {
  generationJob(id: $job) { id status items { ${GENERATED_FIELDS} position } }
}`;

export interface JobItemsData {
  generationJob: { id: string; status: JobStatus; items: (GeneratedItem & { position: number })[] } | null;
}

export const REPORTS = `query Reports {
  evaluationReports(first: 10) {
    id kind status createdAt finishedAt modelVersionId pageUrl error samplingSeconds
    progress { phase done total }
    parameters { samplesPerUser sampler steps guidanceScale verifierScale candidates permutations }
    personalisation { statistic permutationMean permutationStd z pValue users samplesPerUser }
    distribution { frechetDistance cmmd generated reference }
    precisionRecall { k precision recall }
    oracle { generatedLikeRate bestCatalogLikeRate randomCatalogLikeRate }
    topicPrecision { contentPrecision stylePrecision randomContentPrecision randomStylePrecision }
    sweep { label guidanceScale verifierScale verifierScore oracleLikeRate diversity inRange z }
    ablations { label guidanceScale verifierScale verifierScore oracleLikeRate diversity inRange z }
    charts { name title url }
  }
}`;

export interface SettingFigures {
  label: string;
  guidanceScale: number;
  verifierScale: number;
  verifierScore: number;
  oracleLikeRate: number | null;
  diversity: number;
  inRange: number;
  z: number;
}

export interface Report {
  id: string;
  kind: string;
  status: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  createdAt: string;
  finishedAt: string | null;
  modelVersionId: string;
  pageUrl: string;
  error: string | null;
  samplingSeconds: number | null;
  progress: { phase: string; done: number; total: number } | null;
  parameters: {
    samplesPerUser: number;
    sampler: string;
    steps: number;
    guidanceScale: number;
    verifierScale: number;
    candidates: number;
    permutations: number;
  };
  personalisation: {
    statistic: number;
    permutationMean: number;
    permutationStd: number;
    z: number;
    pValue: number;
    users: number;
    samplesPerUser: number;
  } | null;
  distribution: { frechetDistance: number; cmmd: number; generated: number; reference: number } | null;
  precisionRecall: { k: number; precision: number; recall: number } | null;
  oracle: { generatedLikeRate: number; bestCatalogLikeRate: number; randomCatalogLikeRate: number } | null;
  topicPrecision: {
    contentPrecision: number;
    stylePrecision: number;
    randomContentPrecision: number;
    randomStylePrecision: number;
  } | null;
  sweep: SettingFigures[] | null;
  ablations: SettingFigures[] | null;
  charts: { name: string; title: string; url: string }[];
}

export interface ReportsData {
  evaluationReports: Report[];
}
