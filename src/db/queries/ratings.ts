import { and, asc, count, eq, gt, inArray, sql } from 'drizzle-orm';
import { type Database } from '../client.js';
import { ratings } from '../schema.js';

export type RatingRow = typeof ratings.$inferSelect;

export interface RatingWrite {
  userId: number;
  itemId: number;
  score: number;
}

/** Insert or re-rate; a re-rating with the same score changes nothing. Returns rows changed. */
export async function upsertRatingRows(db: Database, rows: RatingWrite[]): Promise<number> {
  if (rows.length === 0) return 0;
  const written = await db
    .insert(ratings)
    .values(rows)
    .onConflictDoUpdate({
      target: [ratings.userId, ratings.itemId],
      set: { score: sql`excluded.score`, updatedAt: sql`now()` },
      setWhere: sql`${ratings.score} <> excluded.score`,
    })
    .returning({ id: ratings.id });
  return written.length;
}

export async function upsertRating(db: Database, row: RatingWrite): Promise<RatingRow> {
  await upsertRatingRows(db, [row]);
  const [stored] = await db
    .select()
    .from(ratings)
    .where(and(eq(ratings.userId, row.userId), eq(ratings.itemId, row.itemId)));
  if (stored === undefined) throw new Error('rating vanished after upsert');
  return stored;
}

export function listUserRatingsAfter(
  db: Database,
  userId: number,
  afterId: number | null,
  limit: number,
): Promise<RatingRow[]> {
  return db
    .select()
    .from(ratings)
    .where(and(eq(ratings.userId, userId), afterId === null ? undefined : gt(ratings.id, afterId)))
    .orderBy(asc(ratings.id))
    .limit(limit);
}

export interface RatingCounts {
  userId: number;
  ratingCount: number;
  likedCount: number;
}

/** Rating and like counts for many users in one query (like = score >= 4, as the paper). */
export async function ratingCountsByUser(db: Database, userIds: readonly number[]): Promise<RatingCounts[]> {
  if (userIds.length === 0) return [];
  const rows = await db
    .select({
      userId: ratings.userId,
      ratingCount: count(),
      likedCount: sql<number>`count(*) filter (where ${ratings.score} >= 4)`.mapWith(Number),
    })
    .from(ratings)
    .where(inArray(ratings.userId, [...userIds]))
    .groupBy(ratings.userId);
  return rows;
}

export async function countUserRatings(db: Database, userId: number): Promise<number> {
  const [row] = await db.select({ value: count() }).from(ratings).where(eq(ratings.userId, userId));
  return row?.value ?? 0;
}
