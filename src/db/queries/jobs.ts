import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm';
import { type Database } from '../client.js';
import { generatedItems, generationJobs } from '../schema.js';
import { toRealArrayLiteral } from '../real-array.js';
import { type GeneratedItemRecord, type JobRecord, type Same } from '../../records.js';
import { type JobStatus, OPEN_STATUSES } from '../../vocabulary.js';

export type GenerationJobRow = JobRecord;
export type GeneratedItemRow = GeneratedItemRecord;
export const jobRowShape: Same<typeof generationJobs.$inferSelect, JobRecord> = true;
export const generatedItemRowShape: Same<typeof generatedItems.$inferSelect, GeneratedItemRecord> = true;

export type GenerationJobWrite = Pick<
  JobRecord,
  | 'userId'
  | 'modelVersionId'
  | 'count'
  | 'sampler'
  | 'steps'
  | 'guidanceScale'
  | 'verifierScale'
  | 'candidates'
  | 'seed'
> &
  Partial<Pick<JobRecord, 'apiKeyId'>>;

/** Unfinished jobs of one user, of one API key and overall, against which a new job is admitted. */
export interface JobLimits {
  perUser: number;
  /** Applies to jobs started with a key (`apiKeyId` set). */
  perKey?: number;
  total: number;
}

/**
 * Insert a queued job unless the user or the gateway already has as many unfinished jobs as the limits
 * allow. The count and the insert run in one transaction behind an advisory lock, so concurrent requests
 * cannot both pass the check. Returns the job, or which limit refused it with the count found.
 */
