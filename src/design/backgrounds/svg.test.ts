import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Resvg } from '@resvg/resvg-js';
import { BACKGROUND_STYLES } from '../../contract/brief.js';
import { blend, contrastRatio } from '../contrast.js';
import { renderSvg } from '../illustrations/render.js';
import { GRAPHIC_CONTRAST, scenePalette } from './palette.js';
import { backgroundSvg, CLOUD_SCALE, CLOUDS_HREF, withClouds, withCloudsSync } from './svg.js';

const palette = scenePalette(['#1e3a8a', '#0ea5e9']);

test('a background is the same for the same seed and differs for another', () => {
  for (const style of BACKGROUND_STYLES) {
    const a = backgroundSvg({ width: 640, height: 360, style, palette, seed: 42 });
    const b = backgroundSvg({ width: 640, height: 360, style, palette, seed: 42 });
    const c = backgroundSvg({ width: 640, height: 360, style, palette, seed: 43 });
    assert.equal(a.svg, b.svg, style);
    assert.notEqual(a.svg, c.svg, style);
    assert.ok(a.svg.includes('#1e3a8a') && a.svg.includes('#0ea5e9'), `${style}: drawn in the scene's colours`);
  }
});

/** Mean absolute difference (0..255) between an image and itself moved `shift` pixels right: what a pan changes per frame. */
function panDifference(svg: string, width: number, shift: number): number {
  const image = new Resvg(svg, { fitTo: { mode: 'width', value: width }, font: { loadSystemFonts: false } }).render();
  const { pixels, height } = image;
  let sum = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = shift; x < width; x++) {
      for (let c = 0; c < 3; c++) sum += Math.abs(pixels[(y * width + x) * 4 + c]! - pixels[(y * width + x - shift) * 4 + c]!);
      count += 3;
    }
  }
  return sum / count;
}

test('every style has texture a moving crop changes, more than a bare gradient of the same colours', () => {
  const bare = '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180"><defs><linearGradient id="g"><stop offset="0" stop-color="#1e3a8a"/><stop offset="1" stop-color="#0ea5e9"/></linearGradient></defs><rect width="320" height="180" fill="url(#g)"/></svg>';
  const flat = panDifference(bare, 320, 1);
  for (const style of BACKGROUND_STYLES) {
    const svg = withCloudsSync(backgroundSvg({ width: 320, height: 180, style, palette, seed: 1 }), renderSvg);
    const { width, height } = renderSvg(svg, 320);
    assert.deepEqual([width, height], [320, 180]);
    const moved = panDifference(svg, 320, 1);
    assert.ok(moved > flat * 1.5, `${style}: ${moved.toFixed(3)} per pixel moved vs ${flat.toFixed(3)} for a bare gradient`);
  }
});

test('the clouds are drawn apart at a quarter of the size, with the same noise per pixel of the background, and inlined as a PNG', async () => {
  const art = backgroundSvg({ width: 640, height: 360, style: 'gradient', palette, seed: 42 });
  assert.deepEqual([art.clouds.width, art.clouds.height], [640 * CLOUD_SCALE, 360 * CLOUD_SCALE]);
  // The same features: 3 cycles across the long side, whatever the size drawn.
  assert.match(art.clouds.svg, /baseFrequency="0\.019"/);
  assert.ok(art.svg.includes(`<image href="${CLOUDS_HREF}" width="640" height="360" preserveAspectRatio="none"/>`));
  assert.ok(!art.svg.includes('feTurbulence'), 'no turbulence at full size');
  const inlined = await withClouds(art, (svg, width) => Promise.resolve(renderSvg(svg, width)));
  assert.match(inlined, /<image href="data:image\/png;base64,[A-Za-z0-9+/]+=*" width="640"/);
  assert.equal(inlined, withCloudsSync(art, renderSvg));
  // The clouds show: the background with them differs from the one without.
  assert.ok(panDifference(inlined, 320, 1) > panDifference(art.svg.replace(/<image [^>]*\/>/, ''), 320, 1));
});

test('a flat colour becomes a gradient of itself; a design palette colours the decoration', () => {
  const flat = scenePalette(['#7c2d12']);
  assert.equal(flat.base.length, 2);
  assert.notEqual(flat.base[0], flat.base[1]);
  const shared = scenePalette(['#111827', '#1f2937'], { background: '#111827', primary: '#2563eb', secondary: '#14b8a6', accent: '#facc15', text: '#ffffff' });
  assert.deepEqual(shared.decor, ['#2563eb', '#14b8a6', '#facc15']);
  assert.equal(shared.accent, '#facc15');
});

test('the icon is visible (3:1) on its plate over every base colour, the palette\'s accent replaced when it is not', () => {
  for (const colors of [['#1e3a8a', '#0ea5e9'], ['#f8fafc', '#e2e8f0'], ['#7c2d12'], ['#f59e0b', '#db2777'], ['#0f172a', '#f8fafc']]) {
    const p = scenePalette(colors);
    for (const b of p.base) assert.ok(contrastRatio(p.accent, blend(p.plate.color, p.plate.opacity, b)) >= GRAPHIC_CONTRAST, `${p.accent} on ${b} under ${JSON.stringify(p.plate)}`);
  }
  // Where the accent alone is legible, the plate stays faint.
  assert.equal(scenePalette(['#0f172a', '#1e293b']).plate.opacity, 0.12);
  const clash = scenePalette(['#fef9c3', '#fde68a'], { background: '#fef9c3', primary: '#fde68a', secondary: '#fcd34d', accent: '#fde047', text: '#1c1917' });
  assert.equal(clash.accent, '#1c1917');
});
