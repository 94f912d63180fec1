import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAudioOnlyArgs, buildGifArgs, buildMuxArgs, buildWebmArgs, concatList } from './final.js';

const QUIET = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'];

test('concat list: one quoted line per segment, a quote closed, escaped and reopened', () => {
  assert.equal(concatList(['/c/seg-1.mp4', '/c/seg 2.mp4']), "file '/c/seg-1.mp4'\nfile '/c/seg 2.mp4'\n");
  assert.equal(concatList(["/c/it's.mp4"]), "file '/c/it'\\''s.mp4'\n");
});

test('mux: concat demuxer and the AAC joined by stream copy, cut to the total in milliseconds', () => {
  assert.deepEqual(buildMuxArgs('/c/list.txt', '/c/final.m4a', 29.9996, '/out/video.mp4'), [
    ...QUIET, '-progress', 'pipe:1', '-nostats',
    '-f', 'concat', '-safe', '0', '-i', '/c/list.txt',
    '-i', '/c/final.m4a',
    '-map', '0:v:0', '-map', '1:a:0',
    '-c', 'copy',
    '-t', '30',
    '-movflags', '+faststart',
    '/out/video.mp4',
  ]);
  const odd = buildMuxArgs('/l.txt', '/a.m4a', 12.3456, '/v.mp4');
  assert.equal(odd[odd.indexOf('-t') + 1], '12.346');
});

test('webm: VP9 in realtime mode with the given threads, Opus from the mixed audio', () => {
  assert.deepEqual(buildWebmArgs('/out/video.mp4', '/c/final.wav', '/out/video.webm', 4), [
    ...QUIET, '-progress', 'pipe:1', '-nostats',
    '-i', '/out/video.mp4', '-i', '/c/final.wav',
    '-map', '0:v:0', '-map', '1:a:0',
    '-c:v', 'libvpx-vp9', '-b:v', '0', '-crf', '34', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1',
    '-threads', '4',
    '-c:a', 'libopus', '-b:a', '128k',
    '/out/video.webm',
  ]);
  const auto = buildWebmArgs('/v.mp4', '/a.wav', '/v.webm', 0);
  assert.equal(auto[auto.indexOf('-threads') + 1], '0');
});

test('audio only: AAC at 192k in a faststart .m4a', () => {
  assert.deepEqual(buildAudioOnlyArgs('/c/final.wav', '/c/final.m4a'), [
    ...QUIET, '-i', '/c/final.wav', '-c:a', 'aac', '-b:a', '192k', '-movflags', '+faststart', '/c/final.m4a',
  ]);
});

test('gif: a palette made from the clip itself when palettegen exists, plain scaling otherwise', () => {
  assert.deepEqual(buildGifArgs('/out/video.mp4', '/out/preview.gif', { seconds: 6, width: 480, fps: 10, palette: true }), [
    ...QUIET, '-t', '6', '-i', '/out/video.mp4',
    '-filter_complex', 'fps=10,scale=480:-2:flags=lanczos,split[a][b];[a]palettegen=max_colors=128[p];[b][p]paletteuse=dither=bayer',
    '-loop', '0', '/out/preview.gif',
  ]);
  assert.deepEqual(buildGifArgs('/v.mp4', '/p.gif', { seconds: 4.0004, width: 320, fps: 12, palette: false }), [
    ...QUIET, '-t', '4', '-i', '/v.mp4', '-filter_complex', 'fps=12,scale=320:-2:flags=lanczos', '-loop', '0', '/p.gif',
  ]);
});
