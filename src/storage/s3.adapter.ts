/**
 * Storage in an S3-compatible object store (AWS S3, MinIO, Cloudflare R2, Backblaze B2 …) through
 * the AWS SDK (`@aws-sdk/client-s3`). Chosen by STORAGE_URL=s3://bucket/prefix.
 *
 * The SDK brings what a hand-written client lacked: every credential source AWS has (static keys,
 * session tokens, and with no key configured the default chain: AWS_* variables, shared config,
 * web identity / IRSA, ECS and EC2 instance roles), refreshed before they expire, and retries with
 * backoff for throttling (503 SlowDown), 5xx answers, time-outs and dropped connections.
 *
 * Files up to `multipartThresholdBytes` go up in one PUT from memory (a buffered body is what the
 * SDK can retry; a stream it cannot); larger ones in parts through `@aws-sdk/lib-storage`, each part
 * retried alone. Checksums are only sent where S3 requires them (`WHEN_REQUIRED`): the SDK's default
 * CRC32 trailers are not understood by every S3-compatible store.
 *
 * @example
 *   const storage = new S3Storage({ bucket: 'media', prefix: 'aiprod', endpoint: 'http://minio:9000',
 *     region: 'us-east-1', credentials: { accessKeyId, secretAccessKey }, forcePathStyle: true });
 *   await storage.put('productions/p1/video.mp4', '/tmp/video.mp4', 'video/mp4');
 *   const url = await storage.signedUrl('productions/p1/video.mp4', 3600, 'video.mp4');
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat as statFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AppError, classifyFailure } from '../contract/errors.js';
import type { Storage, StoredObject } from './storage.port.js';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** The token of temporary credentials (STS, an assumed role). */
  sessionToken?: string;
}

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
  /** Static credentials; undefined uses the SDK's default chain (environment, shared files, instance or task role). */
  credentials?: S3Credentials;
  /** `endpoint/bucket/key` (MinIO and most self-hosted stores) rather than `bucket.endpoint/key`. */
  forcePathStyle: boolean;
  /** A request that sends or receives nothing for this long fails (and is retried). Default 30 s. */
  timeoutMs?: number;
  /** Attempts per request, the first included, before a failure is reported. Default 3. */
  maxAttempts?: number;
  /** Files larger than this are uploaded in parts. Default 64 MiB. */
  multipartThresholdBytes?: number;
  /** Size of one part. Default 16 MiB; S3 wants at least 5 MiB and at most 10 000 parts. */
  partSizeBytes?: number;
}

const MiB = 1024 * 1024;
const MAX_PARTS = 10_000;
/** Codes whose fix is on the operator's side; the hint goes into the message. */
const HINTS: Record<string, string> = {
  InvalidAccessKeyId: 'check S3_ACCESS_KEY_ID',
  SignatureDoesNotMatch: 'check S3_SECRET_ACCESS_KEY (and S3_REGION)',
  InvalidToken: 'check S3_SESSION_TOKEN, or the role that issues temporary credentials',
  ExpiredToken: 'the temporary credentials expired; check the role that issues them',
  AccessDenied: "check the key's permissions on the bucket",
  NoSuchBucket: 'check the bucket in STORAGE_URL',
  RequestTimeTooSkewed: "check this machine's clock",
  AuthorizationHeaderMalformed: 'check S3_REGION',
};
const RETRYABLE_CODES = new Set(['SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable', 'TimeoutError']);

/** What the SDK's errors carry: the S3 code as `name`, the HTTP status in `$metadata`. */
interface SdkError extends Error {
  code?: string;
  $metadata?: { httpStatusCode?: number };
  /** The command that failed, set by the middleware below (lib-storage runs several). */
  $aiprodCommand?: string;
}

export class S3Storage implements Storage {
  readonly kind = 's3' as const;
  readonly bucket: string;
  private readonly prefix: string;
  private readonly origin: string;
  private readonly timeoutMs: number;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  /** Every call but GetObject: a socket silent for `timeoutMs` fails the attempt. */
  private readonly client: S3Client;
  /** GetObject, whose body the caller reads at its own pace: its stall watchdog is ours (see read). */
  private readonly readClient: S3Client;
  /** Presigns against S3_PUBLIC_ENDPOINT when set (no request is sent through it). */
  private readonly presignClient: S3Client;

