import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKDROP_GRID, buildBackdropCellsArgs, buildPrepareLayerArgs, buildPrepareStillArgs, duotoneFilter } from './image.js';

const head = (src: string): string[] => ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-i', src, '-frames:v', '1', '-filter_complex'];

test('cover: scaled up to fill the frame, centre-cropped, square pixels, RGB', () => {
  assert.deepEqual(buildPrepareStillArgs('/in/photo.jpg', '/c/still.png', { width: 2112, height: 1188, fit: 'cover' }), [
    ...head('/in/photo.jpg'),
    'scale=2112:1188:force_original_aspect_ratio=increase:flags=lanczos,crop=2112:1188,setsar=1',
    '-pix_fmt', 'rgb24', '/c/still.png',
  ]);
});

test('contain: the whole image over a blurred, darkened cover of itself', () => {
  assert.deepEqual(buildPrepareStillArgs('/in/logo.png', '/c/still.png', { width: 1188, height: 2112, fit: 'contain' }), [
    ...head('/in/logo.png'),
    'split[bg][fg];' +
      '[bg]scale=1188:2112:force_original_aspect_ratio=increase,crop=1188:2112,boxblur=20:2,eq=brightness=-0.25[b];' +
      '[fg]scale=1188:2112:force_original_aspect_ratio=decrease:flags=lanczos[f];' +
      '[b][f]overlay=(W-w)/2:(H-h)/2,setsar=1',
    '-pix_fmt', 'rgb24', '/c/still.png',
  ]);
});

test('paths with spaces and brackets stay single arguments, unescaped', () => {
  assert.deepEqual(buildPrepareStillArgs('/in/my photo (1).webp', '/c/out still.png', { width: 640, height: 480, fit: 'cover' }), [
    ...head('/in/my photo (1).webp'),
    'scale=640:480:force_original_aspect_ratio=increase:flags=lanczos,crop=640:480,setsar=1',
    '-pix_fmt', 'rgb24', '/c/out still.png',
  ]);
});

test('backdrop cells: the picture averaged into a small grid of raw RGB, a video read at its start', () => {
  assert.deepEqual(buildBackdropCellsArgs('/in/clip.mp4', '/c/cells.rgb', 2.5), [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-ss', '2.5', '-i', '/in/clip.mp4', '-frames:v', '1',
    '-vf', `scale=${BACKDROP_GRID}:${BACKDROP_GRID}:flags=area`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '/c/cells.rgb',
  ]);
  assert.ok(!buildBackdropCellsArgs('/in/a.png', '/c/cells.rgb').includes('-ss'));
});

test('an image layer covers its cell exactly', () => {
  assert.deepEqual(buildPrepareLayerArgs('/in/photo.jpg', '/c/cell.png', { width: 600, height: 450 }), [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-i', '/in/photo.jpg', '-frames:v', '1',
    '-vf', 'scale=600:450:force_original_aspect_ratio=increase:flags=lanczos,crop=600:450,setsar=1', '-pix_fmt', 'rgb24', '/c/cell.png',
  ]);
});

test('duotone: luma mapped channel by channel from the dark colour at black to the light one at white, after the fit', () => {
  // #1e1b4b → #fbbf24: r 30 + val·(251−30)/255, g 27 + val·(191−27)/255, b 75 + val·(36−75)/255.
  assert.equal(duotoneFilter('#1e1b4b', '#fbbf24'), "format=gray,format=rgb24,lutrgb=r='30+val*0.8667':g='27+val*0.6431':b='75+val*-0.1529'");
  const args = buildPrepareStillArgs('/in/photo.jpg', '/c/still.png', { width: 640, height: 480, fit: 'cover', duotone: { dark: '#1e1b4b', light: '#fbbf24' } });
  assert.equal(args[args.indexOf('-filter_complex') + 1], `scale=640:480:force_original_aspect_ratio=increase:flags=lanczos,crop=640:480,setsar=1,${duotoneFilter('#1e1b4b', '#fbbf24')}`);
});
