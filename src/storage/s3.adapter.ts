/**
 * Storage in an S3-compatible object store (AWS S3, MinIO, Cloudflare R2, Backblaze B2 …), spoken
 * over plain HTTP with SigV4 signatures (sigv4.ts): no SDK. Chosen by STORAGE_URL=s3://bucket/prefix.
 *
 * Files up to `multipartThresholdBytes` go up in one streamed PUT; larger ones in parts (S3 caps a
 * single PUT at 5 GiB, and a part can be retried alone). Bodies are sent as UNSIGNED-PAYLOAD so a file
 * is read once; use an https endpoint for integrity in transit.
 *
 * @example
 *   const storage = new S3Storage({ bucket: 'media', prefix: 'aiprod', endpoint: 'http://minio:9000',
 *     region: 'us-east-1', credentials, forcePathStyle: true });
 *   await storage.put('productions/p1/video.mp4', '/tmp/video.mp4', 'video/mp4');
 *   const url = await storage.signedUrl('productions/p1/video.mp4', 3600, 'video.mp4');
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat as statFile } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { AppError } from '../contract/errors.js';
import { canonicalQuery, canonicalUri, EMPTY_SHA256, presignGetUrl, sha256Hex, signRequest, UNSIGNED_PAYLOAD, uriEncode, type Credentials } from './sigv4.js';
import type { Storage, StoredObject } from './storage.port.js';

export interface S3StorageOptions {
  bucket: string;
  /** Keys are stored under `prefix/`; empty for the bucket's root. */
  prefix?: string;
  /** `http(s)://host[:port]` of an S3-compatible store; undefined means AWS (`https://s3.<region>.amazonaws.com`). */
  endpoint?: string;
  /**
   * Origin put in signed download URLs when clients reach the store at another address than
   * AIPROD does (e.g. https://media.example.com for an internal http://minio:9000). The store must
   * accept requests for that host. Undefined: the endpoint.
   */
  publicEndpoint?: string;
  region: string;
  credentials: Credentials;
  /** `endpoint/bucket/key` (MinIO and most self-hosted stores) rather than `bucket.endpoint/key`. */
  forcePathStyle: boolean;
  /** A request that sends or receives nothing for this long fails. Default 30 s. */
  timeoutMs?: number;
  /** Files larger than this are uploaded in parts. Default 64 MiB. */
  multipartThresholdBytes?: number;
  /** Size of one part. Default 16 MiB; S3 wants at least 5 MiB and at most 10 000 parts. */
  partSizeBytes?: number;
}

type Action = 'PutObject' | 'HeadObject' | 'GetObject' | 'DeleteObject' | 'ListObjectsV2' | 'CreateMultipartUpload' | 'UploadPart' | 'CompleteMultipartUpload' | 'AbortMultipartUpload';

interface S3Call {
  action: Action;
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** Full object key (storage prefix included), or the list prefix for ListObjectsV2. */
  key: string;
  /** Whether the request addresses the bucket rather than the object `key`. */
  bucketLevel?: boolean;
  query?: Record<string, string>;
  /** Signed request headers. */
  headers?: Record<string, string>;
  body?: Buffer | { path: string; start: number; end: number };
  /** Statuses that are not failures (default 200). */
  ok?: number[];
}

const MiB = 1024 * 1024;
const MAX_PARTS = 10_000;
/** Codes whose fix is on the operator's side; the hint goes into the message. */
const HINTS: Record<string, string> = {
  InvalidAccessKeyId: 'check S3_ACCESS_KEY_ID',
  SignatureDoesNotMatch: 'check S3_SECRET_ACCESS_KEY (and S3_REGION)',
  AccessDenied: "check the key's permissions on the bucket",
  NoSuchBucket: 'check the bucket in STORAGE_URL',
  RequestTimeTooSkewed: "check this machine's clock",
  AuthorizationHeaderMalformed: 'check S3_REGION',
};
const RETRYABLE_CODES = new Set(['SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable']);

