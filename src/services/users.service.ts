import { type Database } from '../db/client.js';
import {
  countUsers,
  findUsersByExternalIds,
  insertUser,
  listUsersAfter,
  type UserRow,
} from '../db/queries/users.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import { quote } from '../lib/text.js';
import { checkFirst, decodeCursor, type Page, type PageArgs, toPage } from './pagination.js';

// Printable, no whitespace, well-formed UTF-16: ids end up in CSV files, logs and URLs, and a lone
// surrogate would be stored as U+FFFD (two ids, one user).
const EXTERNAL_ID = /^[^\s\p{Cc}\p{Cs}]{1,200}$/u;

/** Why a string cannot be an id, or null. Every ID argument is checked with it (server/operation-guard). */
export function externalIdProblem(id: string): string | null {
  return EXTERNAL_ID.test(id)
    ? null
    : 'must be 1..200 characters without spaces, control characters or lone surrogates';
}

export function checkExternalId(id: string, what: string): string {
  const problem = externalIdProblem(id);
  if (problem !== null) throw new BadUserInputError(`${what} id ${problem}`);
  return id;
}

export class UserService {
  constructor(private readonly db: Database) {}

  /** Create a user; creating one that exists returns it unchanged (safe to retry). */
  async createUser(externalId: string): Promise<UserRow> {
    checkExternalId(externalId, 'user');
    const created = await insertUser(this.db, externalId);
    if (created !== undefined) return created;
    return this.requireUser(externalId);
  }

  async findUser(externalId: string): Promise<UserRow | undefined> {
    const [row] = await findUsersByExternalIds(this.db, [externalId]);
    return row;
  }

  async requireUser(externalId: string): Promise<UserRow> {
    const row = await this.findUser(externalId);
    if (row === undefined) throw new NotFoundError(`user ${quote(externalId)} does not exist`);
    return row;
  }

  async listUsers(args: PageArgs): Promise<Page<UserRow>> {
    const first = checkFirst(args.first);
    const [rows, total] = await Promise.all([
      listUsersAfter(this.db, decodeCursor(args.after), first + 1),
      countUsers(this.db),
    ]);
    return toPage(rows, first, (row) => row.id, total);
  }
}
