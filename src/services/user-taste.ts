import { type Database } from '../db/client.js';
import { listUserRatedItems } from '../db/queries/ratings.js';
import { type UserRow } from '../db/queries/users.js';
import { fitCatalogUser, type UserFactors } from '../ml/index.js';
import { type ActiveModel } from './model-runtime.js';
import { LIKE_THRESHOLD } from '../vocabulary.js';

/** How a user's verifier vector was obtained. */
export type TasteSource = 'trained' | 'fitted' | 'population';

export interface UserTaste {
  factors: UserFactors;
  source: TasteSource;
  /** Catalog rows the user rated (excluded from recommendations). */
  ratedRows: Set<number>;
  /** Ratings of catalog items, and how many of them are likes. */
  ratedCount: number;
  likedCount: number;
}

/** Pull towards the mean user: with few ratings the fit stays near the population's taste. */
const COLD_START_L2 = 1;

/**
 * The verifier vector for a user: the trained row while the user's ratings are those the model saw;
 * otherwise fitted now from the user's ratings on the frozen item projection (a brand-new user with a
 * few ratings is personalised at once); with no ratings at all, the mean user's taste.
 */
export async function resolveUserTaste(db: Database, active: ActiveModel, user: UserRow): Promise<UserTaste> {
  const { model, index, version } = active;
  const rated = await listUserRatedItems(db, user.id);
  const ratedRows = new Set<number>();
  const ratings: { row: number; liked: boolean }[] = [];
  let changedSinceTraining = false;
  for (const rating of rated) {
    const row = index?.rowOf(rating.itemExternalId);
    if (row !== undefined) {
      ratedRows.add(row);
      ratings.push({ row, liked: rating.score >= LIKE_THRESHOLD });
    }
    if (rating.updatedAt > (version.ratingsAsOf ?? version.createdAt)) changedSinceTraining = true;
  }
  const counts = { ratedCount: ratings.length, likedCount: ratings.filter((r) => r.liked).length };
  const trainedRow = model.verifier.userRow(user.externalId);
  if (trainedRow !== undefined && !changedSinceTraining) {
    return { factors: model.verifier.userFactors(trainedRow), source: 'trained', ratedRows, ...counts };
  }
  const population = model.verifier.meanUserFactors();
  if (ratings.length === 0 || index === null)
    return { factors: population, source: 'population', ratedRows, ...counts };
  const fit = fitCatalogUser(index, ratings, { prior: population, l2: COLD_START_L2 });
  return { factors: fit, source: 'fitted', ratedRows, ...counts };
}
