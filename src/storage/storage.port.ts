/**
 * Where delivered outputs live: a local directory by default, S3-compatible object storage when
 * `STORAGE_URL=s3://…`. Keys are `/`-separated (`productions/<id>/video.mp4`).
 *
 * @example
 *   await storage.put('productions/p1/video.mp4', '/tmp/render/video.mp4');
 *   const stream = storage.read('productions/p1/video.mp4', { start: 0, end: 1023 });
 */
import type { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  bytes: number;
  modifiedAt: Date;
}

export interface Storage {
  readonly kind: 'local' | 's3';
  /** Copies a local file in under `key`, replacing what was there. */
  put(key: string, fromPath: string, contentType: string): Promise<{ bytes: number }>;
  stat(key: string): Promise<StoredObject | undefined>;
  /** The object's bytes, or the inclusive byte range asked for. */
  read(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /** A time-limited URL a client can download from directly, when the store has one (S3). */
  signedUrl?(key: string, ttlSec: number, filename: string): Promise<string>;
  /** Every object under `prefix` (recursively). */
  list(prefix: string): AsyncIterable<StoredObject>;
  delete(key: string): Promise<void>;
  /** Throws when the store cannot be written (for /ready). */
  check(): Promise<void>;
}
