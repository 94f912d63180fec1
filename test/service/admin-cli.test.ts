/**
 * `aiprod tenants|keys|secrets` as an operator runs them (child processes on one embedded
 * database): create a tenant and a key, see it listed, set the tier, revoke it, refuse bad input,
 * and rotate the master key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { killAll, startCli, tempDir } from './processes.js';

after(async () => {
  await killAll();
});

async function aiprod(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; stdout: string }> {
  const child = startCli(args, env);
  const exit = await child.exitWithin(60_000);
  return { code: exit?.code ?? null, out: child.output(), stdout: child.stdout() };
}

test('tenants and keys from the command line, every change audited; rotate-master re-wraps the data keys', async () => {
  const dataDir = tempDir('admin-cli');
  const env = { AIPROD_DATA_DIR: dataDir, DATABASE_URL: '', AIPROD_MASTER_KEY: '' };
  const created = await aiprod(['tenants', 'create', '--name', 'Acme', '--id', 'acme', '--tier', 'pro', '--budget', '25'], env);
  assert.equal(created.code, 0, created.out);
  const key = await aiprod(['keys', 'create', '--tenant', 'acme', '--name', 'ci', '--scopes', 'productions:read', '--expires', '30d', '--json'], env);
  assert.equal(key.code, 0, key.out);
  const made = JSON.parse(key.stdout) as { key: string; apiKey: { id: string; scopes: string[] } };
  assert.match(made.key, /^aiprod_[a-z0-9]{12}_/);
  assert.deepEqual(made.apiKey.scopes, ['productions:read']);

  const bad = await aiprod(['keys', 'create', '--tenant', 'acme', '--name', 'x', '--scopes', 'everything'], env);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /error \[invalid_request\]: unknown scope\(s\): everything/);
  const tier = await aiprod(['tenants', 'set-tier', 'acme', 'enterprise'], env);
  assert.match(tier.out, /acme is now enterprise/);
  const revoked = await aiprod(['keys', 'revoke', made.apiKey.id], env);
  assert.equal(revoked.code, 0, revoked.out);
  const list = await aiprod(['keys', 'list', '--tenant', 'acme', '--json'], env);
  const keys = JSON.parse(list.stdout) as { id: string; revokedAt: string | null }[];
  assert.ok(keys.find((k) => k.id === made.apiKey.id)?.revokedAt);

  // The embedded database made its master key on first use; rotate to a new one.
  const oldKey = readFileSync(join(dataDir, 'master.key'), 'utf8').trim();
  const newKey = randomBytes(32).toString('base64');
  const rotated = await aiprod(['secrets', 'rotate-master'], { ...env, AIPROD_MASTER_KEY: newKey, AIPROD_MASTER_KEY_PREVIOUS: oldKey });
  assert.equal(rotated.code, 0, rotated.out);
  assert.match(rotated.out, /re-wrapped 1 data key/);
  const missing = await aiprod(['secrets', 'rotate-master'], { ...env, AIPROD_MASTER_KEY: newKey });
  assert.equal(missing.code, 1);
  assert.match(missing.out, /AIPROD_MASTER_KEY_PREVIOUS/);
});
