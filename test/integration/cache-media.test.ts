/**
 * Media linked by URL is cached by its content: every attempt downloads to a new random path, and a
 * retry or re-render of the same brief still re-uses every unit. The downloads of an earlier attempt
 * are gone by then (as a worker's work directory is), so nothing may point at them.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadEnv } from '../../src/config/env.js';
import { parseBrief } from '../../src/contract/resolve.js';
import { resolveBinaries } from '../../src/media/binaries.js';
import { runProcess } from '../../src/media/ffmpeg.js';
import { gradientPng } from '../../src/media/png.js';
import { localizeMedia, type MediaFetchConfig } from '../../src/pipeline/media-urls.js';
import { render, tempDir } from './harness.js';

let server: Server;
let base = '';
const served: string[] = [];
const config: MediaFetchConfig = { maxBytes: 50e6, timeoutMs: 20_000, allowHosts: [], allowCidrs: ['127.0.0.1/32'] };

before(async () => {
  const env = loadEnv(process.env);
  const clipPath = join(tempDir('clip'), 'clip.mp4');
  await runProcess(resolveBinaries(env, env.PATH).ffmpeg, [
    '-hide_banner', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=24:duration=3', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', clipPath,
  ]);
  const files: Record<string, { type: string; body: Buffer }> = {
    '/cover.png': { type: 'image/png', body: gradientPng({ width: 64, height: 36, colors: ['#1e3a8a', '#0ea5e9'], angleDeg: 0, vignette: 0 }) },
    '/logo.png': { type: 'image/png', body: gradientPng({ width: 32, height: 32, colors: ['#f97316', '#facc15'], angleDeg: 45, vignette: 0 }) },
    '/clip.mp4': { type: 'video/mp4', body: readFileSync(clipPath) },
  };
  server = createServer((req, res) => {
    served.push(req.url ?? '');
    const file = files[req.url ?? ''];
    if (file) res.writeHead(200, { 'content-type': file.type }).end(file.body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server?.close());

const brief = (second: string) => ({
  scenes: [
    { narration: 'A picture from the web.', durationSec: 2, visual: { type: 'image', src: `${base}/cover.png` } },
    { narration: second, durationSec: 2, visual: { type: 'video', src: `${base}/clip.mp4` } },
  ],
  brand: { logo: `${base}/logo.png` },
  resolution: '480p',
  fps: 24,
  seed: 3,
});

/** One attempt as a worker makes it: downloads into a fresh directory, renders, then clears the directory. */
async function attempt(doc: ReturnType<typeof brief>, cacheDir: string) {
  const media = tempDir('media');
  const local = await localizeMedia(parseBrief(doc), media, config);
  try {
    return await render(local, { cacheDir });
  } finally {
    rmSync(media, { recursive: true, force: true });
  }
}

test('a brief with media linked by URL, rendered again, re-uses every unit', async () => {
  const cacheDir = tempDir('cache');
  const first = await attempt(brief('A moving picture.'), cacheDir);
  assert.equal(first.result.state.qa?.passed, true);
  assert.ok(served.includes('/clip.mp4') && served.includes('/logo.png'));

  const again = await attempt(brief('A moving picture.'), cacheDir);
  for (const stage of ['plan', 'narrate', 'score', 'foley', 'visualize', 'mix', 'compose'] as const) {
    const c = again.cached[stage];
    assert.ok(c && c.total > 0 && c.cached === c.total, `${stage}: ${JSON.stringify(c)}`);
  }
  assert.equal(again.result.state.qa?.passed, true);

  // A changed line redoes the segments that show the video scene: its cached look must name this
  // attempt's download, the earlier one being gone.
  const edited = await attempt(brief('The moving picture, told again.'), cacheDir);
  assert.deepEqual(edited.cached.plan, { cached: 0, total: 1 });
  const vis = edited.cached.visualize;
  assert.ok(vis && vis.cached >= 2 && vis.cached < vis.total, JSON.stringify(vis));
  assert.equal(edited.result.state.qa?.passed, true);
});
