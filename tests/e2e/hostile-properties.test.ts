import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  type GraphQLInputType,
  type GraphQLNamedType,
  isEnumType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, type DatabaseHandle } from '../../src/db/client.js';
import {
  MAX_EMBEDDING_DIM,
  MAX_ITEMS_PER_UPSERT,
  MAX_QUERY_ALIASES,
  MAX_QUERY_DEPTH,
  MAX_QUOTED_CHARS,
  MAX_TITLE_LENGTH,
  MAX_URL_LENGTH,
} from '../../src/limits.js';
import { imageUrlProblem } from '../../src/lib/image-url.js';
import { textProblem } from '../../src/lib/text.js';
import { ImportError } from '../../src/services/ingestion/import-error.js';
import { importItems } from '../../src/services/ingestion/import-items.js';
import { importRatings } from '../../src/services/ingestion/import-ratings.js';
import { encodeCursor } from '../../src/services/pagination.js';
import { externalIdProblem } from '../../src/services/users.service.js';
import { testDatabases } from '../helpers/databases.js';
import { tempDir } from '../helpers/files.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { importTinyDataset, TINY_MODEL_DIR } from '../helpers/tiny-world.js';

/**
 * Property-based tests of hostile inputs (issue 14): fast-check draws strings with NUL, control
 * characters and lone surrogates, 100k-character values, ids with spaces, numbers a 32-bit Int or a
 * float32 cannot hold, wrong-width embeddings, forged cursors and random nested queries, and sends them
 * to every mutation and the main lookups of a real gateway over HTTP (as JSON variables, so they reach
 * the server), and to the importer as files. For every case:
 *
 * 1. the answer never holds INTERNAL_SERVER_ERROR (an unexpected error: the gateway's log on stderr
 *    says which);
 * 2. every error has a code of the stable set;
 * 3. no error message is longer than 600 characters, nor quotes more than a 64-character prefix of a
 *    hostile value;
 * 4. a refused mutation (or import) leaves the database as it was.
 *
 * The seed is fixed: a failure is reproducible, and fast-check prints the shrunk counterexample.
 */

const SEED = 14;
const STABLE_CODES = new Set([
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'USER_NOT_IN_MODEL',
  'MODEL_NOT_READY',
  'RESOURCE_EXHAUSTED',
  'QUERY_TIMEOUT',
]);
const MAX_MESSAGE_CHARS = 600;
const FLOAT32_MAX = 3.4028234663852886e38;
const WIDTH = 16; // the tiny catalog's embedding width
const TINY_USERS = Array.from({ length: 14 }, (_, i) => `u${String(i).padStart(2, '0')}`);
const TINY_ITEMS = Array.from({ length: 300 }, (_, i) => `img${String(i).padStart(4, '0')}`);

// ---------------------------------------------------------------------------------------------------
// Arbitraries

const LONE_SURROGATES = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF'];
const CONTROLS = ['\u0000', '\u0001', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u00a0', '\u2028'];
const OTHERS = [' ', '"', "'", '\\', ',', '{', '}', '$', '\u200b', '\ufeff', '\u3000', 'é', '😀'];

/** One UTF-16 unit or code point, hostile more often than not. */
const hostileUnit = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(...CONTROLS) },
  { weight: 1, arbitrary: fc.constantFrom(...LONE_SURROGATES) },
  { weight: 1, arbitrary: fc.constantFrom(...OTHERS) },
);

/** An id anyone could have chosen. */
const plainId = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,24}$/);

/** 65 to 100,000 characters: a short hostile chunk repeated (cut anywhere, even inside a pair). */
const longString = fc
  .record({
    chunk: fc.string({ unit: hostileUnit, minLength: 1, maxLength: 8 }),
    length: fc.oneof(fc.integer({ min: 65, max: 2_000 }), fc.integer({ min: 2_000, max: 100_000 })),
  })
  .map(({ chunk, length }) => chunk.repeat(Math.ceil(length / chunk.length)).slice(0, length));

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: hostileUnit, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(plainId, fc.constantFrom(' ', '\t', '\u00a0', '\u3000', '\n'), plainId)
      .map((parts) => parts.join('')),
  },
  { weight: 2, arbitrary: longString },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      'u00 ',
      ' u00',
      'a'.repeat(200),
      'a'.repeat(201),
      '😀'.repeat(150),
    ),
  },
);

/** Image URLs of every scheme: the stored ones (http, https, data:image/...) and the refused ones. */
const imageUrlSchemes = fc.constantFrom(
  'https://images.example.com/a.png',
  'http://127.0.0.1:8080/b.jpg',
  'data:image/png;base64,iVBORw0KGgo=',
  'data:image/svg+xml;charset=utf-8,%3Csvg%2F%3E',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'file:///etc/passwd',
  'world:orb/sunset/stripes/pair/night',
  'vbscript:msgbox',
  'https://',
  '//images.example.com/a.png',
  'http:/x',
);

/** Numbers as JSON carries them: huge, negative zero, non-integers, beyond 2^53, beyond 32 bits. */
const hostileNumber = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -10, max: 100 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      1e39,
      1e300,
      -1e300,
      -0,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      2 ** 53 + 1,
      2 ** 31,
      2 ** 31 - 1,
      -(2 ** 31),
      -(2 ** 31) - 1,
      0.5,
      1.5,
      4.999999,
      5e-324,
      Number.MIN_SAFE_INTEGER,
    ),
  },
);

/** What JSON can send where a number belongs but is not one (NaN and Infinity become null or text). */
const notANumber = fc.constantFrom<unknown>(
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '3',
  '',
  null,
  true,
  [3],
  {},
);

const hostileValue = fc.oneof(
  { weight: 6, arbitrary: hostileNumber as fc.Arbitrary<unknown> },
  { weight: 1, arbitrary: notANumber },
  // graphql-js quotes a value that does not coerce in its message: a long one must not come back whole.
  { weight: 1, arbitrary: hostileString },
);

/** A value for an optional argument: left out (undefined), or sent. */
function maybe<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arbitrary, { nil: undefined, freq: 3 });
}

const knownUser = fc.constantFrom(...TINY_USERS);
const knownItem = fc.constantFrom(...TINY_ITEMS);
const userArg = fc.oneof(
  { weight: 4, arbitrary: knownUser },
  { weight: 1, arbitrary: plainId },
  { weight: 3, arbitrary: hostileString },
);
const itemArg = fc.oneof(
  { weight: 4, arbitrary: knownItem },
  { weight: 1, arbitrary: plainId },
  { weight: 3, arbitrary: hostileString },
);

