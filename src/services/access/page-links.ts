import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { type Database } from '../../db/client.js';
import { gatewaySecrets } from '../../db/schema.js';

/** How long a signed link to a report page works. */
export const PAGE_LINK_TTL_MS = 24 * 60 * 60 * 1000;
const SECRET_NAME = 'page-links';

/**
 * Signed links to the HTML report pages. A browser that opens a link or shows an `<img>` sends no
 * Authorization header, so the API hands out links (`pageUrl`, chart URLs) that carry their own proof:
 * `?access=<expiry>.<HMAC-SHA256 of path and expiry>`, valid for {@link PAGE_LINK_TTL_MS}, with a
 * secret every gateway on the database shares.
 */
export class PageLinks {
  private secret: Promise<Buffer> | undefined;

  constructor(private readonly db: Database) {}

  /** `path` with an access token appended. */
  async sign(path: string, now = Date.now()): Promise<string> {
    const expires = Math.floor((now + PAGE_LINK_TTL_MS) / 1000);
    return `${path}?access=${expires}.${await this.mac(path, expires)}`;
  }

  /** Whether `access` is a valid, unexpired token for `path`. */
  async verify(path: string, access: string | null, now = Date.now()): Promise<boolean> {
    const match = /^(\d{1,12})\.([0-9a-f]{64})$/.exec(access ?? '');
    if (match === null) return false;
    const expires = Number(match[1]);
    if (expires * 1000 < now) return false;
    const expected = Buffer.from(await this.mac(path, expires), 'hex');
    return timingSafeEqual(expected, Buffer.from(match[2] as string, 'hex'));
  }

  private async mac(path: string, expires: number): Promise<string> {
    this.secret ??= this.loadSecret().catch((error: unknown) => {
      this.secret = undefined; // a database outage must not poison every later link
      throw error;
    });
    return createHmac('sha256', await this.secret)
      .update(`${path}\n${expires}`)
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
