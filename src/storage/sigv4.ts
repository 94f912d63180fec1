/**
 * AWS Signature Version 4 for S3, as pure functions over a described request (no I/O): signing a
 * request's headers, and presigning a GET URL. Checked against the worked examples of AWS's S3 docs
 * (sig-v4-header-based-auth.html, sigv4-query-string-auth.html) in s3.adapter.test.ts.
 *
 * Paths and query values are given decoded (`/bucket/my video.mp4`) and encoded here once, by AWS's
 * rules, so the bytes sent and the bytes signed cannot disagree.
 *
 * @example
 *   const headers = signRequest(
 *     { method: 'GET', host: 'bucket.s3.amazonaws.com', path: '/a b.mp4', headers: { range: 'bytes=0-9' } },
 *     { credentials, region: 'us-east-1', payloadHash: EMPTY_SHA256, now: new Date() },
 *   ); // → { authorization, 'x-amz-date', 'x-amz-content-sha256' }
 */
import { createHash, createHmac } from 'node:crypto';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export type QueryParams = Record<string, string> | ReadonlyArray<readonly [string, string]>;

export interface SignableRequest {
  method: string;
  /** The Host header: the host name, with the port when it is not the scheme's default. */
  host: string;
  /** The decoded path, starting with `/`; each segment is URI-encoded while signing, `/` is kept. */
  path: string;
  /** Decoded query parameters, in any order. */
  query?: QueryParams;
  /** Headers to sign besides host, x-amz-date and x-amz-content-sha256 (e.g. range, content-type). */
  headers?: Record<string, string>;
}

export interface SigningOptions {
  credentials: Credentials;
  region: string;
  /** Default `s3`. */
  service?: string;
  now: Date;
}

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** SHA-256 of the empty body (GET, HEAD, DELETE). */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Payload hash for streamed bodies that are not hashed before sending. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** The longest lifetime S3 accepts for a presigned URL (7 days). */
export const MAX_PRESIGN_EXPIRES_SEC = 604_800;

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * URI-encodes by AWS's rules: every byte except A–Z a–z 0–9 - _ . ~ becomes %XX (upper-case hex),
 * space included (never `+`). encodeURIComponent leaves !'()* alone, which AWS encodes.
 */
export function uriEncode(value: string, keepSlash = false): string {
  const encoded = encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? encoded.replace(/%2F/g, '/') : encoded;
}

/** `/bucket/a b/ü.mp4` → `/bucket/a%20b/%C3%BC.mp4`. S3 signs the path encoded once, unnormalised. */
export function canonicalUri(path: string): string {
  if (!path.startsWith('/')) throw new Error(`a request path must start with "/": ${path}`);
  return uriEncode(path, true);
}

/** Parameters encoded, then sorted by name and value; a parameter without a value is `name=`. */
export function canonicalQuery(query: QueryParams = {}): string {
  const entries = Array.isArray(query) ? query : Object.entries(query);
  return entries
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** `2013-05-24T00:00:00.000Z` → `20130524T000000Z`. */
export function amzDate(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export function credentialScope(now: Date, region: string, service = 's3'): string {
  return `${amzDate(now).slice(0, 8)}/${region}/${service}/aws4_request`;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** HMAC chain of secret → date → region → service → "aws4_request". */
export function signingKey(secretAccessKey: string, date: string, region: string, service = 's3'): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
}

/** Header names lower-cased and sorted; values trimmed with inner runs of spaces collapsed. */
function canonicalHeaders(headers: Record<string, string>): { text: string; signed: string } {
  const byName = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) byName.set(name.toLowerCase(), value.trim().replace(/\s+/g, ' '));
  const names = [...byName.keys()].sort();
  return { text: names.map((n) => `${n}:${byName.get(n)}\n`).join(''), signed: names.join(';') };
}

export function canonicalRequest(request: SignableRequest & { headers: Record<string, string> }, payloadHash: string): { text: string; signedHeaders: string } {
  const headers = canonicalHeaders(request.headers);
  const text = [request.method.toUpperCase(), canonicalUri(request.path), canonicalQuery(request.query), headers.text, headers.signed, payloadHash].join('\n');
  return { text, signedHeaders: headers.signed };
}

export function stringToSign(now: Date, scope: string, canonical: string): string {
  return [ALGORITHM, amzDate(now), scope, sha256Hex(canonical)].join('\n');
}

/**
 * Signs a request in its headers. Returns the headers to send with it (the caller adds its own
 * unsigned ones, such as content-length). `payloadHash` is the body's SHA-256 hex, EMPTY_SHA256, or
 * UNSIGNED_PAYLOAD for a streamed body.
 */
export function signRequest(request: SignableRequest, options: SigningOptions & { payloadHash: string }): Record<string, string> {
  const { credentials, region, service = 's3', now, payloadHash } = options;
  const added = { 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate(now) };
  const headers = { ...request.headers, host: request.host, ...added };
  const canonical = canonicalRequest({ ...request, headers }, payloadHash);
  const scope = credentialScope(now, region, service);
  const signature = hmac(signingKey(credentials.secretAccessKey, amzDate(now).slice(0, 8), region, service), stringToSign(now, scope, canonical.text)).toString('hex');
  return {
    ...added,
    authorization: `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${canonical.signedHeaders}, Signature=${signature}`,
  };
}

export interface PresignRequest {
  /** `https://bucket.s3.amazonaws.com` or `http://127.0.0.1:9000`; the Host signed is taken from it. */
  origin: string;
  /** Decoded path, as in SignableRequest. */
  path: string;
  /** Extra parameters signed into the URL, e.g. `response-content-disposition`. */
  query?: Record<string, string>;
}

/**
 * A GET URL anyone can fetch until `expiresSec` after `now`, signed in its query (only the host
 * header is signed, the payload is UNSIGNED-PAYLOAD).
 */
export function presignGetUrl(request: PresignRequest, options: SigningOptions & { expiresSec: number }): string {
  const { credentials, region, service = 's3', now, expiresSec } = options;
  if (!Number.isInteger(expiresSec) || expiresSec < 1 || expiresSec > MAX_PRESIGN_EXPIRES_SEC) {
    throw new Error(`a presigned URL lives 1 to ${MAX_PRESIGN_EXPIRES_SEC} seconds, not ${expiresSec}`);
  }
  const origin = new URL(request.origin);
  const scope = credentialScope(now, region, service);
  const query: Record<string, string> = {
    ...request.query,
    'X-Amz-Algorithm': ALGORITHM,
    'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate(now),
    'X-Amz-Expires': String(expiresSec),
    'X-Amz-SignedHeaders': 'host',
  };
  const canonical = canonicalRequest({ method: 'GET', host: origin.host, path: request.path, query, headers: { host: origin.host } }, UNSIGNED_PAYLOAD);
  const signature = hmac(signingKey(credentials.secretAccessKey, amzDate(now).slice(0, 8), region, service), stringToSign(now, scope, canonical.text)).toString('hex');
  return `${origin.protocol}//${origin.host}${canonicalUri(request.path)}?${canonicalQuery(query)}&X-Amz-Signature=${signature}`;
}
