import { and, desc, eq, inArray, isNull, lt, or } from 'drizzle-orm';
import { type Database } from '../client.js';
import { evaluationReports } from '../schema.js';
import { type EvaluationReportRecord, type Same } from '../../records.js';

export type EvaluationReportRow = EvaluationReportRecord;
export const evaluationReportRowShape: Same<typeof evaluationReports.$inferSelect, EvaluationReportRecord> =
  true;

/** A report to run: stored as queued, with its parameters and no figures yet. */
export async function insertEvaluationReport(
  db: Database,
  row: { modelVersionId: number; kind: string; parameters: unknown },
): Promise<EvaluationReportRow> {
  const [stored] = await db
    .insert(evaluationReports)
    .values({ ...row, results: {}, status: 'queued', heartbeatAt: new Date() })
    .returning();
  if (stored === undefined) throw new Error('evaluation report insert returned nothing');
  return stored;
}

export async function findEvaluationReport(
  db: Database,
  id: string,
): Promise<EvaluationReportRow | undefined> {
  const [row] = await db.select().from(evaluationReports).where(eq(evaluationReports.id, id));
  return row;
}

/** Progress of a queued or running report (moves it to running); nothing once it has ended. */
export async function updateEvaluationProgress(db: Database, id: string, progress: unknown): Promise<void> {
  await db
    .update(evaluationReports)
    .set({ status: 'running', progress })
    .where(and(eq(evaluationReports.id, id), inArray(evaluationReports.status, ['queued', 'running'])));
}

/** End a report: succeeded with its figures, or failed with why. Only an unfinished report ends. */
export async function finishEvaluationReport(
  db: Database,
  id: string,
  end: { status: 'succeeded'; results: unknown } | { status: 'failed'; errorMessage: string },
): Promise<EvaluationReportRow | undefined> {
  const [row] = await db
    .update(evaluationReports)
    .set({ ...end, progress: null, finishedAt: new Date() })
    .where(and(eq(evaluationReports.id, id), inArray(evaluationReports.status, ['queued', 'running'])))
    .returning();
  return row;
}

/** The holder of these unfinished reports is alive: their heartbeat is now. */
export async function touchEvaluationReports(db: Database, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(evaluationReports)
    .set({ heartbeatAt: new Date() })
    .where(
      and(inArray(evaluationReports.id, [...ids]), inArray(evaluationReports.status, ['queued', 'running'])),
    );
}

/**
 * Unfinished reports whose holder has not beaten for `staleMs` (its gateway stopped or died) end as
 * failed: they are not resumed. Safe with several gateways: a live holder beats far more often.
 */
export async function failAbandonedEvaluations(
  db: Database,
  reason: string,
  staleMs: number,
): Promise<number> {
  const cutoff = new Date(Date.now() - staleMs);
  const rows = await db
    .update(evaluationReports)
    .set({ status: 'failed', errorMessage: reason, progress: null, finishedAt: new Date() })
    .where(
      and(
        inArray(evaluationReports.status, ['queued', 'running']),
        or(
          lt(evaluationReports.heartbeatAt, cutoff),
          and(isNull(evaluationReports.heartbeatAt), lt(evaluationReports.createdAt, cutoff)),
        ),
      ),
    )
    .returning({ id: evaluationReports.id });
  return rows.length;
}

export function listEvaluationReports(
  db: Database,
  filter: { modelVersionId?: number | undefined; kind?: string | undefined },
  limit: number,
): Promise<EvaluationReportRow[]> {
  return db
    .select()
    .from(evaluationReports)
    .where(
      and(
        filter.modelVersionId === undefined
          ? undefined
          : eq(evaluationReports.modelVersionId, filter.modelVersionId),
        filter.kind === undefined ? undefined : eq(evaluationReports.kind, filter.kind),
      ),
    )
    .orderBy(desc(evaluationReports.createdAt))
    .limit(limit);
}
