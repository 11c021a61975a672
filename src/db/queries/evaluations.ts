import { and, desc, eq } from 'drizzle-orm';
import { type Database } from '../client.js';
import { evaluationReports } from '../schema.js';
import { type EvaluationReportRecord, type Same } from '../../records.js';

export type EvaluationReportRow = EvaluationReportRecord;
export const evaluationReportRowShape: Same<typeof evaluationReports.$inferSelect, EvaluationReportRecord> =
  true;

export async function insertEvaluationReport(
  db: Database,
  row: { modelVersionId: number; kind: string; parameters: unknown; results: unknown },
): Promise<EvaluationReportRow> {
  const [stored] = await db.insert(evaluationReports).values(row).returning();
  if (stored === undefined) throw new Error('evaluation report insert returned nothing');
  return stored;
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
