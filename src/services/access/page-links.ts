import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { type Database } from '../../db/client.js';
import { gatewaySecrets } from '../../db/schema.js';

/** How long a signed link to a report page works. */
export const PAGE_LINK_TTL_MS = 24 * 60 * 60 * 1000;
const SECRET_NAME = 'page-links';
/** The owner field of a link made with authentication off. */
const NO_KEY = '-';

/**
 * Signed links to the HTML report pages. A browser that opens a link or shows an `<img>` sends no
 * Authorization header, so the API hands out links (`pageUrl`, chart URLs) that carry their own proof:
 * `?access=<expiry>.<key id>.<HMAC-SHA256 of path, expiry and key id>`, valid for
 * {@link PAGE_LINK_TTL_MS} and while the key that asked for it is not revoked, with a secret every
 * gateway on the database shares.
 */
export class PageLinks {
  private secret: Promise<Buffer> | undefined;

  constructor(private readonly db: Database) {}

  /**
   * `path` with an access token appended, on behalf of the API key that asked for it (null: no key,
   * authentication off): revoking the key ends its links too. `expires` (seconds since the epoch) keeps
   * the expiry of the link a page was opened with, so following links never renews them.
   */
  async sign(
    path: string,
    keyId: string | null,
    now = Date.now(),
    expires = Math.floor((now + PAGE_LINK_TTL_MS) / 1000),
  ): Promise<string> {
    const owner = keyId ?? NO_KEY;
    return `${path}?access=${expires}.${owner}.${await this.mac(path, expires, owner)}`;
  }

  /**
   * The key a valid, unexpired token for `path` was made for (`keyId: null`: made with authentication
   * off) and when it expires, or null when the token is missing, altered, for another path or expired.
   */
  async verify(
    path: string,
    access: string | null,
    now = Date.now(),
  ): Promise<{ keyId: string | null; expires: number } | null> {
    const match = /^(\d{1,12})\.([0-9a-f-]{36}|-)\.([0-9a-f]{64})$/.exec(access ?? '');
    if (match === null) return null;
    const expires = Number(match[1]);
    const owner = match[2] as string;
    if (expires * 1000 < now) return null;
    const expected = Buffer.from(await this.mac(path, expires, owner), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(match[3] as string, 'hex'))) return null;
    return { keyId: owner === NO_KEY ? null : owner, expires };
  }

  private async mac(path: string, expires: number, owner: string): Promise<string> {
    this.secret ??= this.loadSecret().catch((error: unknown) => {
      this.secret = undefined; // a database outage must not poison every later link
      throw error;
    });
    return createHmac('sha256', await this.secret)
      .update(`${path}\n${expires}\n${owner}`)
      .digest('hex');
  }

  private async loadSecret(): Promise<Buffer> {
    // The first gateway to ask makes it; the others read the same row.
    await this.db
      .insert(gatewaySecrets)
      .values({ name: SECRET_NAME, secret: randomBytes(32).toString('hex') })
      .onConflictDoNothing();
    const [row] = await this.db
      .select({ secret: gatewaySecrets.secret })
      .from(gatewaySecrets)
      .where(eq(gatewaySecrets.name, SECRET_NAME));
    if (row === undefined) throw new Error(`gateway secret ${SECRET_NAME} is missing after its insert`);
    return Buffer.from(row.secret, 'hex');
  }
}
