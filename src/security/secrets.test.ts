import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openPglite, type Database } from '../db/database.js';
import { dataKeys } from '../db/schema.js';
import { generateMasterKey, parseMasterKey, rotateMasterKey, SecretBox } from './secrets.js';

let dir: string;
let database: Database;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aiprod-secrets-'));
  database = await openPglite(join(dir, 'db'));
  await database.migrate();
});
after(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

const oldMaster = parseMasterKey(generateMasterKey());
const newMaster = parseMasterKey(generateMasterKey());
const plaintext = 'whsec_0123456789abcdefghijklmnopqrstuv';

test('a sealed secret is not its plaintext, opens only in its own place, and detects tampering', async () => {
  const box = await SecretBox.open(database.db, { current: oldMaster });
  const stored = box.seal(plaintext, 'webhook:wh_1');
  assert.match(stored, /^enc:v1:dk_[0-9a-f]{16}:/);
  assert.ok(!stored.includes(plaintext));
  assert.ok(!Buffer.from(stored).includes(Buffer.from(plaintext.slice(6, 20))));
  assert.notEqual(box.seal(plaintext, 'webhook:wh_1'), stored, 'a fresh IV each time');
  assert.equal(box.open(stored, 'webhook:wh_1'), plaintext);
  assert.throws(() => box.open(stored, 'webhook:wh_2'), /altered or belongs elsewhere/);
  const parts = stored.split(':');
  const ct = Buffer.from(parts[4] as string, 'base64url');
  ct[0] = (ct[0] as number) ^ 1;
  parts[4] = ct.toString('base64url');
  assert.throws(() => box.open(parts.join(':'), 'webhook:wh_1'), /altered/);
  // The data key itself is stored wrapped, never in the clear.
  const [row] = await database.db.select().from(dataKeys);
  assert.equal(row?.masterKeyId, oldMaster.id);
  assert.ok(!(row?.wrappedKey ?? '').includes(oldMaster.key.toString('base64')));
});

test('rotating the master key re-wraps the data keys; a running box keeps working, a new one needs the new key', async () => {
  const running = await SecretBox.open(database.db, { current: oldMaster });
  const stored = running.seal(plaintext, 'tenant:acme');
  assert.equal(await rotateMasterKey(database.db, oldMaster, newMaster), 1);
  assert.equal(await rotateMasterKey(database.db, oldMaster, newMaster), 0, 'idempotent');
  assert.equal(running.open(stored, 'tenant:acme'), plaintext, 'the running process is unaffected');
  const restarted = await SecretBox.open(database.db, { current: newMaster });
  assert.equal(restarted.open(stored, 'tenant:acme'), plaintext);
  await assert.rejects(SecretBox.open(database.db, { current: oldMaster }), /wrapped with master key/);
  await assert.rejects(rotateMasterKey(database.db, parseMasterKey(generateMasterKey()), oldMaster), /neither the old/);
});

test('master keys are 32 bytes of base64 or hex', () => {
  assert.throws(() => parseMasterKey('too short'), /AIPROD_MASTER_KEY: use 32 random bytes/);
  assert.equal(parseMasterKey('ab'.repeat(32)).key.length, 32);
  assert.equal(parseMasterKey(generateMasterKey()).key.length, 32);
});