export class S3Storage implements Storage {
  readonly kind = 's3' as const;
  readonly bucket: string;
  private readonly prefix: string;
  private readonly endpoint: URL;
  /** Host header and connection target: `bucket.endpoint` when virtual-hosted. */
  private readonly host: string;
  private readonly hostname: string;
  /** Path of the bucket: `/bucket` path-style, empty virtual-hosted. */
  private readonly bucketPath: string;
  private readonly timeoutMs: number;
  private readonly multipartThreshold: number;
  private readonly partSize: number;

  constructor(private readonly options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.endpoint = new URL(options.endpoint ?? `https://s3.${options.region}.amazonaws.com`);
    if (!/^https?:$/.test(this.endpoint.protocol) || this.endpoint.pathname !== '/' || this.endpoint.search) {
      throw new Error(`S3 endpoint must be http(s)://host[:port] without a path: ${options.endpoint}`);
    }
    const virtual = options.forcePathStyle ? '' : `${options.bucket}.`;
    this.host = virtual + this.endpoint.host;
    this.hostname = virtual + this.endpoint.hostname.replace(/^\[|\]$/g, '');
    this.bucketPath = options.forcePathStyle ? `/${options.bucket}` : '';
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.multipartThreshold = options.multipartThresholdBytes ?? 64 * MiB;
    this.partSize = Math.max(options.partSizeBytes ?? 16 * MiB, 5 * MiB);
  }

  async put(key: string, fromPath: string, contentType: string): Promise<{ bytes: number }> {
    const full = this.fullKey(key);
    const { size } = await statFile(fromPath);
    if (size > this.multipartThreshold) return this.putInParts(full, fromPath, size, contentType);
    const res = await this.call({ action: 'PutObject', method: 'PUT', key: full, headers: { 'content-type': contentType }, body: { path: fromPath, start: 0, end: size - 1 } });
    res.resume();
    return { bytes: size };
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    const res = await this.call({ action: 'HeadObject', method: 'HEAD', key: this.fullKey(key), ok: [200, 404] });
    res.resume();
    if (res.statusCode === 404) return undefined;
    return { key, bytes: Number(res.headers['content-length']), modifiedAt: new Date(res.headers['last-modified'] ?? 0) };
  }

  async read(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const headers = range ? { range: `bytes=${range.start}-${range.end}` } : undefined;
    return this.call({ action: 'GetObject', method: 'GET', key: this.fullKey(key), headers, ok: range ? [206] : [200] });
  }

  /** Signed locally (no request); the download is named `filename` through response-content-disposition. */
  async signedUrl(key: string, ttlSec: number, filename: string): Promise<string> {
    const origin = this.options.publicEndpoint ? new URL(this.options.publicEndpoint).origin : `${this.endpoint.protocol}//${this.host}`;
    return presignGetUrl(
      { origin, path: this.objectPath(this.fullKey(key)), query: { 'response-content-disposition': disposition(filename) } },
      { credentials: this.options.credentials, region: this.options.region, now: new Date(), expiresSec: ttlSec },
    );
  }

