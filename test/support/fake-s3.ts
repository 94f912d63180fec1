/**
 * A local S3 for tests: one bucket, path-style (`http://127.0.0.1:<port>/<bucket>/<key>`), speaking
 * S3's real shapes for PutObject, GetObject (Range → 206), HeadObject, DeleteObject, ListObjectsV2
 * (max-keys, continuation-token), multipart upload, and S3's XML errors.
 *
 * Every request must carry a valid SigV4 signature, in its headers or presigned in its query. The
 * fake recomputes it from the raw request with its own canonicalisation, written apart from any
 * client's signer on purpose: a signing bug makes the tests fail instead of agreeing with itself.
 * With `sessionToken` set, the credentials are temporary ones (STS): every request must also carry
 * that token, signed (`x-amz-security-token`, or `X-Amz-Security-Token` in a presigned URL).
 * A request the fake does not implement answers 501 and is recorded in `unexpected`.
 *
 * @example
 *   const s3 = await FakeS3.start({ bucket: 'media', accessKeyId: 'AKID', secretAccessKey: 'secret' });
 *   // … new S3Client({ endpoint: s3.url, forcePathStyle: true, … }) …
 *   assert.deepEqual(s3.unexpected, []);
 *   await s3.close();
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeS3Options {
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  /** Set for temporary credentials: the token each request must carry. */
  sessionToken?: string;
  /** Largest page ListObjectsV2 returns, whatever max-keys asks (S3's is 1000). */
  maxKeys?: number;
}

export interface FakeObject {
  body: Buffer;
  contentType: string;
  etag: string;
  modifiedAt: Date;
}

interface Upload {
  key: string;
  contentType: string;
  parts: Map<number, { body: Buffer; etag: string }>;
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

class S3Failure extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly extra: Record<string, string> = {}) {
    super(message);
  }
}

const MIN_PART_BYTES = 5 * 1024 * 1024;
const UNSIGNED = 'UNSIGNED-PAYLOAD';

export class FakeS3 {
  readonly objects = new Map<string, FakeObject>();
  readonly uploads = new Map<string, Upload>();
  /** Requests the fake does not implement, as `METHOD /raw/target`; a test should expect none. */
  readonly unexpected: string[] = [];
  /** Every request, as `METHOD /raw/target`. */
  readonly requests: string[] = [];
  /** The fake's clock: move it to expire presigned URLs without waiting. */
  now: () => Date = () => new Date();
  /** While set, requests are accepted and never answered (to test time-outs). */
  hang = false;
  /** While set, a GET's answer sends its headers and this many bytes of the body, then nothing more (the socket stays open). */
  stallBodyAfter: number | undefined;
  /** The next `times` (default 1) requests whose `METHOD /raw/target` matches fail with this S3 error. */
  failNext: { match: RegExp; status: number; code: string; message: string; times?: number } | undefined;
  /** The session token of every authenticated request, in order (undefined: none was sent). */
  readonly sessionTokens: Array<string | undefined> = [];
  url = '';
  private readonly server: Server;

