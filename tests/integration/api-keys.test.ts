import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { ApiKeyService, KEY_CACHE_SIZE } from '../../src/services/access/api-keys.service.js';
import { PAGE_LINK_TTL_MS, PageLinks } from '../../src/services/access/page-links.js';
import { testDatabases } from '../helpers/databases.js';

describe.each(testDatabases)('API keys and signed page links on $name', (engine) => {
  let database: DatabaseHandle;
  let keys: ApiKeyService;

  beforeAll(async () => {
    database = await engine.open();
    keys = new ApiKeyService(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('makes one first admin key however many gateways start at once, and none after', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 4 }, () => new ApiKeyService(database.db).createFirstAdminKey()),
    );
    const made = attempts.filter((attempt) => attempt !== null);
    expect(made).toHaveLength(1);
    expect(made[0]?.record.role).toBe('admin');
    await keys.revoke(made[0]!.record.id);
    // A revoked key still counts: a restart never prints a new admin key.
    expect(await keys.createFirstAdminKey()).toBeNull();
  });

  it('stores only a hash and a short prefix, and authenticates the key it showed', async () => {
    const { key, record } = await keys.create({ name: 'web', role: 'client', users: ['u-1', 'u-2', 'u-1'] });
    expect(key).toMatch(/^rbk_[A-Za-z0-9_-]{43}$/);
    expect(record.keyHash).not.toContain(key.slice(4));
    expect(record.keyPrefix).toBe(key.slice(0, 10));
    expect(record.users).toEqual(['u-1', 'u-2']);
    const principal = await keys.authenticate(key);
    expect(principal).toMatchObject({ kind: 'key', role: 'client', keyId: record.id, name: 'web' });
    expect(principal.kind === 'key' && [...(principal.users ?? [])]).toEqual(['u-1', 'u-2']);
    expect((await keys.list()).map((listed) => listed.id)).toContain(record.id);
  });

  it('answers nobody, with the reason, for malformed, unknown and revoked keys', async () => {
    expect(await keys.authenticate('hunter2')).toMatchObject({ kind: 'anonymous', problem: /malformed/ });
    expect(await keys.authenticate(`rbk_${'A'.repeat(43)}`)).toMatchObject({
      kind: 'anonymous',
      problem: /unknown or was revoked/,
    });
    const { key, record } = await keys.create({ name: 'short-lived', role: 'analyst' });
    expect((await keys.authenticate(key)).kind).toBe('key'); // now cached
    const revoked = await keys.revoke(record.id);
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    // The revoking service forgets its cache: the key stops at once, not after the cache's 10 s.
    expect(await keys.authenticate(key)).toMatchObject({ kind: 'anonymous' });
    // Revoking again keeps the first time.
    expect((await keys.revoke(record.id)).revokedAt).toEqual(revoked.revokedAt);
  });

  it('refuses bad key requests with BAD_USER_INPUT', async () => {
    const refused = (request: Parameters<ApiKeyService['create']>[0]) =>
      expect(keys.create(request)).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    await refused({ name: '', role: 'client' });
    await refused({ name: 'x'.repeat(101), role: 'client' });
    await refused({ name: 'nul\u0000', role: 'client' });
    await refused({ name: 'root', role: 'root' as 'admin' });
    await refused({ name: 'bound analyst', role: 'analyst', users: ['u-1'] });
    await refused({ name: 'no users', role: 'client', users: [] });
    await refused({ name: 'bad user', role: 'client', users: ['a b'] });
    await expect(keys.revoke('not-a-uuid')).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  });

  it('signs report links that only work for their path, their key and until they expire', async () => {
    const links = new PageLinks(database.db);
    const now = Date.UTC(2026, 10, 26);
    const { record } = await keys.create({ name: 'analyst with links', role: 'analyst' });
    const signed = await links.sign('/reports/abc', record.id, now);
    const access = new URL(signed, 'http://x').searchParams.get('access');
    const expires = Math.floor((now + PAGE_LINK_TTL_MS) / 1000);
    expect(await links.verify('/reports/abc', access, now)).toEqual({ keyId: record.id, expires });
    // Another gateway on the same database shares the secret.
    expect(await new PageLinks(database.db).verify('/reports/abc', access, now)).toEqual({
      keyId: record.id,
      expires,
    });
    // A link made from a page keeps that page's expiry.
    const derived = await links.sign('/reports', record.id, now + 3_600_000, expires);
    expect(new URL(derived, 'http://x').searchParams.get('access')?.split('.')[0]).toBe(String(expires));
    expect(await links.verify('/reports/abd', access, now)).toBeNull();
    expect(await links.verify('/reports/abc', access, now + PAGE_LINK_TTL_MS + 1_000)).toBeNull();
    const later = access!.replace(/^\d+/, (expires) => String(Number(expires) + 3600));
    expect(await links.verify('/reports/abc', later, now)).toBeNull();
    // Another key's id in the token breaks the signature: a link cannot be moved to a key not revoked.
    const { record: other } = await keys.create({ name: 'other', role: 'analyst' });
    expect(await links.verify('/reports/abc', access!.replace(record.id, other.id), now)).toBeNull();
    expect(await links.verify('/reports/abc', null, now)).toBeNull();
    expect(await links.verify('/reports/abc', 'garbage', now)).toBeNull();
    // Made with authentication off: valid, naming no key (the gateway refuses those once keys are on).
    const keyless = new URL(await links.sign('/reports', null, now), 'http://x').searchParams.get('access');
    expect(await links.verify('/reports', keyless, now)).toEqual({ keyId: null, expires });
  });

  it('says whether a key id is active, and records when a key was last used', async () => {
    const { key, record } = await keys.create({ name: 'used', role: 'client' });
    expect(record.lastUsedAt).toBeNull();
    expect(await keys.isActive(record.id)).toBe(true);
    await keys.authenticate(key);
    await expect
      .poll(async () => (await keys.list()).find((listed) => listed.id === record.id)?.lastUsedAt)
      .toBeInstanceOf(Date);
    await keys.revoke(record.id);
    expect(await keys.isActive(record.id)).toBe(false);
    expect(await keys.isActive('00000000-0000-0000-0000-000000000000')).toBe(false);
    expect(await keys.isActive('not-a-uuid')).toBe(false);
  });

  it('keeps valid keys cached through a flood of made-up keys', async () => {
    const queries: string[] = [];
    const counted = await engine.open({ onQuery: (query) => queries.push(query) });
    try {
      // The clock stands still (Date only): the flood takes longer than a cached lookup lives on a slow
      // machine, and this is about eviction, not expiry.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      const service = new ApiKeyService(counted.db);
      const { key } = await service.create({ name: 'busy frontend', role: 'client' });
      const lookups = () => queries.filter((query) => query.includes('"key_hash" =')).length;
      expect((await service.authenticate(key)).kind).toBe('key');
      expect(lookups()).toBe(1);
      // More made-up keys than the valid keys' cache holds: once, one shared cache was cleared by them.
      for (let i = 0; i < KEY_CACHE_SIZE + 1; i += 1) {
        const madeUp = `rbk_${randomBytes(32).toString('base64url')}`;
        expect((await service.authenticate(madeUp)).kind).toBe('anonymous');
      }
      expect(lookups()).toBe(KEY_CACHE_SIZE + 2); // each made-up key cost one lookup...
      expect((await service.authenticate(key)).kind).toBe('key');
      expect(lookups()).toBe(KEY_CACHE_SIZE + 2); // ...and the valid key is still remembered
    } finally {
      vi.useRealTimers();
      await counted.close();
    }
  }, 60_000);
});
