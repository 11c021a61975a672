import { and, desc, eq } from 'drizzle-orm';
import { type Database } from '../client.js';
import { evaluationReports } from '../schema.js';

export type EvaluationReportRow = typeof evaluationReports.$inferSelect;

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
