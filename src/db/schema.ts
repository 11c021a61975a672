import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  real,
  serial,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { JOB_ERROR_CODES, JOB_STATUSES, ROLES, SAMPLERS } from '../vocabulary.js';

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();

/**
 * API keys: only a SHA-256 of each key is stored (keys are 256 random bits, so a fast hash is safe), with
 * its role and, for a client key, the users it may serve (null: any). Keys are revoked, never deleted,
 * so the jobs they started keep their owner.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    /** Hex SHA-256 of the whole key. */
    keyHash: text('key_hash').notNull(),
    /** The key's first characters, to recognise it in a list (never enough to use it). */
    keyPrefix: text('key_prefix').notNull(),
    /** External ids of the users a client key may serve; null: any user. */
    users: text('users').array(),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    /** When a gateway last looked the key up for a request (at most once a minute per gateway). */
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [
    uniqueIndex('api_keys_hash_idx').on(table.keyHash),
    check('api_keys_role_known', sql`${table.role} in ('client', 'analyst', 'admin')`),
  ],
);

/**
 * Secrets every gateway on this database shares, made once by whichever starts first: `page-links` signs
 * the links to report pages (a browser opening a link sends no Authorization header).
 */
export const gatewaySecrets = pgTable('gateway_secrets', {
  name: text('name').primaryKey(),
  /** 256 random bits, hex. */
  secret: text('secret').notNull(),
  createdAt: createdAt(),
});

/** People who rate items, addressed outside by their external id. */
export const users = pgTable('users', {
  id: serial('id').primaryKey(),
  externalId: text('external_id').notNull().unique(),
  createdAt: createdAt(),
});

/** One row: the catalog-wide embedding width, fixed by the first item stored. */
export const catalogSettings = pgTable(
  'catalog_settings',
  {
    id: smallint('id').primaryKey().default(1),
    embeddingDim: integer('embedding_dim').notNull(),
  },
  (table) => [
    check('catalog_settings_single_row', sql`${table.id} = 1`),
    check('catalog_settings_dim_positive', sql`${table.embeddingDim} > 0`),
  ],
);

export const items = pgTable(
  'items',
  {
    id: serial('id').primaryKey(),
    externalId: text('external_id').notNull().unique(),
    title: text('title'),
    imageUrl: text('image_url'),
    embedding: real('embedding').array().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [check('items_embedding_not_empty', sql`cardinality(${table.embedding}) > 0`)],
);

export const ratings = pgTable(
  'ratings',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    itemId: integer('item_id')
      .notNull()
      .references(() => items.id, { onDelete: 'cascade' }),
    score: smallint('score').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    uniqueIndex('ratings_user_item_unique').on(table.userId, table.itemId),
    index('ratings_item_idx').on(table.itemId),
    index('ratings_updated_at_idx').on(table.updatedAt),
    check('ratings_score_range', sql`${table.score} between 1 and 5`),
  ],
);

/** A trained model artifact; at most one is active. */
export const modelVersions = pgTable(
  'model_versions',
  {
    id: serial('id').primaryKey(),
    preset: text('preset').notNull(),
    embeddingDim: integer('embedding_dim').notNull(),
    artifactDir: text('artifact_dir').notNull(),
    datasetHash: text('dataset_hash'),
    metrics: jsonb('metrics').notNull().default({}),
    /** When the ratings it learned from were read (the snapshot's time); later ratings are new to it. */
    ratingsAsOf: timestamp('ratings_as_of', { withTimezone: true, mode: 'date' }),
    active: boolean('active').notNull().default(false),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex('model_versions_one_active')
      .on(table.active)
      .where(sql`${table.active}`),
    uniqueIndex('model_versions_artifact_dir_unique').on(table.artifactDir),
  ],
);

export const generationJobs = pgTable(
  'generation_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    modelVersionId: integer('model_version_id').references(() => modelVersions.id),
    status: text('status', { enum: JOB_STATUSES }).notNull().default('queued'),
    count: integer('count').notNull(),
    sampler: text('sampler', { enum: SAMPLERS }).notNull(),
    steps: integer('steps').notNull(),
    guidanceScale: doublePrecision('guidance_scale').notNull(),
    /** Verifier guidance (0: off). */
    verifierScale: doublePrecision('verifier_scale').notNull().default(0),
    /** Candidates drawn per kept item (1: no selection). */
    candidates: integer('candidates').notNull().default(1),
    seed: integer('seed').notNull(),
    step: integer('step').notNull().default(0),
    errorCode: text('error_code', { enum: JOB_ERROR_CODES }),
    errorMessage: text('error_message'),
    createdAt: createdAt(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
    /** The API key that started the job (null: authentication off, or before keys existed). */
    apiKeyId: uuid('api_key_id').references(() => apiKeys.id),
  },
  (table) => [
    index('generation_jobs_key_idx').on(table.apiKeyId, table.status),
    index('generation_jobs_user_idx').on(table.userId, table.createdAt),
    index('generation_jobs_status_idx').on(table.status),
    check('generation_jobs_count_positive', sql`${table.count} > 0`),
  ],
);

export const generatedItems = pgTable(
  'generated_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    jobId: uuid('job_id')
      .notNull()
      .references(() => generationJobs.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    modelVersionId: integer('model_version_id')
      .notNull()
      .references(() => modelVersions.id),
    position: integer('position').notNull(),
    embedding: real('embedding').array().notNull(),
    verifierScore: doublePrecision('verifier_score').notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    index('generated_items_user_idx').on(table.userId, table.verifierScore),
    uniqueIndex('generated_items_job_position_unique').on(table.jobId, table.position),
  ],
);

export const evaluationReports = pgTable(
  'evaluation_reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    modelVersionId: integer('model_version_id')
      .notNull()
      .references(() => modelVersions.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    parameters: jsonb('parameters').notNull().default({}),
    results: jsonb('results').notNull(),
    /** queued, running, succeeded or failed (reports made before runs were tracked: succeeded). */
    status: text('status').notNull().default('succeeded'),
    /** { phase, done, total } while it runs. */
    progress: jsonb('progress'),
    errorMessage: text('error_message'),
    createdAt: createdAt(),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
    /** Written every few seconds by the gateway that holds the report while it is unfinished. */
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [index('evaluation_reports_model_idx').on(table.modelVersionId, table.kind, table.createdAt)],
);
