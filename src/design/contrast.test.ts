import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blend, contrastRatio, readableColor, relativeLuminance, textContrast, WCAG_AA_TEXT } from './contrast.js';
import { insideSafeArea, overlapArea } from './geometry.js';

test('contrast ratios match the WCAG reference values', () => {
  assert.equal(contrastRatio('#ffffff', '#000000'), 21);
  assert.equal(contrastRatio('#000', '#fff'), 21);
  assert.equal(contrastRatio('#777777', '#777777'), 1);
  // #767676 on white is the classic just-passing AA grey (4.54:1); #777777 just fails (4.48:1).
  assert.ok(contrastRatio('#767676', '#ffffff') >= WCAG_AA_TEXT);
  assert.ok(contrastRatio('#777777', '#ffffff') < WCAG_AA_TEXT);
  assert.equal(Math.round(relativeLuminance('#ff0000') * 10000) / 10000, 0.2126);
});

test('text is judged against the worst of its backdrop, through its box', () => {
  const white = { color: '#ffffff', backdrop: ['#1e3a8a', '#f8fafc'] };
  assert.ok(textContrast(white) < 1.1, 'white over a near-white stop fails');
  const boxed = { ...white, box: { color: '#000000', opacity: 0.6 } };
  assert.ok(textContrast(boxed) >= WCAG_AA_TEXT, `a 60 % black box brings it to ${textContrast(boxed)}`);
  assert.equal(blend('#000000', 0.5, '#ffffff'), '#808080');
  // No backdrop known: the box over black and white is what counts.
  assert.ok(textContrast({ color: '#ffffff', box: { color: '#000000', opacity: 0.3 } }) < WCAG_AA_TEXT);
});

test('readableColor keeps the first colour that passes, else the best', () => {
  assert.equal(readableColor(['#ffffff', '#111111'], ['#1e3a8a']), '#ffffff');
  assert.equal(readableColor(['#ffffff', '#111111'], ['#fde68a']), '#111111');
  // Neither passes over #fafafa: the darker grey is the better of the two.
  assert.equal(readableColor(['#ffffff', '#eeeeee'], ['#fafafa']), '#eeeeee');
});

test('safe area and overlap', () => {
  const frame = { width: 1000, height: 500 };
  const safe = { left: 50, right: 50, top: 40, bottom: 60 };
  assert.equal(insideSafeArea({ x: 50, y: 40, width: 900, height: 400 }, frame, safe), true);
  assert.equal(insideSafeArea({ x: 49, y: 40, width: 100, height: 10 }, frame, safe), false);
  assert.equal(insideSafeArea({ x: 100, y: 400, width: 100, height: 41 }, frame, safe), false);
  assert.equal(overlapArea({ x: 0, y: 0, width: 10, height: 10 }, { x: 5, y: 5, width: 10, height: 10 }), 25);
  assert.equal(overlapArea({ x: 0, y: 0, width: 10, height: 10 }, { x: 10, y: 0, width: 10, height: 10 }), 0);
});
