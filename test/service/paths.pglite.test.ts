/**
 * What a tenant sees of the server's files (PGlite, a real worker): a render that fails on an
 * asset names it relative to the assets directory, never by its absolute path on the server.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isFinal } from '../../src/contract/production.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
before(async () => {
  svc = await startTestService({ env: { RENDER_ATTEMPTS: '1' } });
});
after(async () => {
  await svc?.stop();
});

test('an unreadable asset is named relative to the assets directory in the production and its events', async () => {
  const assets = join(svc.dataDir, 'assets');
  mkdirSync(join(assets, 'img'), { recursive: true });
  writeFileSync(join(assets, 'img', 'broken.png'), 'this is not an image at all');
  const created = await svc.app!.inject({
    method: 'POST', url: '/v1/productions', headers: svc.auth,
    payload: { scenes: [{ narration: 'A broken picture.', durationSec: 2, visual: { type: 'image', src: 'img/broken.png' } }], resolution: '480p', fps: 24 },
  });
  assert.equal(created.statusCode, 202, created.body);
  const id = created.json().id as string;
  const done = await svc.waitFor(id, (p) => isFinal(p.status));
  assert.equal(done.status, 'failed');
  assert.equal(done.error?.code, 'asset_unreadable');
  const seen = (await svc.app!.inject({ url: `/v1/productions/${id}`, headers: svc.auth })).json();
  assert.match(seen.error.message, /img\/broken\.png/);
  assert.ok(!seen.error.message.includes(svc.dataDir), seen.error.message);
  assert.doesNotMatch(seen.error.message, /(^|\s)\/\w/, 'no absolute path at all');
});
