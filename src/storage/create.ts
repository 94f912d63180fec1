/** Chooses the storage adapter from STORAGE_URL: empty → AIPROD_DATA_DIR/artifacts, file:///path, or s3://bucket/prefix. */
import { join } from 'node:path';
import type { Env } from '../config/env.js';
import { AppError } from '../contract/errors.js';
import { LocalStorage } from './local.adapter.js';
import type { Storage } from './storage.port.js';

export function createStorage(env: Env): Storage {
  const url = env.STORAGE_URL;
  if (!url) return new LocalStorage(join(env.AIPROD_DATA_DIR, 'artifacts'));
  if (url.startsWith('file://')) return new LocalStorage(new URL(url).pathname);
  throw new AppError('internal', 'STORAGE_URL=s3://… is not available in this build yet; use a file:// URL or leave it empty');
}
