import { asc, count, eq, gt, inArray, sql } from 'drizzle-orm';
import { type Database } from '../client.js';
import { catalogSettings, items } from '../schema.js';
import { toRealArrayLiteral } from '../real-array.js';
import { type ItemRecord, type Same } from '../../records.js';

export type ItemRow = typeof items.$inferSelect;
/** An item without its embedding: what listings and answers need (parsing 1024 floats per row is costly). */
export type ItemSummaryRow = ItemRecord;
export const itemRowShape: Same<Omit<ItemRow, 'embedding'>, ItemRecord> = true;

const summaryColumns = {
  id: items.id,
  externalId: items.externalId,
  title: items.title,
  imageUrl: items.imageUrl,
  createdAt: items.createdAt,
  updatedAt: items.updatedAt,
};

export interface ItemWrite {
  externalId: string;
  title: string | null;
  imageUrl: string | null;
  embedding: ArrayLike<number>;
}

/** The catalog's embedding width, or null while the catalog is empty of any width. */
export async function getCatalogDim(db: Database): Promise<number | null> {
  const [row] = await db.select().from(catalogSettings).where(eq(catalogSettings.id, 1));
  return row?.embeddingDim ?? null;
}

/**
 * Fix the catalog's width on first use and return the width in force. Locks the settings row so that
 * concurrent writers of different widths cannot both win.
 */
export async function claimCatalogDim(db: Database, dim: number): Promise<number> {
  await db.insert(catalogSettings).values({ id: 1, embeddingDim: dim }).onConflictDoNothing();
  const result = await db.execute<{ embedding_dim: number }>(
    sql`select embedding_dim from catalog_settings where id = 1 for update`,
  );
  const rows = (result as unknown as { rows: { embedding_dim: number }[] }).rows;
  return Number(rows[0]?.embedding_dim ?? dim);
}

/**
 * Insert or update items by external id. Unchanged rows are not touched (updated_at stays), so
 * writing the same items twice changes nothing. Returns how many rows were inserted or changed.
 */
export async function upsertItemRows(db: Database, rows: ItemWrite[]): Promise<number> {
  if (rows.length === 0) return 0;
  const written = await db
    .insert(items)
    .values(
      rows.map((row) => ({
        externalId: row.externalId,
        title: row.title,
        imageUrl: row.imageUrl,
        embedding: sql`${toRealArrayLiteral(row.embedding)}::real[]`,
      })),
    )
    .onConflictDoUpdate({
      target: items.externalId,
      set: {
        title: sql`excluded.title`,
        imageUrl: sql`excluded.image_url`,
        embedding: sql`excluded.embedding`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`(${items.title}, ${items.imageUrl}, ${items.embedding}) is distinct from (excluded.title, excluded.image_url, excluded.embedding)`,
    })
    .returning({ id: items.id });
  return written.length;
}

export function findItemsByExternalIds(
  db: Database,
  externalIds: readonly string[],
): Promise<ItemSummaryRow[]> {
  if (externalIds.length === 0) return Promise.resolve([]);
  return db
    .select(summaryColumns)
    .from(items)
    .where(inArray(items.externalId, [...externalIds]));
}

export function findItemsByIds(db: Database, ids: readonly number[]): Promise<ItemSummaryRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .select(summaryColumns)
    .from(items)
    .where(inArray(items.id, [...ids]));
}

export function listItemsAfter(
  db: Database,
  afterId: number | null,
  limit: number,
): Promise<ItemSummaryRow[]> {
  return db
    .select(summaryColumns)
    .from(items)
    .where(afterId === null ? undefined : gt(items.id, afterId))
    .orderBy(asc(items.id))
    .limit(limit);
}

export async function countItems(db: Database): Promise<number> {
  const [row] = await db.select({ value: count() }).from(items);
  return row?.value ?? 0;
}

/** Embeddings of items by row id. */
export function findItemEmbeddings(
  db: Database,
  ids: readonly number[],
): Promise<{ id: number; embedding: number[] }[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .select({ id: items.id, embedding: items.embedding })
    .from(items)
    .where(inArray(items.id, [...ids]));
}

/** External id -> row id for every catalog item (import resolves ratings against it). */
export async function itemIdMap(db: Database): Promise<Map<string, number>> {
  const rows = await db.select({ id: items.id, externalId: items.externalId }).from(items);
  return new Map(rows.map((row) => [row.externalId, row.id]));
}

/** Every catalog item's id and embedding, in row-id order, read in pages. */
export async function loadCatalogRows(
  db: Database,
  dim: number,
  pageSize = 2000,
): Promise<{ ids: string[]; embeddings: Float32Array }> {
  const ids: string[] = [];
  const chunks: Float32Array[] = [];
  let after = 0;
  for (;;) {
    const page = await db
      .select({ id: items.id, externalId: items.externalId, embedding: items.embedding })
      .from(items)
      .where(gt(items.id, after))
      .orderBy(asc(items.id))
      .limit(pageSize);
    if (page.length === 0) break;
    const block = new Float32Array(page.length * dim);
    page.forEach((row, index) => {
      if (row.embedding.length !== dim)
        throw new Error(`item ${row.externalId} has width ${row.embedding.length}, not ${dim}`);
      block.set(row.embedding, index * dim);
      ids.push(row.externalId);
    });
    chunks.push(block);
    after = page.at(-1)?.id ?? after;
  }
  const embeddings = new Float32Array(ids.length * dim);
  let offset = 0;
  for (const chunk of chunks) {
    embeddings.set(chunk, offset);
    offset += chunk.length;
  }
  return { ids, embeddings };
}

/** Changes whenever an item is added or changed: its count and newest update time. */
export async function catalogSignature(db: Database): Promise<string> {
  const [row] = await db
    .select({ count: count(), newest: sql<string | null>`max(${items.updatedAt})::text` })
    .from(items);
  return `${row?.count ?? 0}@${row?.newest ?? ''}`;
}
