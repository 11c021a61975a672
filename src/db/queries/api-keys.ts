import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { type Database } from '../client.js';
import { apiKeys } from '../schema.js';
import { type ApiKeyRecord, type Same } from '../../records.js';
import { type Role } from '../../vocabulary.js';

export const apiKeyRowShape: Same<typeof apiKeys.$inferSelect, ApiKeyRecord> = true;

export interface ApiKeyWrite {
  name: string;
  role: Role;
  keyHash: string;
  keyPrefix: string;
  users: string[] | null;
}

export async function insertApiKey(db: Database, key: ApiKeyWrite): Promise<ApiKeyRecord> {
  const [row] = await db.insert(apiKeys).values(key).returning();
  if (row === undefined) throw new Error('api key insert returned nothing');
  return row;
}

/**
 * Insert the key only when the table holds none at all (revoked ones count): the first start's admin
 * key. Returns undefined when a key already existed.
 */
export async function insertFirstApiKey(db: Database, key: ApiKeyWrite): Promise<ApiKeyRecord | undefined> {
  return db.transaction(async (tx) => {
    // One bootstrap however many gateways start at once on an empty database.
    await tx.execute(sql`select pg_advisory_xact_lock(${API_KEY_BOOTSTRAP_LOCK})`);
    if (await anyApiKeyExists(tx as unknown as Database)) return undefined;
    const [row] = await tx.insert(apiKeys).values(key).returning();
    return row;
  });
}

const API_KEY_BOOTSTRAP_LOCK = 7_276_501_236;

/** Whether any key was ever created (revoked ones count). */
export async function anyApiKeyExists(db: Database): Promise<boolean> {
  const [existing] = await db.select({ id: apiKeys.id }).from(apiKeys).limit(1);
  return existing !== undefined;
}

/** The key with this hash, if it exists and is not revoked. */
export async function findActiveApiKeyByHash(
  db: Database,
  keyHash: string,
): Promise<ApiKeyRecord | undefined> {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
  return row;
}

export function listApiKeys(db: Database): Promise<ApiKeyRecord[]> {
  return db.select().from(apiKeys).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
}

export async function findApiKey(db: Database, id: string): Promise<ApiKeyRecord | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return row;
}

/** Revoke a key (idempotent: an already revoked key keeps its first revocation time). */
export async function revokeApiKey(db: Database, id: string): Promise<ApiKeyRecord | undefined> {
  await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
  return findApiKey(db, id);
}

/** Whether the key with this id exists and is not revoked. */
export async function isApiKeyActive(db: Database, id: string): Promise<boolean> {
  const [row] = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
  return row !== undefined;
}

/** Record that the key was used now, unless that was recorded less than `withinMs` ago (one write a minute). */
export async function touchApiKey(db: Database, id: string, withinMs: number): Promise<void> {
  const before = new Date(Date.now() - withinMs);
  await db
    .update(apiKeys)
    .set({ lastUsedAt: new Date() })
    .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, before))));
}