const b64url = (text: string) => Buffer.from(text).toString('base64url');
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_='.split('');
const cursorArb = fc.oneof(
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...BASE64URL), maxLength: 80 }) },
  { weight: 3, arbitrary: fc.stringMatching(/^-?\d{1,25}$/).map((digits) => b64url(`k:${digits}`)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      b64url(`k:${'9'.repeat(20)}`),
      b64url(`k:${'9'.repeat(15)}`),
      b64url('k:-1'),
      b64url('k:0'),
      b64url('k:2147483647'),
      b64url('k:2147483648'),
      b64url('k:1.5'),
      b64url('k: 1'),
      b64url('k:1\n'),
      b64url('k:0x10'),
      b64url('k:١'),
    ),
  },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 2 ** 31 - 1 }).map(encodeCursor) },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom<string | null>(null, '') },
);

// ---------------------------------------------------------------------------------------------------
// Checks shared by every property

interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; limit?: string };
}
interface Answer {
  status: number;
  text: string;
  body: { data?: Record<string, unknown> | null; errors?: GraphQLErrorBody[] };
}

async function post(
  gateway: TestGateway,
  query: string,
  variables?: Record<string, unknown>,
): Promise<Answer> {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Answer['body'] };
}

function codes(answer: Answer): string[] {
  return (answer.body.errors ?? []).map((error) => error.extensions?.code ?? 'none');
}

/** Every string in a value (variables, rows), however deep. */
function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const entry of value) stringsIn(entry, out);
  else if (value !== null && typeof value === 'object')
    for (const entry of Object.values(value)) stringsIn(entry, out);
  return out;
}

/** Whether a message quotes more than MAX_QUOTED_CHARS characters of a value (as is, or JSON-escaped). */
function echoes(message: string, value: string): boolean {
  const span = MAX_QUOTED_CHARS + 1;
  if (value.length < span) return false;
  const offsets = new Set([0, Math.floor((value.length - span) / 2), value.length - span]);
  return [...offsets].some((offset) => {
    const window = value.slice(offset, offset + span);
    return message.includes(window) || message.includes(JSON.stringify(window).slice(1, -1));
  });
}

/** Properties 2 and 3 on the messages of one answer (or one importer error). */
function checkMessage(message: string, hostile: string[], where: string): void {
  expect(message.length, `${where}: message of ${message.length} characters`).toBeLessThanOrEqual(
    MAX_MESSAGE_CHARS,
  );
  for (const value of hostile) {
    expect(echoes(message, value), `${where}: ${message.slice(0, 200)} quotes a hostile value`).toBe(false);
  }
}

/** Properties 1 to 3 of an HTTP answer. */
function checkAnswer(answer: Answer, variables: unknown, where: string): void {
  expect(answer.text, `${where}: an internal error (see the gateway's log)`).not.toContain(
    'INTERNAL_SERVER_ERROR',
  );
  expect([200, 400], `${where}: HTTP ${answer.status}`).toContain(answer.status);
  const hostile = stringsIn(variables).filter((value) => value.length > MAX_QUOTED_CHARS);
  for (const error of answer.body.errors ?? []) {
    const code = error.extensions?.code ?? 'none';
    expect(STABLE_CODES.has(code), `${where}: code ${code} (${error.message.slice(0, 200)})`).toBe(true);
    checkMessage(error.message, hostile, where);
  }
}

/** What a refused write could have changed. Background jobs only change their own rows' status. */
async function snapshot(db: Database) {
  const result = await db.execute(sql`select
    (select count(*)::int from users) as users,
    (select count(*)::int || '/' || coalesce(max(updated_at)::text, '-') || '/' ||
       coalesce(md5(string_agg(external_id || '|' || coalesce(title, '') || '|' || coalesce(image_url, '') || '|' ||
         embedding::text, ',' order by id)), '-') from items) as items,
    (select count(*)::int || '/' || coalesce(sum(score), 0) || '/' || coalesce(max(updated_at)::text, '-')
       from ratings) as ratings,
    (select count(*)::int from generation_jobs) as jobs,
    (select coalesce(max(embedding_dim), 0) from catalog_settings) as dim`);
  return (result as unknown as { rows: Record<string, unknown>[] }).rows[0];
}

/** The users or items of these ids that exist (only well-formed ids are looked up). */
async function existing(db: Database, table: 'users' | 'items', ids: string[]): Promise<Set<string>> {
  const valid = ids.filter((id) => externalIdProblem(id) === null);
  if (valid.length === 0) return new Set();
  const result =
    table === 'users'
      ? await db.execute(sql`select external_id from users where external_id in ${valid}`)
      : await db.execute(sql`select external_id from items where external_id in ${valid}`);
  return new Set(
    (result as unknown as { rows: { external_id: string }[] }).rows.map((row) => row.external_id),
  );
}

const summary: { property: string; cases: number; seconds: number; outcomes: string }[] = [];

/**
 * fc.assert with the fixed seed; records (and checks) how many cases ran, and how they ended (what the
 * predicate returns: accepted, refused...).
 */
async function runProperty<T>(
  property: string,
  numRuns: number,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T, run: number) => Promise<string>,
): Promise<void> {
  let cases = 0;
  const outcomes = new Map<string, number>();
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      cases += 1;
      const outcome = await predicate(value, cases);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }),
    { numRuns, seed: SEED },
  );
  const seconds = (performance.now() - started) / 1000;
  const tally = [...outcomes].map(([outcome, count]) => `${count} ${outcome}`).join(', ');
  summary.push({ property, cases, seconds, outcomes: tally });
  console.log(
    `hostile property "${property}": ${cases} cases (${tally}) in ${seconds.toFixed(1)} s, seed ${SEED}`,
  );
  expect(cases).toBe(numRuns);
}

function isIntIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}
function isFloatIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && value >= min && value <= max;
}

afterAll(() => {
  const total = summary.reduce((sum, entry) => sum + entry.cases, 0);
  console.log(
    `hostile properties: ${summary.length} properties, ${total} cases\n` +
      summary
        .map(
          (entry) =>
            `  ${entry.property}: ${entry.cases} cases (${entry.outcomes}), ${entry.seconds.toFixed(1)} s`,
        )
        .join('\n'),
  );
});

// ---------------------------------------------------------------------------------------------------
// The gateway

