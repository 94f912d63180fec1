import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clipSeconds, closestShape, generationPrompt, ratioOf } from './visual-media.js';

describe('visual-media helpers', () => {
  test('the generation prompt is the scene, then the shared style', () => {
    assert.equal(generationPrompt({ prompt: ' a red kite ', style: 'watercolour, soft light' }), 'a red kite, watercolour, soft light');
    assert.equal(generationPrompt({ prompt: 'a red kite', style: '  ' }), 'a red kite');
  });

  test('ratios read as width over height, whatever the separator', () => {
    assert.equal(ratioOf('1920:1080'), 16 / 9);
    assert.equal(ratioOf('1024x1536'), 1024 / 1536);
    assert.equal(ratioOf('9:16'), 9 / 16);
  });

  test('the nearest shape, compared on a log scale', () => {
    const options = ['1920:1080', '1080:1920', '1080:1080', '1080:1440'];
    assert.equal(closestShape('16:9', options, ratioOf), '1920:1080');
    assert.equal(closestShape('9:16', options, ratioOf), '1080:1920');
    assert.equal(closestShape('1:1', options, ratioOf), '1080:1080');
    assert.equal(closestShape('4:5', options, ratioOf), '1080:1440');
    // Only landscape and portrait on offer: 4:5 is nearer portrait, 1:1 is a tie kept by the first.
    assert.equal(closestShape('4:5', ['16:9', '9:16'], ratioOf), '9:16');
    assert.equal(closestShape('1:1', ['16:9', '9:16'], ratioOf), '16:9');
  });

  test('clip length: the shortest offered at least the scene, capped at the longest', () => {
    assert.equal(clipSeconds([4, 6, 8], 4.5), 6);
    assert.equal(clipSeconds([4, 6, 8], 4), 4);
    assert.equal(clipSeconds([4, 6, 8], 1), 4);
    assert.equal(clipSeconds([8, 4, 6], 30), 8);
    assert.equal(clipSeconds([2, 3, 4, 5, 6, 7, 8, 9, 10], 2.01), 3);
  });
});
