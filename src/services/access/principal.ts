import { type JobRecord } from '../../records.js';
import { type Role } from '../../vocabulary.js';

/**
 * Who is calling, decided once per HTTP request or WebSocket operation: a valid API key, nobody (with
 * why: no key, a malformed one, an unknown or revoked one), or the local developer with
 * AUTH_DISABLED=true, who may do everything an admin may.
 */
export type Principal =
  | { kind: 'key'; keyId: string; name: string; role: Role; users: ReadonlySet<string> | null }
  | { kind: 'anonymous'; problem: string }
  | { kind: 'local' };

export const LOCAL_PRINCIPAL: Principal = { kind: 'local' };

/** The role a principal acts with; null for nobody. */
export function roleOf(principal: Principal): Role | null {
  if (principal.kind === 'local') return 'admin';
  return principal.kind === 'key' ? principal.role : null;
}

/** The API key that owns what this principal starts (jobs); null with authentication off. */
export function ownerKeyOf(principal: Principal): string | null {
  return principal.kind === 'key' ? principal.keyId : null;
}

/** Whether the principal may act for this user (client keys bound to users; other roles any user). */
export function mayServeUser(principal: Principal, externalId: string): boolean {
  if (principal.kind !== 'key') return principal.kind === 'local';
  return principal.users === null || principal.users.has(externalId);
}

/** Read and watch a job: the key that started it, any analyst or admin. */
export function mayReadJob(principal: Principal, job: Pick<JobRecord, 'apiKeyId'>): boolean {
  const role = roleOf(principal);
  if (role === 'admin' || role === 'analyst') return true;
  return role === 'client' && job.apiKeyId === ownerKeyOf(principal);
}

/** Cancel a job: the key that started it, or an admin. */
export function mayCancelJob(principal: Principal, job: Pick<JobRecord, 'apiKeyId'>): boolean {
  const role = roleOf(principal);
  if (role === 'admin') return true;
  return role === 'client' && job.apiKeyId === ownerKeyOf(principal);
}