describe('hostile properties over HTTP', () => {
  const engine = testDatabases[0]!;
  let database: DatabaseHandle;
  let gateway: TestGateway;
  const jobIds: string[] = [];

  beforeAll(async () => {
    database = await engine.open();
    await importTinyDataset(database);
    gateway = await startTestGateway(database, { MODEL_DIR: TINY_MODEL_DIR });
  });
  afterAll(async () => {
    await gateway?.stop();
    await database?.close();
  });

  it('createUser: a refused id writes nothing, an accepted one is stored as sent', async () => {
    const id = fc.oneof(
      { weight: 2, arbitrary: plainId as fc.Arbitrary<unknown> },
      { weight: 6, arbitrary: hostileString },
      { weight: 1, arbitrary: knownUser },
      { weight: 1, arbitrary: fc.oneof(hostileNumber, notANumber) },
    );
    await runProperty('createUser', 300, id, async (value) => {
      const before = await snapshot(database.db);
      const variables = { id: value };
      const answer = await post(gateway, 'mutation($id: ID!) { createUser(id: $id) { id } }', variables);
      checkAnswer(answer, variables, 'createUser');
      // ID coerces strings and integers (as their decimal text).
      const asText =
        typeof value === 'string'
          ? value
          : typeof value === 'number' && Number.isInteger(value)
            ? String(value)
            : null;
      if (asText !== null && externalIdProblem(asText) === null) {
        expect(answer.body.data?.createUser).toEqual({ id: asText });
        return 'accepted';
      }
      expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
      expect(await snapshot(database.db)).toEqual(before);
      return 'refused';
    });
  });

  it('rateItem: hostile users, items and scores are refused without a write', async () => {
    const cases = fc.record({
      user: userArg,
      item: itemArg,
      score: fc.oneof(
        { weight: 2, arbitrary: fc.integer({ min: 1, max: 5 }) as fc.Arbitrary<unknown> },
        { weight: 5, arbitrary: hostileValue },
      ),
    });
    await runProperty('rateItem', 300, cases, async (variables) => {
      const before = await snapshot(database.db);
      const answer = await post(
        gateway,
        'mutation($user: ID!, $item: ID!, $score: Int!) { rateItem(user: $user, item: $item, score: $score) { score liked } }',
        variables,
      );
      checkAnswer(answer, variables, 'rateItem');
      const accepted =
        isIntIn(variables.score, 1, 5) &&
        (await existing(database.db, 'users', [variables.user])).has(variables.user) &&
        (await existing(database.db, 'items', [variables.item])).has(variables.item);
      if (accepted) {
        expect(answer.body.errors).toBeUndefined();
        expect(answer.body.data?.rateItem).toMatchObject({ score: variables.score });
        return 'accepted';
      }
      expect(codes(answer).length).toBeGreaterThan(0);
      for (const code of codes(answer)) expect(['BAD_USER_INPUT', 'NOT_FOUND']).toContain(code);
      expect(await snapshot(database.db)).toEqual(before);
      return 'refused';
    });
  });

  it('upsertItems: one bad item among good ones writes none of them', async () => {
    const goodEmbedding = fc.array(fc.double({ min: -2, max: 2, noNaN: true }), {
      minLength: WIDTH,
      maxLength: WIDTH,
    });
    const badEmbedding = fc.oneof(
      fc
        .constantFrom(0, 1, WIDTH - 1, WIDTH + 1, MAX_EMBEDDING_DIM, MAX_EMBEDDING_DIM + 1, 20_000)
        .map((width) => Array.from({ length: width }, (_, i) => (i % 7) / 10) as unknown[]),
      fc
        .tuple(
          fc.integer({ min: 0, max: WIDTH - 1 }),
          fc.oneof(
            fc.constantFrom<unknown>(
              1e39,
              -1e39,
              1e300,
              Number.MAX_VALUE,
              -Number.MAX_VALUE,
              3.4028236e38,
              FLOAT32_MAX,
              1e-50,
              -1e-300,
              5e-324,
              1e-45,
              2 ** 53 + 1,
            ),
            notANumber,
          ),
        )
        .map(([index, value]) => {
          const embedding: unknown[] = Array.from({ length: WIDTH }, () => 0.25);
          embedding[index] = value;
          return embedding;
        }),
      fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: WIDTH, maxLength: WIDTH }),
    );
    const text = fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
      { weight: 3, arbitrary: hostileString },
      { weight: 1, arbitrary: fc.constantFrom('t'.repeat(MAX_TITLE_LENGTH), 'u'.repeat(MAX_URL_LENGTH + 1)) },
    );
    // Image URLs: only http, https and data:image/... are stored (a frontend puts them in pages).
    const imageUrl = fc.oneof(
      { weight: 4, arbitrary: text },
      { weight: 2, arbitrary: fc.webUrl() },
      { weight: 2, arbitrary: imageUrlSchemes },
    );
    const item = (id: fc.Arbitrary<string>, embedding: fc.Arbitrary<unknown[]>) =>
      fc.record({ id, title: text, imageUrl, embedding });
    const cases = fc.record({
      goods: fc.array(item(fc.constant('fresh'), goodEmbedding), { minLength: 0, maxLength: 4 }),
      bad: fc.option(
        item(
          fc.oneof(fc.constant('fresh'), hostileString),
          fc.oneof(goodEmbedding as fc.Arbitrary<unknown[]>, badEmbedding),
        ),
        { nil: undefined, freq: 6 },
      ),
      position: fc.nat(),
      updateExisting: fc.boolean(),
      duplicate: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      tooMany: fc.integer({ min: 0, max: 29 }).map((n) => n === 0),
    });
    await runProperty('upsertItems', 200, cases, async (drawn, run) => {
      let fresh = 0;
      const named = (entry: { id: string }) =>
        entry.id === 'fresh' ? { ...entry, id: `hp-${run}-${(fresh += 1)}` } : entry;
      const items: Record<string, unknown>[] = drawn.goods.map(named);
      if (drawn.updateExisting)
        items.push({
          id: TINY_ITEMS[run % TINY_ITEMS.length],
          title: `updated ${run}`,
          embedding: Array(WIDTH).fill(0.5),
        });
      if (drawn.bad !== undefined) items.splice(drawn.position % (items.length + 1), 0, named(drawn.bad));
      if (drawn.duplicate && items.length > 0) items.push({ ...items[0] });
      if (drawn.tooMany) {
        for (let i = items.length; i <= MAX_ITEMS_PER_UPSERT; i += 1)
          items.push({ id: `hp-${run}-many-${i}`, embedding: Array(WIDTH).fill(0.1) });
      }
      const valid =
        items.length <= MAX_ITEMS_PER_UPSERT &&
        new Set(items.map((entry) => entry.id)).size === items.length &&
        items.every((entry) => {
          const { id, title, imageUrl, embedding } = entry as {
            id: string;
            title?: unknown;
            imageUrl?: unknown;
            embedding: unknown[];
          };
          const textOk = (value: unknown, max: number) =>
            value === undefined ||
            value === null ||
            (typeof value === 'string' && value.length <= max && textProblem(value) === null);
          return (
            externalIdProblem(id) === null &&
            textOk(title, MAX_TITLE_LENGTH) &&
            textOk(imageUrl, MAX_URL_LENGTH) &&
            (typeof imageUrl !== 'string' || imageUrlProblem(imageUrl) === null) &&
            embedding.length === WIDTH &&
            embedding.every((value) => typeof value === 'number' && Math.abs(value) <= FLOAT32_MAX)
          );
        });
      const before = await snapshot(database.db);
      const variables = { items };
      const answer = await post(
        gateway,
        'mutation($items: [ItemInput!]!) { upsertItems(items: $items) }',
        variables,
      );
      checkAnswer(answer, variables, 'upsertItems');
      if (valid) {
        expect(answer.body.errors, JSON.stringify(answer.body.errors)).toBeUndefined();
        const ids = items.map((entry) => entry.id as string);
        expect((await existing(database.db, 'items', ids)).size).toBe(ids.length);
        return 'accepted';
      }
      expect(codes(answer).length).toBeGreaterThan(0);
      for (const code of codes(answer)) expect(code).toBe('BAD_USER_INPUT');
      expect(await snapshot(database.db)).toEqual(before);
      return 'refused';
    });
  });

  it('generate: out-of-range counts, steps, seeds and scales are refused without a job', async () => {
    const cases = fc.record({
      user: userArg,
      count: maybe(fc.oneof(fc.integer({ min: 1, max: 3 }) as fc.Arbitrary<unknown>, hostileValue)),
      steps: maybe(fc.oneof(fc.integer({ min: 1, max: 12 }) as fc.Arbitrary<unknown>, hostileValue)),
      seed: maybe(fc.oneof(fc.integer({ min: 0, max: 2 ** 31 - 1 }) as fc.Arbitrary<unknown>, hostileValue)),
      candidates: maybe(fc.oneof(fc.integer({ min: 1, max: 2 }) as fc.Arbitrary<unknown>, hostileValue)),
      guidanceScale: maybe(fc.oneof(fc.double({ min: 0, max: 50 }) as fc.Arbitrary<unknown>, hostileValue)),
      verifierScale: maybe(fc.oneof(fc.double({ min: 0, max: 2 }) as fc.Arbitrary<unknown>, hostileValue)),
      sampler: maybe(fc.constantFrom<unknown>('DDIM', 'DDPM', 'ddim', 'BOGUS', 3, null)),
    });
    const mutation = `mutation($user: ID!, $count: Int, $steps: Int, $seed: Int, $candidates: Int,
      $guidanceScale: Float, $verifierScale: Float, $sampler: Sampler) {
      generate(user: $user, count: $count, steps: $steps, seed: $seed, candidates: $candidates,
        guidanceScale: $guidanceScale, verifierScale: $verifierScale, sampler: $sampler) {
        id status count steps seed candidates guidanceScale verifierScale sampler
      } }`;
    await runProperty('generate + cancelGeneration', 200, cases, async (variables) => {
      const before = await snapshot(database.db);
      const answer = await post(gateway, mutation, variables);
      checkAnswer(answer, variables, 'generate');
      const given = (value: unknown) => value !== undefined && value !== null;
      const ddpm = variables.sampler === 'DDPM';
      // Out of the documented ranges. Left out is the default; null is the default for the nullable
      // arguments, and refused for the non-null ones with a default (count, steps, sampler). The tiny
      // model has 100 timesteps; DDPM runs them all, whatever `steps` says.
      const outOfRange =
        !(
          (variables.count === undefined || isIntIn(variables.count, 1, 64)) &&
          (variables.steps === undefined ||
            isIntIn(variables.steps, ddpm ? -(2 ** 31) : 1, ddpm ? 2 ** 31 - 1 : 100)) &&
          (!given(variables.seed) || isIntIn(variables.seed, 0, 2 ** 31 - 1)) &&
          (!given(variables.candidates) || isIntIn(variables.candidates, 1, 16)) &&
          (!given(variables.guidanceScale) || isFloatIn(variables.guidanceScale, 0, 50)) &&
          (!given(variables.verifierScale) || isFloatIn(variables.verifierScale, 0, 2)) &&
          (variables.sampler === undefined || variables.sampler === 'DDIM' || ddpm)
        ) || externalIdProblem(variables.user) !== null;
      const job = answer.body.data?.generate as { id: string; status: string } | undefined | null;
      if (job == null) {
        expect(codes(answer).length).toBeGreaterThan(0);
        if (!outOfRange && TINY_USERS.includes(variables.user)) {
          for (const code of codes(answer))
            expect(['USER_NOT_IN_MODEL', 'RESOURCE_EXHAUSTED']).toContain(code);
        }
        expect(await snapshot(database.db)).toEqual(before);
        return `refused ${codes(answer)[0]}`;
      }
      expect(outOfRange, `accepted ${JSON.stringify(variables)}`).toBe(false);
      jobIds.push(job.id);
      // Cancel at once: the property is about admission, not about running every accepted job on two cores.
      const cancelVariables = { job: job.id };
      const cancelled = await post(
        gateway,
        'mutation($job: ID!) { cancelGeneration(job: $job) { id status } }',
        cancelVariables,
      );
      checkAnswer(cancelled, cancelVariables, 'cancelGeneration');
      expect(['CANCELLED', 'SUCCEEDED', 'FAILED']).toContain(
        (cancelled.body.data?.cancelGeneration as { status: string }).status,
      );
      return 'accepted and cancelled';
    });
    expect(jobIds.length).toBeGreaterThan(0);
  });

  it('cancelGeneration and generationJob: forged job ids are NOT_FOUND or BAD_USER_INPUT, and write nothing', async () => {
    const jobArg = fc.oneof(
      { weight: 2, arbitrary: fc.uuid() },
      {
        weight: 2,
        arbitrary: fc.nat().map((n) => jobIds[n % jobIds.length] ?? '00000000-0000-0000-0000-000000000000'),
      },
      { weight: 1, arbitrary: fc.nat().map((n) => (jobIds[n % jobIds.length] ?? '').toUpperCase()) },
      { weight: 1, arbitrary: plainId },
      { weight: 3, arbitrary: hostileString },
    );
    const cases = fc.record({ job: jobArg, mutation: fc.boolean() });
    await runProperty('cancelGeneration/generationJob ids', 200, cases, async ({ job, mutation }) => {
      const before = await snapshot(database.db);
      const variables = { job };
      const answer = mutation
        ? await post(gateway, 'mutation($job: ID!) { cancelGeneration(job: $job) { id status } }', variables)
        : await post(
            gateway,
            'query($job: ID!) { generationJob(id: $job) { id status steps items { id } } }',
            variables,
          );
      checkAnswer(answer, variables, mutation ? 'cancelGeneration' : 'generationJob');
      const known = jobIds.some((id) => id.toLowerCase() === job.toLowerCase());
      if (externalIdProblem(job) !== null) expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
      else if (known) expect(answer.body.errors).toBeUndefined();
      else if (mutation) expect(codes(answer)).toEqual(['NOT_FOUND']);
      else expect(answer.body).toEqual({ data: { generationJob: null } });
      // The jobs of the previous property are all finished: nothing here may write.
      expect(await snapshot(database.db)).toEqual(before);
      return answer.body.errors === undefined ? 'answered' : `refused ${codes(answer)[0]}`;
    });
  });

  it('lookups: user, item, recommend and verifierScores answer hostile arguments with stable codes', async () => {
    const lookup = fc.oneof(
      userArg.map((id) => ({
        query:
          'query($id: ID!) { user(id: $id) { id ratingCount likedCount generation { available reason ratingsNeeded } ratings(first: 2) { totalCount } } }',
        variables: { id } as Record<string, unknown>,
        bad: externalIdProblem(id) !== null,
      })),
      itemArg.map((id) => ({
        query: 'query($id: ID!) { item(id: $id) { id title imageUrl embedding } }',
        variables: { id } as Record<string, unknown>,
        bad: externalIdProblem(id) !== null,
      })),
      fc
        .record({
          user: userArg,
          first: maybe(fc.oneof(fc.integer({ min: 1, max: 30 }) as fc.Arbitrary<unknown>, hostileValue)),
          share: maybe(
            fc.oneof(
              fc.double({ min: 0, max: 1, noNaN: true }) as fc.Arbitrary<unknown>,
              fc.constantFrom<unknown>(-0.01, 1.01, 2, -1, 1e300, -1e300, Number.MAX_VALUE, Number.MIN_VALUE),
              hostileValue,
            ),
          ),
          includeGenerated: maybe(fc.constantFrom<unknown>(true, false, 'yes', 1, null)),
        })
        .map((variables) => ({
          query: `query($user: ID!, $first: Int, $share: Float, $includeGenerated: Boolean) {
            recommend(user: $user, first: $first, generatedShare: $share, includeGenerated: $includeGenerated) {
              fallback items { rank score source reason } pendingGeneration { id } } }`,
          variables: variables as Record<string, unknown>,
          bad:
            externalIdProblem(variables.user) !== null ||
            !(variables.first === undefined || isIntIn(variables.first, 1, 200)) ||
            !(variables.share == null || isFloatIn(variables.share, 0, 1)),
        })),
      fc
        .record({
          user: userArg,
          items: fc.oneof(
            fc.array(itemArg, { maxLength: 5 }),
            fc.constant(TINY_ITEMS),
            fc.constant(Array.from({ length: 1_001 }, (_, i) => TINY_ITEMS[i % TINY_ITEMS.length] as string)),
          ),
        })
        .map((variables) => ({
          query:
            'query($user: ID!, $items: [ID!]!) { verifierScores(user: $user, items: $items) { item probability } }',
          variables: variables as Record<string, unknown>,
          bad:
            externalIdProblem(variables.user) !== null ||
            variables.items.length > 1_000 ||
            variables.items.some((id) => externalIdProblem(id) !== null),
        })),
    );
    await runProperty('lookups', 300, lookup, async ({ query, variables, bad }) => {
      const before = await snapshot(database.db);
      const answer = await post(gateway, query, variables);
      checkAnswer(answer, variables, query.slice(0, 40));
      if (bad) expect(codes(answer)).toContain('BAD_USER_INPUT');
      const after = await snapshot(database.db);
      // A recommendation with generated items may start a generation for the user: a job, nothing else.
      expect({ ...after, jobs: 0 }).toEqual({ ...before, jobs: 0 });
      return answer.body.errors === undefined ? 'answered' : `refused ${codes(answer)[0]}`;
    });
  });

  it('connections: forged `after` cursors and page sizes never fail inside the gateway', async () => {
    const cases = fc.record({
      connection: fc.constantFrom('users', 'items', 'ratings'),
      first: maybe(fc.oneof(fc.integer({ min: 0, max: 30 }) as fc.Arbitrary<unknown>, hostileValue)),
      after: maybe(cursorArb),
    });
    const queries = {
      users:
        'query($first: Int, $after: String) { users(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }',
      items:
        'query($first: Int, $after: String) { items(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }',
      ratings:
        'query($first: Int, $after: String) { user(id: "u00") { ratings(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { score } } } } }',
    };
    await runProperty('connections with cursors', 300, cases, async ({ connection, ...variables }) => {
      const answer = await post(gateway, queries[connection], variables);
      checkAnswer(answer, variables, connection);
      const firstOk = variables.first === undefined || isIntIn(variables.first, 0, 500);
      if (!firstOk) expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
      // The key a cursor stands for, decoded as the gateway decodes it; one it could have written (a
      // serial key, canonically encoded) must be accepted.
      const after = variables.after;
      const digits =
        typeof after === 'string' && after !== ''
          ? /^k:(\d{1,10})$/.exec(Buffer.from(after, 'base64url').toString('utf8'))?.[1]
          : undefined;
      const key = digits === undefined ? 0 : Number(digits);
      const canonical = after == null || after === '' || (key < 2 ** 31 && encodeCursor(key) === after);
      if (firstOk && canonical)
        expect(answer.body.errors, JSON.stringify(answer.body.errors)).toBeUndefined();
      if (answer.body.errors === undefined) {
        if (after != null && after !== '') expect(digits, `accepted cursor ${after}`).toBeDefined();
        const page = (
          connection === 'ratings'
            ? (answer.body.data?.user as { ratings: unknown }).ratings
            : answer.body.data?.[connection]
        ) as { edges: { cursor: string }[] };
        const keys = page.edges.map((edge) =>
          Number(Buffer.from(edge.cursor, 'base64url').toString().slice(2)),
        );
        for (const next of keys) expect(next).toBeGreaterThan(key);
        expect(page.edges.length).toBeLessThanOrEqual(
          typeof variables.first === 'number' ? variables.first : 20,
        );
        return 'answered';
      }
      return `refused ${codes(answer)[0]}`;
    });
  });

  it('limits: random nested queries from the schema run, or are refused as validation or parse failures', async () => {
    const schema = buildSchema(
      readFileSync(join(import.meta.dirname, '../../schema/schema.graphql'), 'utf8'),
    );
    const roots = [schema.getQueryType()!, schema.getSubscriptionType()!];
    type Gen = fc.GeneratorValue;

    const literal = (g: Gen, type: GraphQLInputType): string => {
      if (isNonNullType(type)) return literal(g, type.ofType);
      if (isListType(type)) {
        const length = g(fc.integer, { min: 0, max: 3 });
        return `[${Array.from({ length }, () => literal(g, type.ofType)).join(', ')}]`;
      }
      const named = getNamedType(type);
      if (isEnumType(named)) return g(fc.constantFrom, ...named.getValues().map((value) => value.name));
      switch (named.name) {
        case 'ID':
          return JSON.stringify(
            g(
              fc.constantFrom,
              'u00',
              'u03',
              'u13',
              'img0000',
              'img0299',
              'nobody',
              '00000000-0000-0000-0000-000000000000',
              jobIds[0] ?? 'x',
            ),
          );
        case 'Int':
          return String(g(fc.constantFrom, -1, 0, 1, 2, 3, 5, 20, 64, 200, 500, 501, 2147483647));
        case 'Float':
          return String(g(fc.constantFrom, 0, 0.2, 0.5, 1, 1.5, -1, 1e300));
        case 'Boolean':
          return g(fc.boolean) ? 'true' : 'false';
        default:
          return JSON.stringify(g(fc.constantFrom, 'x', 'personalisation', ''));
      }
    };

    /** Whether a type has fields below it that are objects themselves (a path can go on through it). */
    const expandable = (type: GraphQLNamedType): boolean =>
      isUnionType(type) ||
      (isObjectType(type) &&
        Object.values(type.getFields()).some((field) => !isLeafType(getNamedType(field.type))));

    const selection = (
      g: Gen,
      type: GraphQLNamedType,
      depth: number,
      maxDepth: number,
      shape: { aliases: number; depth: number },
    ): string => {
      if (isUnionType(type)) {
        const parts = type
          .getTypes()
          // graphql-armor counts an inline fragment as one level of depth (flattenFragments: false).
          .map((member) => `... on ${member.name} ${selection(g, member, depth + 1, maxDepth, shape)}`);
        return `{ __typename ${parts.join(' ')} }`;
      }
      if (!isObjectType(type)) return '';
      const fields = Object.values(type.getFields());
      const pool =
        depth >= maxDepth ? fields.filter((field) => isLeafType(getNamedType(field.type))) : fields;
      if (pool.length === 0) return '{ __typename }';
      const count = g(fc.integer, { min: 1, max: Math.min(3, pool.length) });
      // Indices, not the fields: fast-check compares drawn values, and schema objects are cyclic.
      const indices = g(fc.shuffledSubarray, [...pool.keys()], { minLength: count, maxLength: count });
      // Mostly go one level deeper, so that the depth limit is reached often.
      const nested = [...pool.keys()].filter((index) => expandable(getNamedType(pool[index]!.type)));
      if (nested.length > 0 && g(fc.integer, { min: 0, max: 4 }) > 0) {
        const deeper = nested[g(fc.nat, nested.length - 1)]!;
        if (!indices.includes(deeper)) indices[0] = deeper;
      }
      const parts = indices.map((index) => {
        const field = pool[index]!;
        const alias = g(fc.integer, { min: 0, max: 5 }) === 0 ? `a${(shape.aliases += 1)}: ` : '';
        shape.depth = Math.max(shape.depth, depth);
        const args = field.args
          .filter((arg) => (isNonNullType(arg.type) && arg.defaultValue === undefined) || g(fc.boolean))
          .map((arg) => `${arg.name}: ${literal(g, arg.type)}`);
        const named = getNamedType(field.type);
        const inner = isLeafType(named) ? '' : ` ${selection(g, named, depth + 1, maxDepth, shape)}`;
        return `${alias}${field.name}${args.length > 0 ? `(${args.join(', ')})` : ''}${inner}`;
      });
      return `{ ${parts.join(' ')} }`;
    };

    const documents = fc.gen().map((g) => {
      const maxDepth = g(fc.integer, { min: 1, max: 12 });
      // Subscriptions too, now and then: over HTTP they run as queries, without an event.
      const root = roots[g(fc.integer, { min: 0, max: 9 }) === 0 ? 1 : 0]!;
      const shape = { aliases: 0, depth: 0 };
      let document = `${root.name.toLowerCase()} ${selection(g, root, 1, maxDepth, shape)}`;
      const extraAliases = g(fc.integer, { min: 0, max: 3 }) === 0 ? g(fc.integer, { min: 1, max: 25 }) : 0;
      const directives = g(fc.integer, { min: 0, max: 5 }) === 0 ? g(fc.integer, { min: 1, max: 25 }) : 0;
      const extras = [
        ...Array.from({ length: extraAliases }, (_, i) => `x${i}: users(first: 1) { totalCount }`),
        directives > 0 ? `__typename ${' @include(if: true)'.repeat(directives)}` : '',
      ].join(' ');
      document = document.replace(/^(\w+) \{/, `$1 { ${extras}`);
      const damage = g(fc.integer, { min: 0, max: 9 });
      // Cut anywhere but before the first character (an empty query is Apollo's BAD_REQUEST, a transport error).
      if (damage === 0) document = document.slice(0, 1 + g(fc.nat, document.length - 1));
      if (damage === 1) {
        const at = g(fc.nat, document.length);
        document =
          document.slice(0, at) +
          g(fc.string, { unit: hostileUnit, minLength: 1, maxLength: 3 }) +
          document.slice(at);
      }
      if (damage === 2) document = `{ ${'__typename '.repeat(g(fc.integer, { min: 1_900, max: 2_100 }))}}`;
      const intact = damage > 2 && extraAliases === 0 && directives === 0;
      return { document, intact, ...shape };
    });

    let tooDeep = 0;
    await runProperty(
      'random nested queries',
      300,
      documents,
      async ({ document, intact, depth, aliases }) => {
        const answer = await post(gateway, document);
        checkAnswer(answer, {}, document.slice(0, 300));
        // A document as built (not cut, no extras): refused for depth or aliases exactly when over the limit.
        const limits = (answer.body.errors ?? []).map((error) => error.extensions?.limit);
        if (intact) {
          expect(limits.includes('depth'), `depth ${depth}: ${document}`).toBe(depth > MAX_QUERY_DEPTH);
          expect(limits.includes('aliases'), `${aliases} aliases: ${document}`).toBe(
            aliases > MAX_QUERY_ALIASES,
          );
          if (depth > MAX_QUERY_DEPTH) tooDeep += 1;
        }
        const refusal = codes(answer).some(
          (code) => code === 'GRAPHQL_VALIDATION_FAILED' || code === 'GRAPHQL_PARSE_FAILED',
        );
        if (refusal) {
          expect(answer.status).toBe(400);
          expect(answer.body.data).toBeUndefined();
          for (const code of codes(answer))
            expect(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED']).toContain(code);
          const limit = limits.find((name) => name !== undefined);
          return limit === undefined ? `refused ${codes(answer)[0]}` : `refused (${limit})`;
        }
        expect(answer.status, document).toBe(200);
        expect('data' in answer.body, document).toBe(true);
        return answer.body.errors === undefined ? 'ran' : 'ran with field errors';
      },
    );
    const outcomes = summary.at(-1)!.outcomes;
    expect(outcomes).toMatch(/\d+ ran\b/);
    expect(outcomes).toMatch(/refused \(depth\)/);
    expect(outcomes).toMatch(/GRAPHQL_PARSE_FAILED/);
    expect(tooDeep).toBeGreaterThan(5);
  });
});