export async function insertJobWithinLimits(
  db: Database,
  job: GenerationJobWrite,
  limits: JobLimits,
): Promise<{ job: JobRecord } | { refused: 'user' | 'key' | 'total'; open: number }> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${JOB_ADMISSION_LOCK})`);
    const open = await countOpenJobs(tx as unknown as Database, job.userId, job.apiKeyId ?? null);
    if (open.user >= limits.perUser) return { refused: 'user' as const, open: open.user };
    if (limits.perKey !== undefined && job.apiKeyId != null && open.key >= limits.perKey)
      return { refused: 'key' as const, open: open.key };
    if (open.total >= limits.total) return { refused: 'total' as const, open: open.total };
    const [row] = await tx.insert(generationJobs).values(job).returning();
    if (row === undefined) throw new Error('job insert returned nothing');
    return { job: row };
  });
}

// Any fixed key shared by every process that admits jobs to this database.
const JOB_ADMISSION_LOCK = 7_276_501_235;

export async function findJob(db: Database, id: string): Promise<JobRecord | undefined> {
  const [row] = await db.select().from(generationJobs).where(eq(generationJobs.id, id));
  return row;
}

export function findJobs(db: Database, ids: readonly string[]): Promise<JobRecord[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(generationJobs)
    .where(inArray(generationJobs.id, [...ids]));
}

/** The user's newest job that has not finished and that this key started (any, without a key), if any. */
export async function findOpenJobForUser(
  db: Database,
  userId: number,
  apiKeyId: string | null = null,
): Promise<JobRecord | undefined> {
  const [row] = await db
    .select()
    .from(generationJobs)
    .where(
      and(
        eq(generationJobs.userId, userId),
        inArray(generationJobs.status, [...OPEN_STATUSES]),
        apiKeyId === null ? undefined : eq(generationJobs.apiKeyId, apiKeyId),
      ),
    )
    .orderBy(desc(generationJobs.createdAt))
    .limit(1);
  return row;
}

export function listOpenJobs(db: Database): Promise<JobRecord[]> {
  return db
    .select()
    .from(generationJobs)
    .where(inArray(generationJobs.status, [...OPEN_STATUSES]))
    .orderBy(asc(generationJobs.createdAt));
}

/** Fields a state transition may set besides the status. */
export type JobChanges = Partial<
  Pick<JobRecord, 'step' | 'errorCode' | 'errorMessage' | 'startedAt' | 'finishedAt' | 'modelVersionId'>
>;

/**
 * Move a job to `to` only from the states given: the compare-and-set that keeps a cancel and a completion
 * racing from both winning. Returns the updated row, or undefined when the job was elsewhere.
 * Only services/generation/job-lifecycle.ts calls this.
 */
export async function transitionJob(
  db: Database,
  id: string,
  from: readonly JobStatus[],
  to: JobStatus,
  changes: JobChanges,
): Promise<JobRecord | undefined> {
  const [row] = await db
    .update(generationJobs)
    .set({ ...changes, status: to })
    .where(and(eq(generationJobs.id, id), inArray(generationJobs.status, [...from])))
    .returning();
  return row;
}

export async function updateJobStep(db: Database, id: string, step: number): Promise<void> {
  await db
    .update(generationJobs)
    .set({ step })
    .where(and(eq(generationJobs.id, id), eq(generationJobs.status, 'running')));
}

export interface GeneratedItemWrite {
  jobId: string;
  userId: number;
  modelVersionId: number;
  position: number;
  embedding: Float32Array;
  verifierScore: number;
}

/**
 * Apply a job's completing transition and store its items in one transaction (nothing is stored if the
 * job was cancelled meanwhile). Returns the updated job, or undefined when the transition lost.
 */
export async function completeJobWithItems(
  db: Database,
  jobId: string,
  transition: { from: readonly JobStatus[]; to: JobStatus },
  changes: JobChanges,
  items: GeneratedItemWrite[],
): Promise<JobRecord | undefined> {
  return db.transaction(async (tx) => {
    const done = await transitionJob(
      tx as unknown as Database,
      jobId,
      transition.from,
      transition.to,
      changes,
    );
    if (done === undefined) return undefined;
    if (items.length > 0) {
      await tx
        .insert(generatedItems)
        .values(
          items.map((row) => ({
            ...row,
            embedding: sql`${toRealArrayLiteral(row.embedding)}::real[]`,
          })),
        )
        .onConflictDoNothing();
    }
    return done;
  });
}

export function listJobItems(db: Database, jobIds: readonly string[]): Promise<GeneratedItemRecord[]> {
  if (jobIds.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(generatedItems)
    .where(inArray(generatedItems.jobId, [...jobIds]))
    .orderBy(asc(generatedItems.position));
}

/** A user's generated items of one model version, newest first (the pool `recommend` draws from). */
export function listUserGeneratedItems(
  db: Database,
  userId: number,
  modelVersionId: number,
  limit: number,
): Promise<GeneratedItemRecord[]> {
  return db
    .select()
    .from(generatedItems)
    .where(and(eq(generatedItems.userId, userId), eq(generatedItems.modelVersionId, modelVersionId)))
    .orderBy(desc(generatedItems.createdAt), asc(generatedItems.position))
    .limit(limit);
}

/** Unfinished jobs of one user, of one API key (0 without one), and overall. */
export async function countOpenJobs(
  db: Database,
  userId: number,
  apiKeyId: string | null = null,
): Promise<{ user: number; key: number; total: number }> {
  const [row] = await db
    .select({
      total: count(),
      user: sql<number>`count(*) filter (where ${generationJobs.userId} = ${userId})`.mapWith(Number),
      key:
        apiKeyId === null
          ? sql<number>`0`.mapWith(Number)
          : sql<number>`count(*) filter (where ${generationJobs.apiKeyId} = ${apiKeyId})`.mapWith(Number),
    })
    .from(generationJobs)
    .where(inArray(generationJobs.status, [...OPEN_STATUSES]));
  return { user: row?.user ?? 0, key: row?.key ?? 0, total: row?.total ?? 0 };
}

/** Jobs in one status (the metrics' queue depth). */
export async function countJobsInStatus(db: Database, status: JobStatus): Promise<number> {
  const [row] = await db.select({ n: count() }).from(generationJobs).where(eq(generationJobs.status, status));
  return row?.n ?? 0;
}