  /** Like a directory listing: `list('productions/p1')` does not include `productions/p10/…`. */
  async *list(prefix: string): AsyncIterable<StoredObject> {
    const dir = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    const full = this.prefix ? `${this.prefix}/${dir}` : dir;
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', prefix: full, ...(token ? { 'continuation-token': token } : {}) };
      const xml = await this.text({ action: 'ListObjectsV2', method: 'GET', key: full, bucketLevel: true, query });
      for (const entry of xmlBlocks(xml, 'Contents')) {
        const stored = xmlText(entry, 'Key') ?? '';
        yield { key: this.prefix ? stored.slice(this.prefix.length + 1) : stored, bytes: Number(xmlText(entry, 'Size')), modifiedAt: new Date(xmlText(entry, 'LastModified') ?? 0) };
      }
      const truncated = xmlText(xml, 'IsTruncated') === 'true';
      token = truncated ? xmlText(xml, 'NextContinuationToken') : undefined;
      if (truncated && !token) throw this.failure({ action: 'ListObjectsV2', key: full }, 200, 'MalformedResponse', 'a truncated page without NextContinuationToken');
    } while (token);
  }

  async delete(key: string): Promise<void> {
    (await this.call({ action: 'DeleteObject', method: 'DELETE', key: this.fullKey(key), ok: [200, 204] })).resume();
  }

  /** Writes and deletes a probe object: proves the endpoint answers, the credentials work and the bucket is writable. */
  async check(): Promise<void> {
    const probe = this.fullKey(`.aiprod-ready/${randomUUID()}`);
    (await this.call({ action: 'PutObject', method: 'PUT', key: probe, headers: { 'content-type': 'text/plain' }, body: Buffer.from('ok') })).resume();
    (await this.call({ action: 'DeleteObject', method: 'DELETE', key: probe, ok: [200, 204] })).resume();
  }

  private async putInParts(key: string, path: string, size: number, contentType: string): Promise<{ bytes: number }> {
    const partSize = Math.max(this.partSize, Math.ceil(size / MAX_PARTS));
    const created = await this.text({ action: 'CreateMultipartUpload', method: 'POST', key, query: { uploads: '' }, headers: { 'content-type': contentType } });
    const uploadId = xmlText(created, 'UploadId');
    if (!uploadId) throw this.failure({ action: 'CreateMultipartUpload', key }, 200, 'MalformedResponse', 'no UploadId in the answer');
    try {
      const etags: string[] = [];
      for (let start = 0; start < size; start += partSize) {
        const query = { partNumber: String(etags.length + 1), uploadId };
        const res = await this.call({ action: 'UploadPart', method: 'PUT', key, query, body: { path, start, end: Math.min(size, start + partSize) - 1 } });
        res.resume();
        const etag = res.headers.etag;
        if (!etag) throw this.failure({ action: 'UploadPart', key }, 200, 'MalformedResponse', 'no ETag in the answer');
        etags.push(etag);
      }
      const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`).join('');
      const body = Buffer.from(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts}</CompleteMultipartUpload>`);
      const done = await this.text({ action: 'CompleteMultipartUpload', method: 'POST', key, query: { uploadId }, headers: { 'content-type': 'application/xml' }, body });
      // S3 may report a failed completion inside a 200 answer.
      if (done.includes('<Error>')) throw this.failure({ action: 'CompleteMultipartUpload', key }, 200, xmlText(done, 'Code') ?? 'Error', xmlText(done, 'Message') ?? '');
      return { bytes: size };
    } catch (error) {
      // Best effort: the upload's failure is what the caller needs; an upload left behind is
      // removed by the bucket's lifecycle rule for incomplete multipart uploads.
      await this.call({ action: 'AbortMultipartUpload', method: 'DELETE', key, query: { uploadId }, ok: [204] }).then((r) => r.resume(), () => undefined);
      throw error;
    }
  }

  private fullKey(key: string): string {
    const segments = key.split('/');
    if (key === '' || segments.some((s) => s === '' || s === '.' || s === '..')) {
      throw new AppError('internal', `storage key must be relative, without empty, "." or ".." segments: "${key}"`);
    }
    const full = this.prefix ? `${this.prefix}/${key}` : key;
    if (Buffer.byteLength(full) > 1024) throw new AppError('internal', `storage key longer than S3's 1024 bytes: "${full.slice(0, 80)}…"`);
    return full;
  }

  private objectPath(fullKey: string): string {
    return `${this.bucketPath}/${fullKey}`;
  }

  /** A call whose answer is a (small) XML document. */
  private async text(call: S3Call): Promise<string> {
    return readBody(await this.call(call));
  }

  /** Sends one signed request; resolves with the response when its status is in `call.ok`, else throws the S3 error. */
  private async call(call: S3Call): Promise<IncomingMessage> {
    const path = call.bucketLevel ? this.bucketPath || '/' : this.objectPath(call.key);
    const body = call.body;
    const payloadHash = body === undefined ? EMPTY_SHA256 : Buffer.isBuffer(body) ? sha256Hex(body) : UNSIGNED_PAYLOAD;
    const signed = signRequest(
      { method: call.method, host: this.host, path, query: call.query, headers: call.headers },
      { credentials: this.options.credentials, region: this.options.region, now: new Date(), payloadHash },
    );
    const length = body === undefined ? undefined : Buffer.isBuffer(body) ? body.length : body.end - body.start + 1;
    const search = canonicalQuery(call.query);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      let response: IncomingMessage | undefined;
      let fileError: unknown;
      const req = (this.endpoint.protocol === 'https:' ? https : http).request({
        method: call.method,
        hostname: this.hostname,
        port: this.endpoint.port || undefined,
        path: canonicalUri(path) + (search ? `?${search}` : ''),
        headers: { ...call.headers, ...signed, host: this.host, ...(length === undefined ? {} : { 'content-length': String(length) }) },
      });
      req.setTimeout(this.timeoutMs);
      req.on('timeout', () => {
        // A body fully received, or held back because our reader is slow, is not the store's silence.
        if (response && (response.complete || response.readableLength >= response.readableHighWaterMark)) req.setTimeout(this.timeoutMs);
        else req.destroy(new Error(`timed out after ${this.timeoutMs / 1000} s without data`));
      });
      req.on('error', (error) => {
        const failure = error === fileError ? error : this.unreachable(call, error);
        response?.destroy(failure);
        reject(failure);
      });
      req.on('response', (r) => resolve((response = r)));
      if (body === undefined || length === 0) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        const file = createReadStream(body.path, { start: body.start, end: body.end });
        file.on('error', (error) => (fileError = error));
        pipeline(file, req).catch((error: unknown) => req.destroy(error as Error));
      }
    });
    const status = res.statusCode ?? 0;
    if ((call.ok ?? [200]).includes(status)) return res;
    const xml = await readBody(res).catch(() => '');
    throw this.failure(call, status, xmlText(xml, 'Code') ?? (status === 404 ? 'NotFound' : 'UnexpectedStatus'), xmlText(xml, 'Message') ?? '');
  }

  private failure(call: Pick<S3Call, 'action' | 'key'>, status: number, code: string, message: string): AppError {
    const hint = HINTS[code] ? ` (${HINTS[code]})` : '';
    const text = `S3 ${call.action} "${call.key}" in bucket "${this.bucket}" failed: ${code} (HTTP ${status})${message ? `: ${message}` : ''}${hint}`;
    if (code === 'NoSuchKey' || (status === 404 && code === 'NotFound')) return new AppError('not_found', text);
    return new AppError('internal', text, { status: 502, retryable: status >= 500 || status === 429 || RETRYABLE_CODES.has(code) });
  }

  private unreachable(call: S3Call, error: Error): AppError {
    return new AppError('internal', `S3 ${call.action} "${call.key}" in bucket "${this.bucket}" failed: connection to ${this.endpoint.origin}: ${error.message}`, {
      status: 503,
      retryable: true,
      cause: error,
    });
  }
}

/** `attachment; filename="…"` with an ASCII fallback, and the exact name in RFC 5987 form. */
/** `inline`, like the API's own download route: a browser plays the video and saves it under its name. */
function disposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${uriEncode(filename)}`;
}

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** S3's answers are flat, generated XML: elements without attributes, text with entities, no CDATA. */
function xmlBlocks(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1] ?? '');
}

function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return match ? decodeXml(match[1] ?? '') : undefined;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
    return ENTITIES[entity] ?? '';
  });
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${Object.keys(ENTITIES).find((name) => ENTITIES[name] === c)};`);
}
