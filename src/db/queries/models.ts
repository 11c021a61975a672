import { desc, eq, inArray, sql } from 'drizzle-orm';
import { type Database } from '../client.js';
import { modelVersions } from '../schema.js';
import { type ModelVersionRecord, type Same } from '../../records.js';

export type ModelVersionRow = ModelVersionRecord;
export const modelVersionRowShape: Same<typeof modelVersions.$inferSelect, ModelVersionRecord> = true;

export interface ModelVersionWrite {
  preset: string;
  embeddingDim: number;
  artifactDir: string;
  datasetHash: string | null;
  metrics: unknown;
  ratingsAsOf?: Date | null;
}

/** Register an artifact folder (once; registering it again returns the existing row). */
export async function upsertModelVersion(db: Database, row: ModelVersionWrite): Promise<ModelVersionRow> {
  const [stored] = await db
    .insert(modelVersions)
    .values(row)
    .onConflictDoUpdate({
      target: modelVersions.artifactDir,
      set: { artifactDir: sql`excluded.artifact_dir` },
    })
    .returning();
  if (stored === undefined) throw new Error('model version upsert returned nothing');
  return stored;
}

/** Make one version the active one, atomically. */
export async function activateModelVersion(db: Database, id: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.update(modelVersions).set({ active: false }).where(eq(modelVersions.active, true));
    await tx.update(modelVersions).set({ active: true }).where(eq(modelVersions.id, id));
  });
}

export async function findActiveModelVersion(db: Database): Promise<ModelVersionRow | undefined> {
  const [row] = await db.select().from(modelVersions).where(eq(modelVersions.active, true));
  return row;
}

export function listModelVersions(db: Database): Promise<ModelVersionRow[]> {
  return db.select().from(modelVersions).orderBy(desc(modelVersions.id));
}

export function findModelVersions(db: Database, ids: readonly number[]): Promise<ModelVersionRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(modelVersions)
    .where(inArray(modelVersions.id, [...ids]));
}
