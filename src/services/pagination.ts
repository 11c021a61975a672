import { BadUserInputError } from '../errors.js';
import { MAX_PAGE_SIZE } from '../limits.js';
import { quote } from '../lib/text.js';

export interface PageArgs {
  first: number;
  after?: string | null | undefined;
}

export interface Page<T> {
  nodes: { cursor: string; node: T }[];
  hasNextPage: boolean;
  endCursor: string | null;
  totalCount: number;
}

/** Cursors are opaque to clients: the row's serial key, base64url-encoded with a prefix. */
export function encodeCursor(key: number): string {
  return Buffer.from(`k:${key}`).toString('base64url');
}

/** The largest value of a PostgreSQL `serial` (a 32-bit integer). */
const MAX_SERIAL = 2_147_483_647;

export function decodeCursor(cursor: string | null | undefined): number | null {
  if (cursor === undefined || cursor === null || cursor === '') return null;
  const text = cursor.length > 64 ? '' : Buffer.from(cursor, 'base64url').toString('utf8');
  // Keys are PostgreSQL serials (integer): a larger key would fail the comparison in the database.
  const key = /^k:(\d{1,10})$/.exec(text)?.[1];
  if (key === undefined || Number(key) > MAX_SERIAL)
    throw new BadUserInputError(`invalid cursor ${quote(cursor)}`);
  return Number(key);
}

export function checkFirst(first: number): number {
  if (!Number.isInteger(first) || first < 0)
    throw new BadUserInputError('first must be a non-negative integer');
  if (first > MAX_PAGE_SIZE) throw new BadUserInputError(`first must be at most ${MAX_PAGE_SIZE}`);
  return first;
}

/** Shape rows fetched with `limit first + 1` into a page. */
export function toPage<T>(rows: T[], first: number, keyOf: (row: T) => number, totalCount: number): Page<T> {
  const hasNextPage = rows.length > first;
  const kept = rows.slice(0, first);
  const nodes = kept.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return { nodes, hasNextPage, endCursor: nodes.at(-1)?.cursor ?? null, totalCount };
}
