import { createHash, randomBytes } from 'node:crypto';
import { type Database } from '../../db/client.js';
import {
  anyApiKeyExists,
  type ApiKeyWrite,
  findActiveApiKeyByHash,
  insertApiKey,
  insertFirstApiKey,
  isApiKeyActive,
  listApiKeys,
  revokeApiKey,
  touchApiKey,
} from '../../db/queries/api-keys.js';
import { BadUserInputError, NotFoundError } from '../../errors.js';
import { ExpiringMap } from '../../lib/expiring-map.js';
import { quote, textProblem } from '../../lib/text.js';
import { type ApiKeyRecord } from '../../records.js';
import { ROLES, type Role } from '../../vocabulary.js';
import { externalIdProblem } from '../users.service.js';
import { type Principal } from './principal.js';

/** `rbk_` and 256 random bits in base64url: recognisable in logs and secret scanners. */
const KEY_FORMAT = /^rbk_[A-Za-z0-9_-]{43}$/;
/** How long a key's lookup is remembered: a revoked key stops working on other gateways within this. */
export const KEY_CACHE_TTL_MS = 10_000;
/** Valid keys remembered at once (cleared when full). */
export const KEY_CACHE_SIZE = 10_000;
/**
 * Unknown keys remembered at once, apart from the valid ones: a flood of made-up keys costs a query each
 * but can never push a valid key out of its cache.
 */
const UNKNOWN_KEY_CACHE_SIZE = 1_000;
const MAX_NAME_LENGTH = 100;
/** `lastUsedAt` is written at most this often per key and gateway. */
const LAST_USED_RESOLUTION_MS = 60_000;
/** Users one client key may be bound to. */
export const MAX_KEY_USERS = 1_000;
const UNKNOWN_KEY: Principal = { kind: 'anonymous', problem: 'the API key is unknown or was revoked' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What a new key is for. */
export interface ApiKeyRequest {
  name: string;
  role: Role;
  /** Client keys only: the external ids of the users it may serve; omitted or null: any user. */
  users?: readonly string[] | null;
}

/**
 * API keys: created (the key is shown once, only its hash is stored), listed, revoked, and turned into
 * the caller's {@link Principal} for each request.
 */
export class ApiKeyService {
  /** Valid keys by hash. */
  private readonly cache = new ExpiringMap<string, Principal>(KEY_CACHE_SIZE, KEY_CACHE_TTL_MS);
  /** Unknown keys by hash, apart: made-up keys never push valid ones out. */
  private readonly unknown = new ExpiringMap<string, true>(UNKNOWN_KEY_CACHE_SIZE, KEY_CACHE_TTL_MS);
  /**
   * Bumped by every revocation: a lookup that started before one does not cache what it read (it may
   * have read the key just before it was revoked).
   */
  private revocations = 0;
  /** Whether a key id is active, for signed links (same lifetime as the cache above). */
  private readonly activeIds = new ExpiringMap<string, boolean>(KEY_CACHE_SIZE, KEY_CACHE_TTL_MS);

  constructor(private readonly db: Database) {}

  async create(request: ApiKeyRequest): Promise<{ key: string; record: ApiKeyRecord }> {
    const write = this.prepare(request);
    const record = await insertApiKey(this.db, write.row);
    return { key: write.key, record };
  }

  /**
   * The first start's admin key: created only when no key was ever created (revoked ones count), so a
   * restart never adds one. Returns the key to show, or null.
   */
  async createFirstAdminKey(): Promise<{ key: string; record: ApiKeyRecord } | null> {
    const write = this.prepare({ name: 'first admin key', role: 'admin' });
    const record = await insertFirstApiKey(this.db, write.row);
    return record === undefined ? null : { key: write.key, record };
  }

  /** Whether any key was ever created (revoked ones count). */
  anyExists(): Promise<boolean> {
    return anyApiKeyExists(this.db);
  }

  list(): Promise<ApiKeyRecord[]> {
    return listApiKeys(this.db);
  }

  /** Revoke a key by id; it stops working here at once, elsewhere within {@link KEY_CACHE_TTL_MS}. */
  async revoke(id: string): Promise<ApiKeyRecord> {
    const record = UUID.test(id) ? await revokeApiKey(this.db, id) : undefined;
    if (record === undefined) throw new NotFoundError(`API key ${quote(id)} does not exist`);
    this.revocations += 1;
    this.cache.clear();
    this.activeIds.clear();
    return record;
  }

  /** Whether the key with this id exists and is not revoked (remembered like a key's lookup). */
  async isActive(id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const now = Date.now();
    const cached = this.activeIds.get(id, now);
    if (cached !== undefined) return cached;
    const revocations = this.revocations;
    const active = await isApiKeyActive(this.db, id);
    if (revocations === this.revocations) this.activeIds.set(id, active, now);
    return active;
  }

  /** The principal of a presented key: the key's role, or nobody with the reason. */
  async authenticate(key: string): Promise<Principal> {
    if (!KEY_FORMAT.test(key)) {
      return {
        kind: 'anonymous',
        problem: 'the API key is malformed (keys look like rbk_ and 43 characters)',
      };
    }
    const keyHash = hashKey(key);
    const now = Date.now();
    const cached = this.cache.get(keyHash, now);
    if (cached !== undefined) return cached;
    if (this.unknown.get(keyHash, now) === true) return UNKNOWN_KEY;
    const revocations = this.revocations;
    const record = await findActiveApiKeyByHash(this.db, keyHash);
    if (record === undefined) {
      this.unknown.set(keyHash, true, now);
      return UNKNOWN_KEY;
    }
    const principal: Principal = {
      kind: 'key',
      keyId: record.id,
      name: record.name,
      role: record.role,
      users: record.users === null ? null : new Set(record.users),
    };
    if (revocations === this.revocations) this.cache.set(keyHash, principal, now);
    // Which keys are in use (before revoking one): best-effort, never in the request's way.
    void touchApiKey(this.db, record.id, LAST_USED_RESOLUTION_MS).catch(() => undefined);
    return principal;
  }

  private prepare(request: ApiKeyRequest): { key: string; row: ApiKeyWrite } {
    const name = request.name.trim();
    if (name.length === 0 || name.length > MAX_NAME_LENGTH)
      throw new BadUserInputError(`a key's name must be 1..${MAX_NAME_LENGTH} characters`);
    const nameProblem = textProblem(name);
    if (nameProblem !== null) throw new BadUserInputError(`the key's name ${nameProblem}`);
    if (!ROLES.includes(request.role)) throw new BadUserInputError(`role must be one of ${ROLES.join(', ')}`);
    let users: string[] | null = null;
    if (request.users != null) {
      if (request.role !== 'client')
        throw new BadUserInputError('only client keys are bound to users; analysts and admins see all');
      if (request.users.length === 0 || request.users.length > MAX_KEY_USERS)
        throw new BadUserInputError(
          `a client key is bound to 1..${MAX_KEY_USERS} users (omit users for any user)`,
        );
      users = [...new Set(request.users)];
      users.forEach((user, index) => {
        const problem = externalIdProblem(user);
        if (problem !== null) throw new BadUserInputError(`users[${index}]: an id ${problem}`);
      });
    }
    const key = `rbk_${randomBytes(32).toString('base64url')}`;
    return {
      key,
      row: { name, role: request.role, keyHash: hashKey(key), keyPrefix: key.slice(0, 10), users },
    };
  }
}
