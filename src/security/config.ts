/**
 * Security settings from the environment: the master key for secrets at rest (made on first start
 * for the embedded database, required with PostgreSQL) and the ID-token verifier (JWT_*).
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from '../config/env.js';
import { AppError } from '../contract/errors.js';
import { firebaseVerifierOptions, JwksVerifier, type ClaimMapping } from './jwt.js';
import { generateMasterKey, parseMasterKey, type MasterKey } from './secrets.js';

export function loadMasterKeys(env: Env, dataDir: string): { current: MasterKey; previous?: MasterKey; createdFile?: string } {
  const previous = env.AIPROD_MASTER_KEY_PREVIOUS ? parseMasterKey(env.AIPROD_MASTER_KEY_PREVIOUS, 'AIPROD_MASTER_KEY_PREVIOUS') : undefined;
  if (env.AIPROD_MASTER_KEY) return { current: parseMasterKey(env.AIPROD_MASTER_KEY), previous };
  if (env.DATABASE_URL) {
    throw new AppError('internal', 'invalid configuration: AIPROD_MASTER_KEY: required with DATABASE_URL (every process must share it); make one with `openssl rand -base64 32`');
  }
  // The embedded database lives in dataDir; its master key lives beside it, readable by this user only.
  const file = join(dataDir, 'master.key');
  if (existsSync(file)) return { current: parseMasterKey(readFileSync(file, 'utf8'), file), previous };
  writeFileSync(file, `${generateMasterKey()}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { current: parseMasterKey(readFileSync(file, 'utf8'), file), previous, createdFile: file };
}

export function createJwtAuth(env: Env, fetchImpl?: typeof fetch): { verifier: JwksVerifier; mapping: ClaimMapping; allowOperator: boolean } | undefined {
  const mapping: ClaimMapping = { tenantClaim: env.JWT_TENANT_CLAIM, roleClaim: env.JWT_ROLE_CLAIM, defaultTenant: env.JWT_DEFAULT_TENANT };
  const allowOperator = env.JWT_ALLOW_OPERATOR;
  if (env.JWT_FIREBASE_PROJECT) {
    return { verifier: new JwksVerifier({ ...firebaseVerifierOptions(env.JWT_FIREBASE_PROJECT), fetch: fetchImpl }), mapping, allowOperator };
  }
  const given = { JWT_JWKS_URL: env.JWT_JWKS_URL, JWT_ISSUER: env.JWT_ISSUER, JWT_AUDIENCE: env.JWT_AUDIENCE };
  const missing = Object.entries(given).filter(([, v]) => !v).map(([k]) => k);
  if (missing.length === 3) return undefined;
  if (missing.length > 0) {
    throw new AppError('internal', `invalid configuration: ${missing.map((k) => `${k}: required when any JWT_ setting is given`).join('; ')}`);
  }
  return { verifier: new JwksVerifier({ jwksUrl: given.JWT_JWKS_URL!, issuer: given.JWT_ISSUER!, audience: given.JWT_AUDIENCE!, fetch: fetchImpl }), mapping, allowOperator };
}
