/** Chooses the storage adapter from STORAGE_URL: empty → AIPROD_DATA_DIR/artifacts, file:///path, or s3://bucket/prefix. */
import { join } from 'node:path';
import type { Env } from '../config/env.js';
import { AppError } from '../contract/errors.js';
import { LocalStorage } from './local.adapter.js';
import { isOrigin, S3Storage } from './s3.adapter.js';
import type { Storage } from './storage.port.js';

export function createStorage(env: Env): Storage {
  const url = env.STORAGE_URL;
  if (!url) return new LocalStorage(join(env.AIPROD_DATA_DIR, 'artifacts'));
  if (url.startsWith('file://')) return new LocalStorage(new URL(url).pathname);
  return createS3Storage(url, env);
}

/** s3://bucket/some/prefix with the S3_* variables; every missing or bad one is named at once. */
function createS3Storage(url: string, env: Env): S3Storage {
  const problems: string[] = [];
  const match = /^s3:\/\/([A-Za-z0-9._-]+)(?:\/(.*))?$/.exec(url);
  if (!match) problems.push(`STORAGE_URL: use s3://bucket or s3://bucket/prefix (a bucket name of letters, digits, ".", "-", "_"), not ${url}`);
  const keyId = env.S3_ACCESS_KEY_ID;
  const secret = env.S3_SECRET_ACCESS_KEY;
  if (keyId && !secret) problems.push('S3_SECRET_ACCESS_KEY: required when S3_ACCESS_KEY_ID is set; set the secret key of the bucket, or neither to use the default credential chain');
  if (secret && !keyId) problems.push('S3_ACCESS_KEY_ID: required when S3_SECRET_ACCESS_KEY is set; set the access key of the bucket, or neither to use the default credential chain');
  if (env.S3_SESSION_TOKEN && !(keyId && secret)) problems.push('S3_SESSION_TOKEN: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY with it (the temporary credentials it belongs to)');
  if (env.S3_ENDPOINT && !isOrigin(env.S3_ENDPOINT)) problems.push(`S3_ENDPOINT: use http(s)://host[:port] without a path, not ${env.S3_ENDPOINT}`);
  if (env.S3_PUBLIC_ENDPOINT && !isOrigin(env.S3_PUBLIC_ENDPOINT)) problems.push(`S3_PUBLIC_ENDPOINT: use http(s)://host[:port] without a path, not ${env.S3_PUBLIC_ENDPOINT}`);
  if (problems.length > 0 || !match) {
    throw new AppError('internal', `invalid configuration: ${problems.join('; ')}`);
  }
  return new S3Storage({
    bucket: match[1] ?? '',
    prefix: match[2] ?? '',
    endpoint: env.S3_ENDPOINT,
    publicEndpoint: env.S3_PUBLIC_ENDPOINT,
    region: env.S3_REGION,
    // No key configured: the SDK's default chain (AWS_* variables, shared files, web identity, ECS/EC2 roles).
    credentials: keyId && secret ? { accessKeyId: keyId, secretAccessKey: secret, sessionToken: env.S3_SESSION_TOKEN } : undefined,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    maxAttempts: env.S3_MAX_ATTEMPTS,
  });
}