  private constructor(private readonly options: FakeS3Options) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(options: FakeS3Options): Promise<FakeS3> {
    const fake = new FakeS3(options);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private get region(): string {
    return this.options.region ?? 'us-east-1';
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    this.requests.push(`${req.method} ${target}`);
    let answer: Answer;
    try {
      const body = await readAll(req);
      if (this.hang) return;
      answer = this.route(req, target, body);
    } catch (thrown) {
      let error = thrown;
      if (!(error instanceof S3Failure)) {
        this.unexpected.push(`${req.method} ${target}: ${error instanceof Error ? error.message : String(error)}`);
        error = new S3Failure(500, 'InternalError', 'We encountered an internal error. Please try again.');
      }
      answer = errorAnswer(error as S3Failure);
    }
    const payload = req.method === 'HEAD' ? undefined : answer.body;
    res.writeHead(answer.status, { ...answer.headers, ...(payload === undefined ? {} : { 'content-length': String(Buffer.byteLength(payload)) }) });
    if (req.method === 'GET' && this.stallBodyAfter !== undefined && payload !== undefined) {
      res.write(Buffer.from(payload).subarray(0, this.stallBodyAfter));
      return;
    }
    res.end(payload);
  }

  private route(req: IncomingMessage, target: string, body: Buffer): Answer {
    const queryAt = target.indexOf('?');
    const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
    let query = parseQuery(queryAt < 0 ? '' : target.slice(queryAt + 1));
    const [, bucket = '', ...keySegments] = rawPath.split('/').map(decode);
    const key = keySegments.join('/');
    if (bucket !== this.options.bucket) throw new S3Failure(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
    this.authenticate(req, rawPath, query, body);
    if (this.failNext?.match.test(`${req.method} ${target}`)) {
      const { status, code, message, times = 1 } = this.failNext;
      this.failNext = times > 1 ? { ...this.failNext, times: times - 1 } : undefined;
      throw new S3Failure(status, code, message);
    }
    // `x-id=<Operation>` is a hint the AWS SDKs add to some object operations; S3 ignores it.
    query = query.filter(([name]) => name !== 'x-id');
    const has = (name: string): boolean => query.some(([n]) => n === name);
    const param = (name: string): string | undefined => query.find(([n]) => n === name)?.[1];
    const method = req.method ?? '';
    if (key === '') {
      if (method === 'GET' && param('list-type') === '2') return this.list(param);
      if (method === 'HEAD' && query.length === 0) return { status: 200 };
    } else {
      const uploadId = param('uploadId');
      if (method === 'PUT' && query.length === 0 && !req.headers['x-amz-copy-source']) return this.putObject(req, key, body);
      if (method === 'PUT' && uploadId && has('partNumber')) return this.uploadPart(key, uploadId, Number(param('partNumber')), body);
      if (method === 'POST' && has('uploads')) return this.createUpload(req, key);
      if (method === 'POST' && uploadId) return this.completeUpload(key, uploadId, body.toString('utf8'));
      if (method === 'DELETE' && uploadId) return this.uploads.delete(uploadId) ? { status: 204 } : noSuchUpload(uploadId);
      if ((method === 'GET' || method === 'HEAD') && query.every(([n]) => n.startsWith('response-') || n.startsWith('X-Amz-'))) {
        return this.getObject(req, key, param);
      }
      if (method === 'DELETE' && query.length === 0) {
        this.objects.delete(key);
        return { status: 204 };
      }
    }
    this.unexpected.push(`${method} ${target}`);
    throw new S3Failure(501, 'NotImplemented', 'A header or query you provided implies functionality that is not implemented');
  }

  // ── signatures ──────────────────────────────────────────────────────────────────────────────

  private authenticate(req: IncomingMessage, rawPath: string, query: Array<[string, string]>, body: Buffer): void {
    const param = (name: string): string | undefined => query.find(([n]) => n === name)?.[1];
    if (param('X-Amz-Algorithm') !== undefined) return this.authenticatePresigned(req, rawPath, query, param);
    const authorization = req.headers.authorization;
    if (!authorization) throw new S3Failure(403, 'AccessDenied', 'Access Denied');
    const match = /^AWS4-HMAC-SHA256 Credential=([^/,]+)\/(\d{8})\/([^/,]+)\/s3\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization);
    if (!match) throw new S3Failure(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed');
    const [, accessKeyId = '', day = '', region = '', signedHeaders = '', signature = ''] = match;
    const stamp = header(req, 'x-amz-date');
    const payloadHash = header(req, 'x-amz-content-sha256');
    if (payloadHash === undefined) throw new S3Failure(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    const signed = signedHeaders.split(';');
    const unsigned = Object.keys(req.headers).filter((name) => name.startsWith('x-amz-') && !signed.includes(name));
    if (!signed.includes('host') || unsigned.length > 0) throw new S3Failure(403, 'AccessDenied', 'There were headers present in the request which were not signed');
    const time = this.checkScope(accessKeyId, day, region, stamp);
    this.checkToken(header(req, 'x-amz-security-token'));
    if (Math.abs(this.now().getTime() - time.getTime()) > 15 * 60_000) {
      throw new S3Failure(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    }
    this.checkSignature(req, rawPath, query, signed, payloadHash, stamp ?? '', signature);
    if (payloadHash !== UNSIGNED && payloadHash !== createHash('sha256').update(body).digest('hex')) {
      throw new S3Failure(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
  }

  private authenticatePresigned(req: IncomingMessage, rawPath: string, query: Array<[string, string]>, param: (name: string) => string | undefined): void {
    const credential = /^([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request$/.exec(param('X-Amz-Credential') ?? '');
    const expires = Number(param('X-Amz-Expires'));
    const signature = param('X-Amz-Signature') ?? '';
    if (param('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !credential || !Number.isInteger(expires) || expires < 1 || expires > 604_800) {
      throw new S3Failure(400, 'AuthorizationQueryParametersError', 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
    }
    const [, accessKeyId = '', day = '', region = ''] = credential;
    const stamp = param('X-Amz-Date');
    const time = this.checkScope(accessKeyId, day, region, stamp);
    this.checkToken(param('X-Amz-Security-Token'));
    const signed = (param('X-Amz-SignedHeaders') ?? '').split(';');
    if (!signed.includes('host')) throw new S3Failure(403, 'AccessDenied', 'host must be a signed header');
    const unsigned = query.filter(([name]) => name !== 'X-Amz-Signature');
    this.checkSignature(req, rawPath, unsigned, signed, UNSIGNED, stamp ?? '', signature);
    const expiresAt = new Date(time.getTime() + expires * 1000);
    if (this.now() > expiresAt) {
      throw new S3Failure(403, 'AccessDenied', 'Request has expired', { Expires: expiresAt.toISOString(), ServerTime: this.now().toISOString() });
    }
  }

  /** Temporary credentials are only valid with their token; a token with permanent ones is refused too. */
  private checkToken(token: string | undefined): void {
    this.sessionTokens.push(token);
    if (token !== this.options.sessionToken) throw new S3Failure(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
  }

  private checkScope(accessKeyId: string, day: string, region: string, stamp: string | undefined): Date {
    if (accessKeyId !== this.options.accessKeyId) throw new S3Failure(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    if (region !== this.region) throw new S3Failure(400, 'AuthorizationHeaderMalformed', `the region '${region}' is wrong; expecting '${this.region}'`);
    const parts = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp ?? '');
    if (!parts || stamp?.slice(0, 8) !== day) throw new S3Failure(403, 'AccessDenied', 'X-Amz-Date is missing, malformed or outside the credential scope');
    const [, y, mo, d, h, mi, s] = parts.map(Number);
    return new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0, h ?? 0, mi ?? 0, s ?? 0));
  }

  /** The canonical request rebuilt from what arrived: path and query decoded, then encoded by AWS's rules. */
  private checkSignature(req: IncomingMessage, rawPath: string, query: Array<[string, string]>, signed: string[], payloadHash: string, stamp: string, signature: string): void {
    const path = rawPath.split('/').map((segment) => awsEscape(decode(segment))).join('/');
    const canonicalQuery = query
      .map(([name, value]) => `${awsEscape(name)}=${awsEscape(value)}`)
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .join('&');
    const headerLines = signed.map((name) => `${name}:${headerValues(req, name)}\n`).join('');
    const canonical = [req.method, path, canonicalQuery, headerLines, signed.join(';'), payloadHash].join('\n');
    const day = stamp.slice(0, 8);
    const scope = `${day}/${this.region}/s3/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    let key: Buffer = Buffer.from(`AWS4${this.options.secretAccessKey}`);
    for (const part of [day, this.region, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    const expected = createHmac('sha256', key).update(toSign).digest();
    const given = Buffer.from(signature, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new S3Failure(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', { CanonicalRequest: canonical });
    }
  }

  // ── operations ──────────────────────────────────────────────────────────────────────────────

  private putObject(req: IncomingMessage, key: string, body: Buffer): Answer {
    if (req.headers['content-length'] === undefined) throw new S3Failure(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
    const object = { body, contentType: req.headers['content-type'] ?? 'binary/octet-stream', etag: md5Etag(body), modifiedAt: this.now() };
    this.objects.set(key, object);
    return { status: 200, headers: { etag: object.etag } };
  }

  private getObject(req: IncomingMessage, key: string, param: (name: string) => string | undefined): Answer {
    const object = this.objects.get(key);
    if (!object) throw new S3Failure(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
    const size = object.body.length;
    const headers: Record<string, string> = {
      'content-type': param('response-content-type') ?? object.contentType,
      etag: object.etag,
      'last-modified': object.modifiedAt.toUTCString(),
      'accept-ranges': 'bytes',
    };
    const disposition = param('response-content-disposition');
    if (disposition !== undefined) headers['content-disposition'] = disposition;
    const range = header(req, 'range');
    if (range === undefined) return { status: 200, headers: req.method === 'HEAD' ? { ...headers, 'content-length': String(size) } : headers, body: object.body };
    const match = /^bytes=(\d*)-(\d*)$/.exec(range);
    let start = match?.[1] ? Number(match[1]) : NaN;
    let end = match?.[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
    if (match && match[1] === '' && match[2]) [start, end] = [Math.max(0, size - Number(match[2])), size - 1];
    if (!(start <= end) || start >= size) {
      throw new S3Failure(416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: range, ActualObjectSize: String(size) });
    }
    return { status: 206, headers: { ...headers, 'content-range': `bytes ${start}-${end}/${size}` }, body: object.body.subarray(start, end + 1) };
  }

  private list(param: (name: string) => string | undefined): Answer {
    const prefix = param('prefix') ?? '';
    const maxKeys = Math.min(Number(param('max-keys') ?? 1000), this.options.maxKeys ?? 1000);
    if (!Number.isInteger(maxKeys) || maxKeys < 0) throw new S3Failure(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range');
    const token = param('continuation-token');
    const after = token === undefined ? param('start-after') ?? '' : Buffer.from(token, 'base64url').toString('utf8');
    if (token !== undefined && !this.objects.has(after)) throw new S3Failure(400, 'InvalidArgument', 'The continuation token provided is incorrect');
    // S3 lists in UTF-8 byte order, which is not JavaScript's UTF-16 string order.
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix) && Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0)
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const page = keys.slice(0, maxKeys);
    const truncated = keys.length > page.length;
    const contents = page.map((k) => {
      const o = this.objects.get(k) as FakeObject;
      return `<Contents><Key>${escapeXml(k)}</Key><LastModified>${o.modifiedAt.toISOString()}</LastModified><ETag>${escapeXml(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    });
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
      `<Name>${escapeXml(this.options.bucket)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>`,
      `<IsTruncated>${truncated}</IsTruncated>`,
      token === undefined ? '' : `<ContinuationToken>${escapeXml(token)}</ContinuationToken>`,
      truncated ? `<NextContinuationToken>${Buffer.from(page.at(-1) ?? '').toString('base64url')}</NextContinuationToken>` : '',
      ...contents,
      '</ListBucketResult>',
    ].join('');
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: xml };
  }

  private createUpload(req: IncomingMessage, key: string): Answer {
    const uploadId = randomBytes(12).toString('hex');
    this.uploads.set(uploadId, { key, contentType: req.headers['content-type'] ?? 'binary/octet-stream', parts: new Map() });
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult><Bucket>${escapeXml(this.options.bucket)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`;
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: xml };
  }

  private uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Answer {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.key !== key) return noSuchUpload(uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) throw new S3Failure(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
    const etag = md5Etag(body);
    upload.parts.set(partNumber, { body, etag });
    return { status: 200, headers: { etag } };
  }

  private completeUpload(key: string, uploadId: string, xml: string): Answer {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.key !== key) return noSuchUpload(uploadId);
    // A <Part>'s children may come in any order (AWS's SDKs put ETag first); entities are decoded.
    const listed = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
      number: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(m[1] ?? '')?.[1]),
      etag: unescapeXml(/<ETag>([^<]*)<\/ETag>/.exec(m[1] ?? '')?.[1] ?? ''),
    }));
    if (listed.length === 0 || listed.some((p) => !Number.isInteger(p.number) || p.etag === '')) throw new S3Failure(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    const bodies: Buffer[] = [];
    for (const [i, { number, etag }] of listed.entries()) {
      const part = upload.parts.get(number);
      if (i > 0 && number <= (listed[i - 1]?.number ?? 0)) throw new S3Failure(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
      if (!part || part.etag !== etag) throw new S3Failure(400, 'InvalidPart', 'One or more of the specified parts could not be found.');
      if (i < listed.length - 1 && part.body.length < MIN_PART_BYTES) throw new S3Failure(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
      bodies.push(part.body);
    }
    const etag = `"${createHash('md5').update(Buffer.concat(listed.map((p) => Buffer.from(p.etag.replace(/"/g, ''), 'hex')))).digest('hex')}-${listed.length}"`;
    this.objects.set(key, { body: Buffer.concat(bodies), contentType: upload.contentType, etag, modifiedAt: this.now() });
    this.uploads.delete(uploadId);
    const result = `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult><Bucket>${escapeXml(this.options.bucket)}</Bucket><Key>${escapeXml(key)}</Key><ETag>${escapeXml(etag)}</ETag></CompleteMultipartUploadResult>`;
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: result };
  }
}

function errorAnswer(error: S3Failure): Answer {
  const fields = { Code: error.code, Message: error.message, ...error.extra, RequestId: randomBytes(8).toString('hex') };
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${Object.entries(fields).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('')}</Error>`;
  return { status: error.status, headers: { 'content-type': 'application/xml' }, body: xml };
}

function noSuchUpload(uploadId: string): never {
  throw new S3Failure(404, 'NoSuchUpload', 'The specified multipart upload does not exist.', { UploadId: uploadId });
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Failure(400, 'InvalidURI', `Couldn't parse the specified URI: ${text}`);
  }
}

function parseQuery(raw: string): Array<[string, string]> {
  if (raw === '') return [];
  return raw.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return eq < 0 ? [decode(pair), ''] : [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))];
  });
}

/** Byte by byte, as AWS's docs describe it: unreserved characters kept, all else %XX. */
function awsEscape(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const unreserved = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || [0x2d, 0x2e, 0x5f, 0x7e].includes(byte);
    out += unreserved ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** A signed header's canonical value, from the raw headers: repeats joined by commas, spaces collapsed. */
function headerValues(req: IncomingMessage, name: string): string {
  const values: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]?.toLowerCase() === name) values.push((req.rawHeaders[i + 1] ?? '').trim().replace(/ +/g, ' '));
  }
  return values.join(',');
}

function md5Etag(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
    return Object.keys(ENTITIES).find((c) => ENTITIES[c] === `&${entity};`) ?? '';
  });
}

/** Named entities for markup characters; control characters as hex references, as S3 writes them. */
function escapeXml(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[&<>"'\x00-\x08\x0b-\x1f]/g, (c) => ENTITIES[c] ?? `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`);
}
