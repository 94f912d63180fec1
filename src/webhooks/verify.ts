/**
 * Signing and verifying AIPROD webhook deliveries. This file imports nothing but node:crypto, so a
 * receiver can copy it as it is (the SDK ships the same file).
 *
 * Every delivery carries `AIPROD-Signature: t=<unix seconds>,v1=<hex>`: the hex is
 * HMAC-SHA256(secret, `<t>.<raw body>`). The timestamp is signed with the body, so an old delivery
 * replayed later fails the tolerance check (5 minutes by default). Each attempt is signed afresh.
 * More than one `v1=` may appear (reserved for secret rotation); one match is enough.
 *
 * @example
 *   // Node, with the body as the exact bytes received (not re-serialized JSON):
 *   import { verifyWebhook } from './verify.js';
 *   const event = verifyWebhook(rawBody, req.headers['aiprod-signature'], process.env.AIPROD_WEBHOOK_SECRET!);
 *   if (event.type === 'production.succeeded') …  // throws WebhookVerificationError when forged or stale
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header name (HTTP header names are case-insensitive; Node lower-cases them). */
export const SIGNATURE_HEADER = 'AIPROD-Signature';

/** What every delivery's JSON body holds. `data.production` summarises the production. */
export interface WebhookEvent<Data = Record<string, unknown>> {
  /** Stable across retries and redeliveries: use it to drop duplicates. */
  id: string;
  /** production.succeeded, production.failed, production.canceled, production.awaiting_review, production.progress */
  type: string;
  /** ISO 8601, when the event happened. */
  time: string;
  data: Data;
}

export type WebhookVerificationReason = 'missing_signature' | 'malformed_signature' | 'timestamp_out_of_tolerance' | 'signature_mismatch' | 'invalid_body';

export class WebhookVerificationError extends Error {
  constructor(
    readonly reason: WebhookVerificationReason,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export interface VerifyOptions {
  /** Largest accepted difference between the signed timestamp and now, in seconds. Default 300. */
  toleranceSec?: number;
  /** Now, in unix seconds (for tests). */
  nowSec?: number;
}

function hmacHex(secret: string, timestampSec: number, rawBody: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestampSec}.`).update(rawBody).digest('hex');
}

/** The `AIPROD-Signature` value for `rawBody` sent at `timestampSec` (what AIPROD itself sends). */
export function signWebhook(rawBody: string | Uint8Array, secret: string, timestampSec: number = Math.floor(Date.now() / 1000)): string {
  return `t=${timestampSec},v1=${hmacHex(secret, timestampSec, rawBody)}`;
}

/** One header with a v1 signature per secret: during a rotation's grace period, the new and the previous. */
export function signWebhookWith(rawBody: string | Uint8Array, secrets: readonly string[], timestampSec: number = Math.floor(Date.now() / 1000)): string {
  return [`t=${timestampSec}`, ...secrets.map((secret) => `v1=${hmacHex(secret, timestampSec, rawBody)}`)].join(',');
}

/** `t=…,v1=…[,v1=…]` → the timestamp and the v1 signatures; unknown schemes are ignored. */
export function parseSignatureHeader(header: string): { timestampSec: number; signatures: string[] } | undefined {
  let timestampSec: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestampSec = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase());
  }
  return timestampSec === undefined || signatures.length === 0 ? undefined : { timestampSec, signatures };
}

/**
 * Checks a delivery and returns its parsed body. Throws WebhookVerificationError (with a `reason`)
 * when the header is missing or malformed, the timestamp is outside the tolerance, no signature
 * matches any of `secret` (pass several during a rotation of your endpoint's secret), or the body is
 * not a JSON event. `rawBody` must be the bytes as received.
 */
export function verifyWebhook<Data = Record<string, unknown>>(
  rawBody: string | Uint8Array,
  header: string | readonly string[] | null | undefined,
  secret: string | readonly string[],
  options: VerifyOptions = {},
): WebhookEvent<Data> {
  const value = Array.isArray(header) ? header.join(',') : (header as string | null | undefined);
  if (!value) throw new WebhookVerificationError('missing_signature', `no ${SIGNATURE_HEADER} header`);
  const parsed = parseSignatureHeader(value);
  if (!parsed) throw new WebhookVerificationError('malformed_signature', `${SIGNATURE_HEADER} is not "t=<unix seconds>,v1=<hex>"`);
  const toleranceSec = options.toleranceSec ?? 300;
  const nowSec = options.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(nowSec - parsed.timestampSec) > toleranceSec) {
    throw new WebhookVerificationError('timestamp_out_of_tolerance', `the signature's timestamp is ${nowSec - parsed.timestampSec} s from now (tolerance ${toleranceSec} s)`);
  }
  const secrets = typeof secret === 'string' ? [secret] : secret;
  const matched = secrets.some((s) => {
    const expected = Buffer.from(hmacHex(s, parsed.timestampSec, rawBody), 'hex');
    return parsed.signatures.some((candidate) => timingSafeEqual(expected, Buffer.from(candidate, 'hex')));
  });
  if (!matched) throw new WebhookVerificationError('signature_mismatch', 'no signature matches: check the secret, and sign the raw body, not re-serialized JSON');
  let event: unknown;
  try {
    event = JSON.parse(typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8'));
  } catch {
    throw new WebhookVerificationError('invalid_body', 'the body is not JSON');
  }
  const e = event as Partial<WebhookEvent<Data>> | null;
  if (!e || typeof e !== 'object' || typeof e.id !== 'string' || typeof e.type !== 'string') {
    throw new WebhookVerificationError('invalid_body', 'the body is not an AIPROD event');
  }
  return e as WebhookEvent<Data>;
}
