import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm';
import { type Database } from '../client.js';
import { generatedItems, generationJobs, type JobStatus } from '../schema.js';
import { toRealArrayLiteral } from '../real-array.js';

export type GenerationJobRow = typeof generationJobs.$inferSelect;
export type GeneratedItemRow = typeof generatedItems.$inferSelect;
export type GenerationJobWrite = typeof generationJobs.$inferInsert;

export const OPEN_STATUSES: readonly JobStatus[] = ['queued', 'running'];

export async function insertJob(db: Database, job: GenerationJobWrite): Promise<GenerationJobRow> {
  const [row] = await db.insert(generationJobs).values(job).returning();
  if (row === undefined) throw new Error('job insert returned nothing');
  return row;
}

export async function findJob(db: Database, id: string): Promise<GenerationJobRow | undefined> {
  const [row] = await db.select().from(generationJobs).where(eq(generationJobs.id, id));
  return row;
}

export function findJobs(db: Database, ids: readonly string[]): Promise<GenerationJobRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(generationJobs)
    .where(inArray(generationJobs.id, [...ids]));
}

/** The user's newest job that has not finished, if any. */
export async function findOpenJobForUser(
  db: Database,
  userId: number,
): Promise<GenerationJobRow | undefined> {
  const [row] = await db
    .select()
    .from(generationJobs)
    .where(and(eq(generationJobs.userId, userId), inArray(generationJobs.status, [...OPEN_STATUSES])))
    .orderBy(desc(generationJobs.createdAt))
    .limit(1);
  return row;
}

export function listOpenJobs(db: Database): Promise<GenerationJobRow[]> {
  return db
    .select()
    .from(generationJobs)
    .where(inArray(generationJobs.status, [...OPEN_STATUSES]))
    .orderBy(asc(generationJobs.createdAt));
}

/**
 * Move a job between states only from the states given: the compare-and-set that keeps a cancel and a
 * completion racing from both winning. Returns the updated row, or undefined when the job was elsewhere.
 */
export async function transitionJob(
  db: Database,
  id: string,
  from: readonly JobStatus[],
  set: Partial<
    Pick<
      GenerationJobRow,
      'status' | 'step' | 'errorCode' | 'errorMessage' | 'startedAt' | 'finishedAt' | 'modelVersionId'
    >
  >,
): Promise<GenerationJobRow | undefined> {
  const [row] = await db
    .update(generationJobs)
    .set(set)
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

/** Store a finished job's items and mark it succeeded in one transaction, unless it was cancelled. */
export async function completeJob(
  db: Database,
  jobId: string,
  totalSteps: number,
  rows: GeneratedItemWrite[],
): Promise<GenerationJobRow | undefined> {
  return db.transaction(async (tx) => {
    const done = await transitionJob(tx as unknown as Database, jobId, ['running'], {
      status: 'succeeded',
      step: totalSteps,
      finishedAt: new Date(),
    });
    if (done === undefined) return undefined;
    await tx
      .insert(generatedItems)
      .values(
        rows.map((row) => ({
          ...row,
          embedding: sql`${toRealArrayLiteral(row.embedding)}::real[]`,
        })),
      )
      .onConflictDoNothing();
    return done;
  });
}

export function listJobItems(db: Database, jobIds: readonly string[]): Promise<GeneratedItemRow[]> {
  if (jobIds.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(generatedItems)
    .where(inArray(generatedItems.jobId, [...jobIds]))
    .orderBy(asc(generatedItems.position));
}

/** A user's ready generated items for one model version, best first. */
export function listUserGeneratedItems(
  db: Database,
  userId: number,
  modelVersionId: number,
  limit: number,
): Promise<GeneratedItemRow[]> {
  return db
    .select()
    .from(generatedItems)
    .where(and(eq(generatedItems.userId, userId), eq(generatedItems.modelVersionId, modelVersionId)))
    .orderBy(desc(generatedItems.verifierScore))
    .limit(limit);
}

export function findGeneratedItems(db: Database, ids: readonly string[]): Promise<GeneratedItemRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(generatedItems)
    .where(inArray(generatedItems.id, [...ids]));
}

/** Unfinished jobs of one user, and overall. */
export async function countOpenJobs(db: Database, userId: number): Promise<{ user: number; total: number }> {
  const [row] = await db
    .select({
      total: count(),
      user: sql<number>`count(*) filter (where ${generationJobs.userId} = ${userId})`.mapWith(Number),
    })
    .from(generationJobs)
    .where(inArray(generationJobs.status, [...OPEN_STATUSES]));
  return { user: row?.user ?? 0, total: row?.total ?? 0 };
}
