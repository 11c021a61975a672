/**
 * The plain records services hand to resolvers (and db queries return): no drizzle types cross into the
 * GraphQL layer. `db/queries/*` check at compile time that their rows have exactly these shapes.
 */
import type { JobErrorCode, JobStatus, Role, SamplerKind } from './vocabulary.js';

export interface UserRecord {
  /** Database key, never exposed. */
  id: number;
  externalId: string;
  createdAt: Date;
}

/** A catalog item without its embedding (loaded only when asked for). */
export interface ItemRecord {
  id: number;
  externalId: string;
  title: string | null;
  imageUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface RatingRecord {
  id: number;
  userId: number;
  itemId: number;
  score: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface JobRecord {
  id: string;
  userId: number;
  modelVersionId: number | null;
  status: JobStatus;
  count: number;
  sampler: SamplerKind;
  steps: number;
  guidanceScale: number;
  verifierScale: number;
  candidates: number;
  seed: number;
  step: number;
  errorCode: JobErrorCode | null;
  errorMessage: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** The API key that started it; null with authentication off. */
  apiKeyId: string | null;
}

export interface GeneratedItemRecord {
  id: string;
  jobId: string;
  userId: number;
  modelVersionId: number;
  position: number;
  embedding: number[];
  verifierScore: number;
  createdAt: Date;
}

export interface ModelVersionRecord {
  id: number;
  preset: string;
  embeddingDim: number;
  artifactDir: string;
  datasetHash: string | null;
  metrics: unknown;
  ratingsAsOf: Date | null;
  active: boolean;
  createdAt: Date;
}

export interface EvaluationReportRecord {
  id: string;
  modelVersionId: number;
  kind: string;
  parameters: unknown;
  results: unknown;
  status: string;
  progress: unknown;
  errorMessage: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  heartbeatAt: Date | null;
}

/** Compile-time check that two types are the same (used by db/queries against drizzle's rows). */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** An API key as stored: never the key itself, only its hash. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  role: Role;
  keyHash: string;
  keyPrefix: string;
  /** External ids of the users a client key may serve; null: any user. */
  users: string[] | null;
  createdAt: Date;
  revokedAt: Date | null;
  /** When a gateway last served a request with it (to within a minute); null: never. */
  lastUsedAt: Date | null;
}