  constructor(options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    for (const [name, value] of [['endpoint', options.endpoint], ['publicEndpoint', options.publicEndpoint]] as const) {
      if (value !== undefined && !isOrigin(value)) throw new Error(`S3 ${name} must be http(s)://host[:port] without a path: ${value}`);
    }
    this.origin = new URL(options.endpoint ?? `https://s3.${options.region}.amazonaws.com`).origin;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.multipartThreshold = options.multipartThresholdBytes ?? 64 * MiB;
    this.partSize = Math.max(options.partSizeBytes ?? 16 * MiB, 5 * MiB);
    const base: S3ClientConfig = {
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      maxAttempts: options.maxAttempts ?? 3,
      retryMode: 'standard',
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    // The SDK builds its Node HTTP handler from these options.
    const handler = (socketTimeout: number, requestTimeout?: number): S3ClientConfig['requestHandler'] => ({
      connectionTimeout: this.timeoutMs,
      socketTimeout,
      requestTimeout,
      throwOnRequestTimeout: true,
    });
    this.client = tagged(new S3Client({ ...base, requestHandler: handler(this.timeoutMs) }));
    this.readClient = tagged(new S3Client({ ...base, requestHandler: handler(0, this.timeoutMs) }));
    this.presignClient = options.publicEndpoint ? new S3Client({ ...base, endpoint: options.publicEndpoint }) : this.client;
  }

  async put(key: string, fromPath: string, contentType: string): Promise<{ bytes: number }> {
    const full = this.fullKey(key);
    const local = (error: unknown): never => {
      throw localFailure('PutObject', full, error as SdkError);
    };
    const { size } = await statFile(fromPath).catch(local);
    if (size > this.multipartThreshold) return this.putInParts(full, fromPath, size, contentType);
    // A buffered body is one the SDK can send again on a retry; it cannot rewind a stream.
    const body = await readFile(fromPath).catch(local);
    await this.send('PutObject', full, () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: full, Body: body, ContentType: contentType })));
    return { bytes: body.length };
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    const full = this.fullKey(key);
    try {
      const head = await this.send('HeadObject', full, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: full })));
      return { key, bytes: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return undefined;
      throw error;
    }
  }

  async read(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const full = this.fullKey(key);
    const Range = range ? `bytes=${range.start}-${range.end}` : undefined;
    const got = await this.send('GetObject', full, () => this.readClient.send(new GetObjectCommand({ Bucket: this.bucket, Key: full, Range })));
    const body = got.Body as Readable | undefined;
    if (!body) throw this.failure('GetObject', full, 200, 'MalformedResponse', 'an answer without a body');
    this.watchStalls(body);
    return body;
  }

  /** Signed locally (no request); the download is named `filename` through response-content-disposition. */
  async signedUrl(key: string, ttlSec: number, filename: string): Promise<string> {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key), ResponseContentDisposition: disposition(filename) });
    return getSignedUrl(this.presignClient, command, { expiresIn: ttlSec });
  }

  /** Like a directory listing: `list('productions/p1')` does not include `productions/p10/…`. */
  async *list(prefix: string): AsyncIterable<StoredObject> {
    const dir = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    const full = this.prefix ? `${this.prefix}/${dir}` : dir;
    let token: string | undefined;
    do {
      const input = { Bucket: this.bucket, Prefix: full, ContinuationToken: token };
      const page = await this.send('ListObjectsV2', full, () => this.client.send(new ListObjectsV2Command(input)));
      for (const entry of page.Contents ?? []) {
        const stored = entry.Key ?? '';
        yield { key: this.prefix ? stored.slice(this.prefix.length + 1) : stored, bytes: entry.Size ?? 0, modifiedAt: entry.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && !token) throw this.failure('ListObjectsV2', full, 200, 'MalformedResponse', 'a truncated page without NextContinuationToken');
    } while (token);
  }

  async delete(key: string): Promise<void> {
    const full = this.fullKey(key);
    await this.send('DeleteObject', full, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: full })));
  }

  /** Writes and deletes a probe object: proves the endpoint answers, the credentials work and the bucket is writable. */
  async check(): Promise<void> {
    const probe = this.fullKey(`.aiprod-ready/${randomUUID()}`);
    await this.send('PutObject', probe, () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: probe, Body: 'ok', ContentType: 'text/plain' })));
    await this.send('DeleteObject', probe, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: probe })));
  }

  private async putInParts(key: string, path: string, size: number, contentType: string): Promise<{ bytes: number }> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: createReadStream(path), ContentType: contentType, ContentLength: size },
      partSize: Math.max(this.partSize, Math.ceil(size / MAX_PARTS)),
      queueSize: 4,
      // On failure the upload is aborted, so no parts are left to bill; a bucket lifecycle rule
      // for incomplete multipart uploads covers a process killed mid-upload.
      leavePartsOnError: false,
    });
    await this.send('Upload', key, () => upload.done());
    return { bytes: size };
  }

  /**
   * The body's socket may go quiet for two reasons: the store stopped sending (a failure), or the
   * caller stopped reading and the buffers are full (not one). Only the first fails the stream.
   * A full buffer is the only sign of the second: a reader that iterates (`for await`) leaves the
   * stream "paused" between reads, so isPaused() says nothing about who is waiting for whom.
   */
  private watchStalls(body: Readable): void {
    const socket = (body as Readable & { socket?: Socket | null }).socket;
    if (!socket) return;
    const onTimeout = (): void => {
      const incoming = body as Readable & { complete?: boolean };
      if (incoming.complete || body.readableLength >= body.readableHighWaterMark) socket.setTimeout(this.timeoutMs);
      else body.destroy(new Error(`S3 stopped sending for ${this.timeoutMs / 1000} s`));
    };
    socket.setTimeout(this.timeoutMs);
    socket.on('timeout', onTimeout);
    body.once('close', () => {
      socket.removeListener('timeout', onTimeout);
      socket.setTimeout(0);
    });
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

  /** Runs one SDK call (retried inside the SDK) and turns its final failure into an AppError naming the action and key. */
  private async send<T>(action: string, key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (thrown) {
      const error = thrown as SdkError;
      const status = error.$metadata?.httpStatusCode;
      const failed = error.$aiprodCommand ?? action;
      if (error.name === 'CredentialsProviderError') {
        // Nothing was sent: the default chain (no key configured) found no source.
        throw new AppError('internal', `S3 ${failed} "${key}" in bucket "${this.bucket}" failed: no credentials found: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or give the process AWS credentials (AWS_* variables, a profile, a web identity, an ECS task or EC2 instance role) — ${error.message}`, {
          status: 503,
          retryable: true,
          cause: error,
        });
      }
      if (status === undefined && isLocalFileError(error)) throw localFailure(failed, key, error);
      if (status === undefined || error.name === 'TimeoutError') throw this.unreachable(failed, key, error);
      throw this.failure(failed, key, status, error.name || error.code || 'UnexpectedStatus', error.message === 'UnknownError' ? '' : error.message, error);
    }
  }

  private failure(action: string, key: string, status: number, code: string, message: string, cause?: unknown): AppError {
    const hint = HINTS[code] ? ` (${HINTS[code]})` : '';
    const detail = message && message !== code ? `: ${message}` : '';
    const text = `S3 ${action} "${key}" in bucket "${this.bucket}" failed: ${code} (HTTP ${status})${detail}${hint}`;
    if (code === 'NoSuchKey' || (status === 404 && code === 'NotFound')) return new AppError('not_found', text, { cause });
    return new AppError('internal', text, { status: 502, retryable: status >= 500 || status === 429 || RETRYABLE_CODES.has(code), cause });
  }

  private unreachable(action: string, key: string, error: SdkError): AppError {
    const reason = error.name === 'TimeoutError' ? `timed out after ${this.timeoutMs / 1000} s without data` : error.message;
    return new AppError('internal', `S3 ${action} "${key}" in bucket "${this.bucket}" failed: connection to ${this.origin}: ${reason}`, {
      status: 503,
      retryable: true,
      cause: error,
    });
  }
}

