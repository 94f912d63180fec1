import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DesignElement, DesignRecord } from '../../design/record.js';
import { evaluateDesign, measureContrast, safeAreaMiss } from './design.js';

/** 1280x720 with 64 px side margins and 36 px top and bottom. */
const frame = { width: 1280, height: 720, safe: { left: 64, right: 64, top: 36, bottom: 36 } };
const title: DesignElement = {
  kind: 'title', sceneId: 's1', text: 'Fresh bread', rect: { x: 340, y: 260, width: 600, height: 90 }, fromSec: 0, toSec: 3,
  color: '#ffffff', backdrop: ['#1e3a8a', '#0f172a'],
};
const caption: DesignElement = {
  kind: 'caption', sceneId: 's1', text: 'every morning', rect: { x: 440, y: 600, width: 400, height: 50 }, fromSec: 0.4, toSec: 2,
  color: '#ffffff', box: { color: '#000000', opacity: 0.6 }, backdrop: ['#ffffff', '#f59e0b'],
};
const record = (elements: DesignElement[]): DesignRecord => ({ ...frame, elements });
const check = (r: DesignRecord, name: string, briefColors: string[] = []) => {
  const found = evaluateDesign(r, { briefColors }).find((c) => c.name === name);
  assert.ok(found, `no ${name} check`);
  return found;
};

test('a readable layout inside the safe area, captions clear of titles, passes every design gate', () => {
  const checks = evaluateDesign(record([title, caption]), { briefColors: [] });
  assert.deepEqual(checks.map((c) => c.name), ['text_contrast', 'text_contrast_brief', 'safe_area', 'caption_overlap']);
  assert.deepEqual(checks.filter((c) => !c.passed), []);
  assert.deepEqual(checks.map((c) => c.hard), [true, false, true, true]);
  assert.match(check(record([title, caption]), 'text_contrast').measured, /^2 text element\(s\), worst scene s1 caption "every morning" [\d.]+:1/);
});

test('an empty record passes and says there was nothing to check', () => {
  const checks = evaluateDesign(record([]), { briefColors: [] });
  assert.ok(checks.every((c) => c.passed));
  assert.equal(checks.find((c) => c.name === 'text_contrast')?.measured, 'no text element');
});

