import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { envSchema, loadEnv } from './env.js';

test('.env.example lists exactly the variables of the schema, and its values parse', () => {
  const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  const entries = Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^[A-Z0-9_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const documented = Object.keys(entries).sort();
  const schema = Object.keys(envSchema.shape).filter((k) => k !== 'PATH').sort();
  assert.deepEqual(documented, schema);
  assert.doesNotThrow(() => loadEnv(entries));
});

test('a bad value stops the start and names the variable', () => {
  assert.throws(() => loadEnv({ FFMPEG_TIMEOUT_SEC: 'soon' }), /FFMPEG_TIMEOUT_SEC/);
  assert.throws(() => loadEnv({ AIPROD_X264_PRESET: 'placebo' }), /AIPROD_X264_PRESET/);
  assert.equal(loadEnv({}).AIPROD_CACHE_DIR, '.aiprod-cache');
  assert.equal(loadEnv({ FFMPEG_PATH: '' }).FFMPEG_PATH, undefined);
  assert.equal(loadEnv({ WORKER_CONCURRENCY: '' }).WORKER_CONCURRENCY, undefined);
  assert.equal(loadEnv({ WORKER_CONCURRENCY: '3' }).WORKER_CONCURRENCY, 3);
  assert.throws(() => loadEnv({ WORKER_CONCURRENCY: 'many' }), /WORKER_CONCURRENCY/);
  assert.throws(() => loadEnv({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL: use a postgres:\/\/ or postgresql:\/\/ URL/);
  assert.throws(() => loadEnv({ STORAGE_URL: 'ftp://x' }), /STORAGE_URL/);
  assert.deepEqual(loadEnv({ TIER_PRICES_PER_MINUTE_USD: 'pro=1.5, enterprise=1.2' }).TIER_PRICES_PER_MINUTE_USD, { pro: 1.5, enterprise: 1.2 });
  assert.deepEqual(loadEnv({}).TIER_PRICES_PER_MINUTE_USD, {});
  assert.throws(() => loadEnv({ TIER_PRICES_PER_MINUTE_USD: 'gold=3' }), /TIER_PRICES_PER_MINUTE_USD: "gold=3" is not tier=price/);
  assert.equal(loadEnv({ S3_FORCE_PATH_STYLE: 'false' }).S3_FORCE_PATH_STYLE, false);
});

test('HEARTBEAT_SEC must be under STALL_TIMEOUT_SEC: otherwise the start stops naming both', () => {
  assert.throws(() => loadEnv({ HEARTBEAT_SEC: '60', STALL_TIMEOUT_SEC: '60' }), /HEARTBEAT_SEC \(60\).*STALL_TIMEOUT_SEC \(60\)/);
  assert.throws(() => loadEnv({ HEARTBEAT_SEC: '90' }), /HEARTBEAT_SEC.*STALL_TIMEOUT_SEC/);
  assert.equal(loadEnv({ HEARTBEAT_SEC: '1', STALL_TIMEOUT_SEC: '5' }).HEARTBEAT_SEC, 1);
});
