import { asc, count, gt, inArray } from 'drizzle-orm';
import { type Database } from '../client.js';
import { users } from '../schema.js';
import { type Same, type UserRecord } from '../../records.js';

export type UserRow = UserRecord;
export const userRowShape: Same<typeof users.$inferSelect, UserRecord> = true;

export async function insertUser(db: Database, externalId: string): Promise<UserRow | undefined> {
  const [row] = await db.insert(users).values({ externalId }).onConflictDoNothing().returning();
  return row;
}

/** Insert the users that do not exist yet; returns external id -> row id for all of them. */
export async function ensureUsers(db: Database, externalIds: string[]): Promise<Map<string, number>> {
  const unique = [...new Set(externalIds)];
  if (unique.length === 0) return new Map();
  await db
    .insert(users)
    .values(unique.map((externalId) => ({ externalId })))
    .onConflictDoNothing();
  const rows = await db
    .select({ id: users.id, externalId: users.externalId })
    .from(users)
    .where(inArray(users.externalId, unique));
  return new Map(rows.map((row) => [row.externalId, row.id]));
}

export function findUsersByExternalIds(db: Database, externalIds: readonly string[]): Promise<UserRow[]> {
  if (externalIds.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(users)
    .where(inArray(users.externalId, [...externalIds]));
}

export function findUsersByIds(db: Database, ids: readonly number[]): Promise<UserRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(users)
    .where(inArray(users.id, [...ids]));
}

export function listUsersAfter(db: Database, afterId: number | null, limit: number): Promise<UserRow[]> {
  return db
    .select()
    .from(users)
    .where(afterId === null ? undefined : gt(users.id, afterId))
    .orderBy(asc(users.id))
    .limit(limit);
}

export async function countUsers(db: Database): Promise<number> {
  const [row] = await db.select({ value: count() }).from(users);
  return row?.value ?? 0;
}
