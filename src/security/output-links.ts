/**
 * Signed download links for stored outputs on local storage: `?token=…` on
 * `/v1/productions/{id}/outputs/{name}` lets whoever holds the link download that one file until it
 * expires, without an API key — what a `<video src>`, a browser download or a client of the
 * original API (whose video_url was a signed link) needs. S3 storage signs its own links.
 *
 * A token is `<expires>.<tenant>.<mac>`: the expiry in Unix seconds, the tenant id (base64url), and
 * an HMAC-SHA256 over the tenant, production, output name and expiry with a key derived from the
 * server's secrets (every instance derives the same one). Expiry is rounded up to the next
 * EXPIRY_STEP_SEC, so reads close together hand out the same URL (caches and players keep it).
 * A link cannot be revoked before it expires: keep SIGNED_URL_TTL_SEC short.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const EXPIRY_STEP_SEC = 300;

export class OutputLinks {
  constructor(
    private readonly key: Buffer,
    private readonly ttlSec: number,
    private readonly now: () => number = Date.now,
  ) {
    if (key.length < 32) throw new Error('an output link key needs at least 32 bytes');
  }

  private mac(tenantId: string, productionId: string, name: string, expires: number): Buffer {
    return createHmac('sha256', this.key).update(`aiprod-output-link:v1\n${tenantId}\n${productionId}\n${name}\n${expires}`).digest();
  }

  /** The token for one output of a tenant's production, valid for at least the TTL. */
  sign(tenantId: string, productionId: string, name: string): string {
    const nowSec = Math.floor(this.now() / 1000);
    const expires = Math.ceil((nowSec + this.ttlSec) / EXPIRY_STEP_SEC) * EXPIRY_STEP_SEC;
    return `${expires}.${Buffer.from(tenantId).toString('base64url')}.${this.mac(tenantId, productionId, name, expires).toString('base64url')}`;
  }

  /** The tenant a token was signed for, when it is for this output and has not expired; undefined otherwise. */
  verify(token: string, productionId: string, name: string): { tenantId: string } | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [expiresText, tenantText, macText] = parts as [string, string, string];
    if (!/^\d{1,12}$/.test(expiresText)) return undefined;
    const expires = Number(expiresText);
    if (expires * 1000 <= this.now()) return undefined;
    const tenantId = Buffer.from(tenantText, 'base64url').toString('utf8');
    const given = Buffer.from(macText, 'base64url');
    const expected = this.mac(tenantId, productionId, name, expires);
    return given.length === expected.length && timingSafeEqual(given, expected) ? { tenantId } : undefined;
  }
}
