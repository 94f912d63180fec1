/**
 * Media linked by URL in API briefs: refused at submission when the URL itself points inside the
 * network; fetched through the SSRF-safe downloader at render time (a local server is reachable
 * only through the explicit allow-list); a page served as an image fails the production with
 * media_type_refused. A tenant's branding is applied to its productions.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gradientPng, writeGradientPng } from '../../src/media/png.js';
import { startTestService, type TestService } from './harness.js';

let server: Server;
let base = '';
const served: string[] = [];
let svc: TestService;
before(async () => {
  const png = gradientPng({ width: 64, height: 36, colors: ['#1e3a8a', '#0ea5e9'], angleDeg: 0, vignette: 0 });
  server = createServer((req, res) => {
    served.push(req.url ?? '');
    if (req.url === '/cover.png') res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    else res.writeHead(200, { 'content-type': 'image/png' }).end('<html><body>not an image</body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  svc = await startTestService({ env: { MEDIA_FETCH_ALLOW_CIDRS: '127.0.0.1/32' } });
});
after(async () => {
  await svc?.stop();
  server?.close();
});

const withImage = (src: string) => ({
  scenes: [{ narration: 'A picture from the web.', durationSec: 2, visual: { type: 'image', src } }],
  resolution: '480p',
  fps: 24,
});

test('internal URLs are refused at submission, naming the field', async () => {
  for (const src of ['http://10.0.0.1/a.png', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/a.png', 'http://localhost/a.png', 'file:///etc/passwd', 'http://user:pw@example.com/a.png']) {
    const res = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: withImage(src) });
    assert.ok(res.statusCode === 422, `${src}: ${res.statusCode} ${res.body}`);
    assert.ok(['unsafe_url', 'asset_not_found'].includes(res.json().error.code), res.body);
    assert.equal(res.json().error.details[0].path, 'scenes.0.visual.src');
  }
  const font = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: { ...withImage(`${base}/cover.png`), brand: { font: 'https://example.com/f.ttf' } } });
  assert.equal(font.statusCode, 422);
  assert.equal(font.json().error.details[0].path, 'brand.font');
});

test('an allow-listed URL is downloaded and rendered; a page posing as an image fails the production', async () => {
  const good = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: withImage(`${base}/cover.png`) });
  assert.equal(good.statusCode, 202, good.body);
  const done = await svc.waitFor(good.json().id, (p) => p.status === 'succeeded' || p.status === 'failed');
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  assert.ok(served.includes('/cover.png'));
  // The stored plan names what the user linked, not the render's temporary copy.
  const plan = (await svc.app!.inject({ url: `/v1/productions/${done.id}/storyboard`, headers: svc.auth })).json();
  assert.equal(plan.storyboard.scenes[0].visual.src, `${base}/cover.png`);

  const bad = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: withImage(`${base}/page.png`) });
  assert.equal(bad.statusCode, 202);
  const failed = await svc.waitFor(bad.json().id, (p) => p.status === 'succeeded' || p.status === 'failed');
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error?.code, 'media_type_refused');
  assert.match(failed.error?.message ?? '', /scenes\.0\.visual\.src/);
});

test("a tenant's branding goes under its productions' briefs: a logo it names is used (and must exist)", async () => {
  const operator = { actor: 'test' };
  await svc.access.createTenant(operator, { id: 'brandco', name: 'BrandCo', tier: 'pro', branding: { logo: 'brandco/logo.png', colors: { primary: '#ff6600' } } });
  const { key } = await svc.access.createKey(operator, { tenantId: 'brandco', name: 'w', scopes: ['productions:write', 'productions:read'] });
  const auth = { authorization: `Bearer ${key}` };
  const brief = { scenes: [{ narration: 'Branded.', title: 'BrandCo', durationSec: 2, visual: { type: 'color', color: '#111827' } }], resolution: '480p', fps: 24 };
  // The logo file is not there yet: the render fails on brand.logo, which shows the branding applied.
  const missing = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: auth, payload: brief });
  const seen = await pollTenant(missing.json().id, auth);
  assert.equal(seen.status, 'failed');
  assert.equal(seen.error?.code, 'asset_not_found');
  assert.match(seen.error?.message ?? '', /brand\.logo/);

  mkdirSync(join(svc.dataDir, 'assets', 'brandco'), { recursive: true });
  writeGradientPng(join(svc.dataDir, 'assets', 'brandco', 'logo.png'), { width: 48, height: 48, colors: ['#ff6600', '#ffffff'], angleDeg: 45, vignette: 0 });
  const ok = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: auth, payload: brief });
  const done = await pollTenant(ok.json().id, auth);
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
});

async function pollTenant(id: string, auth: Record<string, string>): Promise<{ status: string; error: { code: string; message: string } | null }> {
  for (let i = 0; i < 600; i++) {
    const p = (await svc.app!.inject({ url: `/v1/productions/${id}`, headers: auth })).json() as { status: string; error: { code: string; message: string } | null };
    if (p.status === 'succeeded' || p.status === 'failed') return p;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`production ${id} did not finish`);
}