test('contrast: the worst text element is named with its scene, text, ratio and colours', () => {
  const grey: DesignElement = { ...title, sceneId: 's2', text: 'Come early', color: '#94a3b8', backdrop: ['#f8fafc', '#1e3a8a'] };
  const c = check(record([title, grey, caption]), 'text_contrast');
  assert.equal(c.passed, false);
  assert.equal(c.hard, true);
  // #94a3b8 on #f8fafc is 2.42:1 (WCAG), reported truncated so it never reads as passing.
  assert.match(c.measured, /^1 of 3 text element\(s\) below: scene s2 title "Come early" 2\.4\d:1 \(#94a3b8 on #f8fafc\)$/);
  assert.equal(c.expected, '≥ 4.5:1 (WCAG AA) for every text element in colours AIPROD chose');
});

test('contrast: just under 4.5:1 fails, just over passes; a box behind the text is what it is read against', () => {
  // #767676 on white is 4.54:1, #777777 is 4.48:1.
  const over: DesignElement = { ...title, color: '#767676', backdrop: ['#ffffff'] };
  const under: DesignElement = { ...title, color: '#777777', backdrop: ['#ffffff'] };
  assert.equal(check(record([over]), 'text_contrast').passed, true);
  assert.equal(check(record([under]), 'text_contrast').passed, false);
  const white: DesignElement = { ...caption, box: undefined };
  assert.equal(check(record([white]), 'text_contrast').passed, false, 'white on white and amber without its box');
  assert.equal(check(record([caption]), 'text_contrast').passed, true, 'the same caption on a 60 % black box');
});

test('contrast: a thick contrasting outline counts, a hairline does not; no colour recorded is a failure', () => {
  const bare: DesignElement = { ...caption, box: undefined, rect: { ...caption.rect, height: 50 } };
  assert.equal(measureContrast({ ...bare, outline: { color: '#000000', px: 3 } }).ratio, 21);
  assert.ok(measureContrast({ ...bare, outline: { color: '#000000', px: 1 } }).ratio < 1.1);
  const uncoloured: DesignElement = { ...title, color: undefined };
  const c = check(record([uncoloured]), 'text_contrast');
  assert.equal(c.passed, false);
  assert.match(c.measured, /scene s1 title "Fresh bread" no colour recorded/);
});

test('contrast: text in a colour the brief named only warns, in any spelling of the colour', () => {
  const brand: DesignElement = { ...title, color: '#FFD700', backdrop: ['#ffffff'] };
  const checks = evaluateDesign(record([brand, title]), { briefColors: ['#ffd700'] });
  const hard = checks.find((c) => c.name === 'text_contrast');
  const soft = checks.find((c) => c.name === 'text_contrast_brief');
  assert.equal(hard?.passed, true);
  assert.equal(soft?.passed, false);
  assert.equal(soft?.hard, false);
  assert.match(soft?.measured ?? '', /scene s1 title "Fresh bread" 1\.\d\d:1 \(#ffd700 on #ffffff\)/);
  // The same colour, chosen by AIPROD (not in the brief), fails the render.
  assert.equal(evaluateDesign(record([brand]), { briefColors: ['#fff'] }).find((c) => c.name === 'text_contrast')?.passed, false);
});

test('safe area: 1 px past a margin fails, naming the element, the side and the pixels; touching it passes', () => {
  const touching: DesignElement = { ...title, rect: { x: 64, y: 36, width: 1152, height: 90 } };
  assert.equal(check(record([touching]), 'safe_area').passed, true);
  const left: DesignElement = { ...title, rect: { x: 63, y: 260, width: 600, height: 90 } };
  const c = check(record([left]), 'safe_area');
  assert.equal(c.passed, false);
  assert.equal(c.hard, true);
  assert.equal(c.measured, '1 of 1 outside: scene s1 title "Fresh bread" 1 px past the left margin');
  const low: DesignElement = { ...caption, rect: { x: 1000, y: 650, width: 240, height: 50 } };
  assert.deepEqual(safeAreaMiss(low, frame).sides, [{ side: 'right', px: 24 }, { side: 'bottom', px: 16 }]);
  assert.match(check(record([low]), 'safe_area').measured, /scene s1 caption "every morning" 24 px past the right margin, 16 px past the bottom margin/);
});

test('safe area: icons and the logo are held to it; an image may bleed off the frame but not stop short of it', () => {
  const icon: DesignElement = { kind: 'icon', sceneId: 's3', rect: { x: 1200, y: 100, width: 60, height: 60 }, fromSec: 0, toSec: 2 };
  assert.match(check(record([icon]), 'safe_area').measured, /: scene s3 icon 44 px past the right margin$/);
  const bleed: DesignElement = { kind: 'image', sceneId: 's3', rect: { x: 640, y: 0, width: 640, height: 720 }, fromSec: 0, toSec: 2 };
  assert.equal(check(record([bleed]), 'safe_area').passed, true);
  const short: DesignElement = { ...bleed, rect: { x: 640, y: 0, width: 630, height: 720 } };
  assert.match(check(record([short]), 'safe_area').measured, /scene s3 image 54 px past the right margin/);
  const logo: DesignElement = { kind: 'logo', sceneId: 's1', rect: { x: 1040, y: 20, width: 176, height: 60 }, fromSec: 0, toSec: 3 };
  assert.match(check(record([logo]), 'safe_area').measured, /scene s1 logo 16 px past the top margin/);
});

test('caption overlap: only when both the time windows and the boxes overlap', () => {
  const onTitle: DesignElement = { ...caption, rect: { x: 440, y: 320, width: 400, height: 50 } };
  const c = check(record([title, onTitle]), 'caption_overlap');
  assert.equal(c.passed, false);
  assert.equal(c.hard, true);
  assert.equal(c.measured, '1 overlapping pair(s): scene s1 caption "every morning" over scene s1 title "Fresh bread" for 1.60 s from 0.40 s (12000 px²)');
  // Same place, other time (the caption comes once the title has gone): no overlap.
  assert.equal(check(record([title, { ...onTitle, fromSec: 3, toSec: 4.5 }]), 'caption_overlap').passed, true);
  // Same time, other place: no overlap; boxes that only touch do not overlap either.
  assert.equal(check(record([title, caption]), 'caption_overlap').passed, true);
  assert.equal(check(record([title, { ...onTitle, rect: { x: 440, y: 350, width: 400, height: 50 } }]), 'caption_overlap').passed, true);
  // A lower third is text too.
  const lower: DesignElement = { kind: 'lower-third', sceneId: 's2', text: 'Ana Silva', rect: { x: 64, y: 560, width: 500, height: 80 }, fromSec: 1, toSec: 4, color: '#ffffff' };
  const wide: DesignElement = { ...caption, sceneId: 's2', rect: { x: 300, y: 600, width: 680, height: 50 }, fromSec: 1.5, toSec: 3 };
  assert.match(check(record([lower, wide]), 'caption_overlap').measured, /scene s2 caption "every morning" over scene s2 lower-third "Ana Silva"/);
});

test('caption overlap: a highlighted word drawn over its own caption line is not an overlap', () => {
  const line: DesignElement = { ...caption, text: 'every morning' };
  const word: DesignElement = { ...caption, text: 'morning', rect: { x: 600, y: 600, width: 240, height: 50 }, fromSec: 1, toSec: 1.6 };
  assert.equal(check(record([line, word]), 'caption_overlap').passed, true);
});