// ---------------------------------------------------------------------------------------------------
// The importer

/** A .npy file of any dtype text and shape text, with these values as float32 or float64. */
function npyFile(descr: string, shapeText: string, values: number[], headerText?: string): Buffer {
  let header = headerText ?? `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shapeText}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  prefix.writeUInt16LE(Buffer.byteLength(header, 'latin1') & 0xffff, 8);
  const data = Buffer.alloc(values.length * (descr === '<f8' ? 8 : 4));
  values.forEach((value, i) =>
    descr === '<f8' ? data.writeDoubleLE(value, i * 8) : data.writeFloatLE(value, i * 4),
  );
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]);
}

/** One CSV record: RFC 4180 quoting, or the fields as they are (which may break the record). */
function csvLine(fields: string[], quoting: 'rfc' | 'raw'): string {
  if (quoting === 'raw') return fields.join(',');
  return fields
    .map((field) => (/[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field))
    .join(',');
}

describe('hostile properties of the importer', () => {
  const engine = testDatabases[0]!;
  let database: DatabaseHandle;
  let dir: { path: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    database = await engine.open();
    await importTinyDataset(database);
    dir = await tempDir('rebeca-hostile-');
  });
  afterAll(async () => {
    await database?.close();
    await dir?.cleanup();
  });

  /** Rows stored since `after` (a serial id) that the API could not have stored. */
  async function unservable(table: 'users' | 'items', after: number): Promise<string[]> {
    const result =
      table === 'users'
        ? await database.db.execute(
            sql`select external_id, null as title, null as image_url from users where id > ${after}`,
          )
        : await database.db.execute(sql`select external_id, title, image_url from items where id > ${after}`);
    const rows = (
      result as unknown as { rows: { external_id: string; title: string | null; image_url: string | null }[] }
    ).rows;
    return rows
      .filter(
        (row) =>
          externalIdProblem(row.external_id) !== null ||
          (row.title !== null && (row.title.length > MAX_TITLE_LENGTH || textProblem(row.title) !== null)) ||
          (row.image_url !== null &&
            (row.image_url.length > MAX_URL_LENGTH ||
              textProblem(row.image_url) !== null ||
              imageUrlProblem(row.image_url) !== null)),
      )
      .map((row) => JSON.stringify(row.external_id.slice(0, 80)));
  }

  async function maxId(table: 'users' | 'items'): Promise<number> {
    const result =
      table === 'users'
        ? await database.db.execute(sql`select coalesce(max(id), 0)::int as id from users`)
        : await database.db.execute(sql`select coalesce(max(id), 0)::int as id from items`);
    return (result as unknown as { rows: { id: number }[] }).rows[0]!.id;
  }

  /** An import either succeeds with only servable rows, or fails with an ImportError and writes nothing. */
  async function checkImport(
    run: () => Promise<unknown>,
    hostile: string[],
    where: string,
  ): Promise<'imported' | 'refused'> {
    const before = await snapshot(database.db);
    const since = { users: await maxId('users'), items: await maxId('items') };
    const outcome = await run().then(
      () => null,
      (error: unknown) => error,
    );
    if (outcome === null) {
      expect(await unservable('items', since.items), `${where}: items the API would refuse`).toEqual([]);
      expect(await unservable('users', since.users), `${where}: users the API would refuse`).toEqual([]);
      return 'imported';
    }
    expect(outcome, `${where}: ${String(outcome).slice(0, 300)}`).toBeInstanceOf(ImportError);
    checkMessage(
      (outcome as Error).message,
      hostile.filter((value) => value.length > MAX_QUOTED_CHARS),
      where,
    );
    expect(await snapshot(database.db), `${where}: a refused file wrote`).toEqual(before);
    return 'refused';
  }

  it('importItems: hostile items.csv and embeddings.npy files are refused whole, with an ImportError', async () => {
    const field = fc.oneof(
      { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
      { weight: 3, arbitrary: hostileString },
    );
    const row = fc.record({
      id: fc.oneof({ weight: 3, arbitrary: fc.constant('fresh') }, { weight: 2, arbitrary: hostileString }),
      title: fc.oneof({ weight: 2, arbitrary: fc.constant('') }, { weight: 3, arbitrary: field }),
      imageUrl: fc.oneof(
        { weight: 4, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: field },
        { weight: 1, arbitrary: fc.webUrl() },
        { weight: 1, arbitrary: imageUrlSchemes },
      ),
    });
    const special = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 1e39, -1e300, 1e-50, 5e-324, 0);
    const npy = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({ kind: fc.constant('match' as const), dtype: fc.constantFrom('<f4', '<f8') }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('special' as const),
          dtype: fc.constantFrom('<f4', '<f8'),
          value: special,
          at: fc.nat(),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant('rows' as const), delta: fc.constantFrom(-1, 1, 5) }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('width' as const),
          width: fc.constantFrom(0, 1, WIDTH - 1, WIDTH + 1, MAX_EMBEDDING_DIM + 1),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('shape' as const),
          shape: fc.oneof(
            fc.constantFrom(
              '-1, 16',
              '1.5, 16',
              'abc, 16',
              '',
              '16',
              '1, 16, 1',
              '99999999999, 16',
              '1e3, 16',
              '2, -16',
              '2,16,',
            ),
            fc.string({ unit: hostileUnit, maxLength: 20 }),
          ),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('header' as const),
          text: fc.oneof(
            hostileString,
            fc.constantFrom(
              "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 16), }",
              "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 16), }",
            ),
          ),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }) },
    );
    const cases = fc.record({
      header: fc.oneof(
        { weight: 8, arbitrary: fc.constant('item_id,title,image_url') },
        { weight: 1, arbitrary: fc.constantFrom('', 'title,image_url', ' ITEM_ID , Title', 'item_id') },
        { weight: 1, arbitrary: hostileString },
      ),
      rows: fc.array(row, { maxLength: 6 }),
      quoting: fc.constantFrom<'rfc' | 'raw'>('rfc', 'rfc', 'rfc', 'raw'),
      newline: fc.constantFrom('\n', '\r\n'),
      npy,
    });
    let imported = 0;
    await runProperty('importItems files', 200, cases, async (drawn, run) => {
      let fresh = 0;
      const rows = drawn.rows.map((entry) =>
        entry.id === 'fresh' ? { ...entry, id: `imp-${run}-${(fresh += 1)}` } : entry,
      );
      const csv = [
        drawn.header,
        ...rows.map((entry) => csvLine([entry.id, entry.title, entry.imageUrl], drawn.quoting)),
      ]
        .join(drawn.newline)
        .concat(drawn.newline);
      const n = rows.length;
      const values = (count: number) => Array.from({ length: count }, (_, i) => ((i % 11) - 5) / 4);
      let bytes: Buffer;
      const spec = drawn.npy;
      if (spec.kind === 'match') bytes = npyFile(spec.dtype, `${n}, ${WIDTH}`, values(n * WIDTH));
      else if (spec.kind === 'special') {
        const data = values(n * WIDTH);
        if (data.length > 0) data[spec.at % data.length] = spec.value;
        bytes = npyFile(spec.dtype, `${n}, ${WIDTH}`, data);
      } else if (spec.kind === 'rows') {
        const rowsInFile = Math.max(0, n + spec.delta);
        bytes = npyFile('<f4', `${rowsInFile}, ${WIDTH}`, values(rowsInFile * WIDTH));
      } else if (spec.kind === 'width') bytes = npyFile('<f4', `${n}, ${spec.width}`, values(n * spec.width));
      else if (spec.kind === 'shape') bytes = npyFile('<f4', spec.shape, values(n * WIDTH));
      else if (spec.kind === 'header') bytes = npyFile('<f4', '', values(n * WIDTH), spec.text);
      else {
        const whole = npyFile('<f4', `${n}, ${WIDTH}`, values(n * WIDTH));
        bytes = whole.subarray(0, spec.keep % (whole.length + 1));
      }
      const itemsPath = join(dir.path, 'items.csv');
      const embeddingsPath = join(dir.path, 'embeddings.npy');
      await writeFile(itemsPath, csv);
      await writeFile(embeddingsPath, bytes);
      const hostile = [drawn.header, ...stringsIn(rows), spec.kind === 'header' ? spec.text : ''];
      const outcome = await checkImport(
        () => importItems(database.db, { itemsPath, embeddingsPath, batchSize: 2 }),
        hostile,
        `importItems ${JSON.stringify(csv.slice(0, 120))}`,
      );
      if (outcome === 'imported') imported += 1;
      return outcome;
    });
    expect(imported).toBeGreaterThan(5);
  });

  it('importRatings: hostile ratings.csv files are refused whole, with an ImportError', async () => {
    const scoreText = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('1', '2', '3', '4', '5') },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          '0',
          '6',
          '-1',
          '3.5',
          '1e0',
          ' 4 ',
          '٣',
          '',
          '+3',
          '0x3',
          'NaN',
          '9'.repeat(400),
          '05',
        ),
      },
      { weight: 1, arbitrary: hostileString },
    );
    const row = fc.record({
      user: fc.oneof(
        { weight: 3, arbitrary: knownUser },
        { weight: 1, arbitrary: plainId },
        { weight: 3, arbitrary: hostileString },
      ),
      item: fc.oneof(
        { weight: 4, arbitrary: knownItem },
        { weight: 1, arbitrary: plainId },
        { weight: 2, arbitrary: hostileString },
      ),
      score: scoreText,
    });
    const cases = fc.record({
      header: fc.oneof(
        { weight: 6, arbitrary: fc.constant('user_id,item_id,score') },
        { weight: 2, arbitrary: fc.constant(' worker, imagePair, score') },
        { weight: 1, arbitrary: fc.constantFrom('', 'user_id,item_id', 'score,item_id,user_id') },
        { weight: 1, arbitrary: hostileString },
      ),
      rows: fc.array(row, { maxLength: 6 }),
      quoting: fc.constantFrom<'rfc' | 'raw'>('rfc', 'rfc', 'rfc', 'raw'),
    });
    let imported = 0;
    await runProperty('importRatings files', 200, cases, async (drawn) => {
      const csv = [
        drawn.header,
        ...drawn.rows.map((entry) => csvLine([entry.user, entry.item, entry.score], drawn.quoting)),
      ]
        .join('\n')
        .concat('\n');
      const ratingsPath = join(dir.path, 'ratings.csv');
      await writeFile(ratingsPath, csv);
      const outcome = await checkImport(
        () => importRatings(database.db, { ratingsPath, batchSize: 2 }),
        [drawn.header, ...stringsIn(drawn.rows)],
        `importRatings ${JSON.stringify(csv.slice(0, 120))}`,
      );
      if (outcome === 'imported') imported += 1;
      return outcome;
    });
    expect(imported).toBeGreaterThan(5);
  });
});
