import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ASPECT_RATIOS, IMAGE_POSITIONS, type AspectRatio } from '../../contract/brief.js';
import { captionStyle, safeArea, titleStyle } from '../../pipeline/visual/layout.js';
import { insideSafeArea, overlapArea } from '../geometry.js';
import { iconRect, imageRects } from './placement.js';

const SIZES: Record<AspectRatio, [number, number]> = { '16:9': [1920, 1080], '9:16': [1080, 1920], '1:1': [1080, 1080], '4:5': [1080, 1350] };

test('an icon over a centred title sits above the title block, inside the safe area, in every ratio', () => {
  for (const ratio of ASPECT_RATIOS) {
    const [width, height] = SIZES[ratio];
    const frame = { width, height };
    const safe = safeArea(width, height, ratio);
    const titleSizePx = titleStyle(width, height, 'Launch day').fontSize;
    const rect = iconRect(frame, safe, { hasTitle: true, titlePosition: 'center', layout: 'title', titleSizePx });
    assert.ok(insideSafeArea(rect, frame, safe), `${ratio}: ${JSON.stringify(rect)}`);
    // The title block (two lines) as pipeline/visual/text.ts places it: the icon ends above it.
    const block = 2 * Math.round(titleSizePx * 1.25);
    const titleTop = safe.top + (height - safe.top - safe.bottom - block) * 0.42;
    assert.ok(rect.y + rect.height <= titleTop, `${ratio}: icon ends at ${rect.y + rect.height}, title starts at ${titleTop}`);
    assert.ok(rect.width >= Math.min(width, height) * 0.1, `${ratio}: ${rect.width}px is too small to read`);
    assert.equal(rect.width, rect.height);
    assert.ok(Math.abs(rect.x + rect.width / 2 - width / 2) <= 1, `${ratio}: centred`);
  }
});

test('icons for other title positions and layouts stay inside the safe area', () => {
  for (const ratio of ASPECT_RATIOS) {
    const [width, height] = SIZES[ratio];
    const safe = safeArea(width, height, ratio);
    for (const titlePosition of ['top', 'center', 'lower-third', 'bottom'] as const) {
      for (const layout of ['title', 'lower-third', 'list', 'counter', 'quote', 'end-card'] as const) {
        for (const hasTitle of [true, false]) {
          const rect = iconRect({ width, height }, safe, { hasTitle, titlePosition, layout, titleSizePx: titleStyle(width, height, 'A title').fontSize, logoCorner: 'top-right' });
          assert.ok(insideSafeArea(rect, { width, height }, safe), `${ratio} ${titlePosition} ${layout}: ${JSON.stringify(rect)}`);
        }
      }
    }
  }
});

test('image positions lie inside the safe area and above the captions, in every ratio', () => {
  for (const ratio of ASPECT_RATIOS) {
    const [width, height] = SIZES[ratio];
    const frame = { width, height };
    const safe = safeArea(width, height, ratio);
    const band = Math.round(captionStyle(width, height, false).fontSize * 3.2);
    const captionTop = height - safe.bottom - band;
    for (const position of IMAGE_POSITIONS) {
      const [rect] = imageRects(frame, safe, [position], band);
      assert.ok(rect && insideSafeArea(rect, frame, safe), `${ratio} ${position}: ${JSON.stringify(rect)}`);
      assert.ok(rect.y + rect.height <= captionTop, `${ratio} ${position}: over the captions`);
      assert.ok(rect.width % 2 === 0 && rect.height % 2 === 0 && rect.width > 0 && rect.height > 0);
    }
    // Four grid images, and a split screen, do not overlap one another.
    const grid = imageRects(frame, safe, ['grid', 'grid', 'grid', 'grid'], band);
    const split = imageRects(frame, safe, ['left', 'right'], band);
    for (const set of [grid, split]) {
      for (let i = 0; i < set.length; i++) {
        assert.ok(insideSafeArea(set[i]!, frame, safe));
        for (let j = i + 1; j < set.length; j++) assert.equal(overlapArea(set[i]!, set[j]!), 0, `${ratio}: ${i} and ${j} overlap`);
      }
    }
    const [pip, pipLeft] = imageRects(frame, safe, ['pip', 'pip-left'], band);
    assert.ok(pip!.x > width / 2 && pipLeft!.x + pipLeft!.width < width / 2, `${ratio}: pip right, pip-left left`);
    // Under a centred two-line title, a picture-in-picture keeps below the block.
    const titleSize = titleStyle(width, height, 'Fair price').fontSize;
    const block = 2 * Math.round(titleSize * 1.25);
    const titleBottom = Math.round(safe.top + (height - safe.top - safe.bottom - block) * 0.42 + block);
    const [low] = imageRects(frame, safe, ['pip'], band, titleBottom);
    assert.ok(low!.y >= titleBottom, `${ratio}: pip from ${low!.y}, title to ${titleBottom}`);
    assert.ok(insideSafeArea(low!, frame, safe) && low!.width >= Math.min(width, height) * 0.2, `${ratio}: ${JSON.stringify(low)}`);
  }
});
