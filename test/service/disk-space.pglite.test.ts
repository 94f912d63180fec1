/**
 * New work is refused while the data directory (or the cache) is short of space: a create answers
 * 503 insufficient_storage naming the setting, and /ready reports the disk. The threshold here
 * (DISK_MIN_FREE_BYTES) is set far above the machine's real free space.
 */
import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, test } from 'node:test';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
const free = (): number => {
  const s = statfsSync(tmpdir());
  return s.bavail * s.bsize;
};

before(async () => {
  svc = await startTestService({ role: 'api', env: { DISK_MIN_FREE_BYTES: String(free() * 4 + 1024 ** 4) } });
});
after(async () => {
  await svc?.stop();
});

const brief = { scenes: [{ narration: 'A short one.', durationSec: 2, visual: { type: 'color', color: '#1e3a8a' } }], resolution: '480p' };

test('a create is 503 insufficient_storage while the disk is past the threshold, and nothing is stored', async () => {
  const res = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: brief });
  assert.equal(res.statusCode, 503, res.body);
  const { error } = res.json();
  assert.equal(error.code, 'insufficient_storage');
  assert.match(error.message, /DISK_MIN_FREE_BYTES/);
  assert.match(error.message, /AIPROD_DATA_DIR/);
  assert.doesNotMatch(error.message, new RegExp(svc.dataDir), 'no server path');
  const batch = await svc.app!.inject({ method: 'POST', url: '/v1/productions/batch', headers: svc.auth, payload: { productions: [brief] } });
  assert.equal(batch.statusCode, 503, batch.body);
  const list = await svc.app!.inject({ url: '/v1/productions', headers: svc.auth });
  assert.deepEqual(list.json().data, []);
});

test('/ready reports the disk', async () => {
  const res = await svc.app!.inject({ url: '/ready' });
  assert.equal(res.statusCode, 503, res.body);
  const body = res.json();
  assert.equal(body.checks.disk.ok, false);
  assert.equal(body.checks.database.ok, true);
});
