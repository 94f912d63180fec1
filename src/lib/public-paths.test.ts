import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publicMessage } from './public-paths.js';

const assets = '/srv/aiprod/data/assets';

test('paths under the assets directory become relative to it', () => {
  assert.equal(publicMessage(`scenes.0.visual.src: ${assets}/img/cat.png is not a readable image`, [assets]), 'scenes.0.visual.src: img/cat.png is not a readable image');
  assert.equal(publicMessage(`file not found: ${assets}/logo.png; give a path`, [`${assets}/`]), 'file not found: logo.png; give a path');
  assert.equal(publicMessage(`cannot read "${assets}/a b/c.mp4"`, [assets]), 'cannot read "a b/c.mp4"', 'only up to the space: still no server path');
});

test('other absolute paths keep only their file name', () => {
  const text = 'ffmpeg failed (exit 1): /srv/aiprod/data/tmp/render-abc/seg-3.mp4: No space left on device; see /var/cache/aiprod/narrate/ab12/speech.wav';
  const shown = publicMessage(text, [assets]);
  assert.equal(shown, 'ffmpeg failed (exit 1): seg-3.mp4: No space left on device; see speech.wav');
  assert.doesNotMatch(shown, /\/srv|\/var/);
});

test('URLs, API paths, fractions and relative paths are left alone', () => {
  const text = 'scenes.1.visual.src: https://example.com/media/cat.png refused; see /v1/productions/abc and /pipeline/job/x; 1/2 of images/cat.png; 10.0.0.0/8';
  assert.equal(publicMessage(text, [assets]), text);
});

test('paths after file:// are shortened too', () => {
  const shown = publicMessage('cannot open file:///srv/aiprod/data/tmp/render-abc/list.txt: denied; also file:///etc/passwd', [assets]);
  assert.equal(shown, 'cannot open list.txt: denied; also passwd');
  assert.equal(publicMessage(`see file://${assets}/img/cat.png`, [assets]), 'see img/cat.png');
});

test('paths with spaces are not cut partway: no part of a server path is left', () => {
  const unquoted = publicMessage('ffmpeg failed: /srv/my data/tmp/render-abc/seg 3.mp4: Invalid data', [assets]);
  assert.doesNotMatch(unquoted, /srv|my data|tmp|render-abc/, unquoted);
  assert.equal(publicMessage(`cannot read '/srv/my data/cache/narrate/ab 12/speech.wav'`, [assets]), "cannot read 'speech.wav'");
  assert.equal(publicMessage(`cannot read "/srv/aiprod/data/assets/my images/cat 1.png"`, [assets]), 'cannot read "my images/cat 1.png"');
  assert.equal(publicMessage('see /var/cache/aiprod run/x.wav and 1/2 of it', [assets]), 'see x.wav and 1/2 of it');
});