/**
 * Errno codes of the local file system (the file an upload streams from), never of a connection:
 * such a failure is no reason to blame, or retry against, the store.
 */
const LOCAL_FILE_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EIO', 'EBADF', 'ELOOP', 'ENAMETOOLONG', 'EROFS', 'ESTALE', 'ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE']);

function isLocalFileError(error: SdkError): boolean {
  return typeof error.code === 'string' && LOCAL_FILE_CODES.has(error.code);
}

/** Out of disk, quota or file descriptors: resource_exhausted (retried later); any other: not retryable. The message names no server path. */
function localFailure(action: string, key: string, error: SdkError): AppError {
  const exhausted = classifyFailure(error);
  if (exhausted.code === 'resource_exhausted') return exhausted;
  return new AppError('internal', `S3 ${action} "${key}" failed: the local file could not be read (${error.code})`, { retryable: false, cause: error });
}

/** Marks each error with the command that raised it: one lib-storage upload runs four kinds. */
function tagged(client: S3Client): S3Client {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (error && typeof error === 'object') (error as SdkError).$aiprodCommand ??= context.commandName?.replace(/Command$/, '');
        throw error;
      }
    },
    { step: 'initialize', name: 'aiprodCommandName' },
  );
  return client;
}

/** `inline`, like the API's own download route: a browser plays the video and saves it under its name. */
function disposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${rfc3986(filename)}`;
}

/** encodeURIComponent plus the characters RFC 3986 reserves that it leaves alone. */
function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && !url.search && !url.username;
  } catch {
    return false;
  }
}
