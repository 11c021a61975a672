import DataLoader from 'dataloader';
import { type Database } from '../db/client.js';
import {
  findItemEmbeddings,
  findItemsByExternalIds,
  findItemsByIds,
  type ItemSummaryRow,
} from '../db/queries/items.js';
import { findJobs, type GeneratedItemRow, type GenerationJobRow, listJobItems } from '../db/queries/jobs.js';
import { findModelVersions, type ModelVersionRow } from '../db/queries/models.js';
import { type RatingCounts, ratingCountsByUser } from '../db/queries/ratings.js';
import { findUsersByIds, type UserRow } from '../db/queries/users.js';

/** Per-request batch loaders: N lookups of the same kind in one tick become one query. */
export interface Loaders {
  userById: DataLoader<number, UserRow | undefined>;
  itemById: DataLoader<number, ItemSummaryRow | undefined>;
  ratingCounts: DataLoader<number, RatingCounts>;
  itemByExternalId: DataLoader<string, ItemSummaryRow | undefined>;
  itemEmbedding: DataLoader<number, number[] | undefined>;
  jobById: DataLoader<string, GenerationJobRow | undefined>;
  jobItems: DataLoader<string, GeneratedItemRow[]>;
  modelVersionById: DataLoader<number, ModelVersionRow | undefined>;
}

function byKey<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): (V | undefined)[] {
  const index = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => index.get(key));
}

export function createLoaders(db: Database): Loaders {
  return {
    userById: new DataLoader(async (ids) => byKey(ids, await findUsersByIds(db, ids), (row) => row.id)),
    itemById: new DataLoader(async (ids) => byKey(ids, await findItemsByIds(db, ids), (row) => row.id)),
    ratingCounts: new DataLoader(async (ids) =>
      byKey(ids, await ratingCountsByUser(db, ids), (row) => row.userId).map(
        (counts, index) => counts ?? { userId: ids[index] as number, ratingCount: 0, likedCount: 0 },
      ),
    ),
    itemByExternalId: new DataLoader(async (ids) =>
      byKey(ids, await findItemsByExternalIds(db, ids), (row) => row.externalId),
    ),
    itemEmbedding: new DataLoader(async (ids) =>
      byKey(ids, await findItemEmbeddings(db, ids), (row) => row.id).map((row) => row?.embedding),
    ),
    jobById: new DataLoader(async (ids) => byKey(ids, await findJobs(db, ids), (row) => row.id)),
    jobItems: new DataLoader(async (ids) => {
      const rows = await listJobItems(db, ids);
      return ids.map((id) => rows.filter((row) => row.jobId === id));
    }),
    modelVersionById: new DataLoader(async (ids) =>
      byKey(ids, await findModelVersions(db, ids), (row) => row.id),
    ),
  };
}
