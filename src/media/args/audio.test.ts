import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLoudnessSummary } from './analysis.js';
import { buildLoudnessApplyArgs, buildMixArgs, buildVoiceStemArgs } from './audio.js';

test('voice stem: each part resampled, delayed, padded to its scene, then concatenated', () => {
  assert.deepEqual(buildVoiceStemArgs([{ path: '/n1.wav', leadSec: 0.35, durationSec: 2.5 }, { leadSec: 0, durationSec: 1 }], '/voice.wav'), [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-i', '/n1.wav', '-filter_complex',
    '[0:a]aresample=48000,aformat=sample_fmts=s16:channel_layouts=mono,adelay=350,apad,atrim=end_sample=120000[p0];' +
      'anullsrc=r=48000:cl=mono,atrim=end_sample=48000,aformat=sample_fmts=s16[p1];[p0][p1]concat=n=2:v=0:a=1[voice]',
    '-map', '[voice]', '-c:a', 'pcm_s16le', '-ar', '48000', '/voice.wav',
  ]);
});

test('mix: music ducked by the voice, effects at their gain, amix scaling undone', () => {
  assert.deepEqual(
    buildMixArgs({ voicePath: '/v.wav', musicPath: '/m.wav', sfxPath: '/s.wav', gains: { voice: 1, music: 0.6, sfx: 0.5 }, ducking: true, totalSec: 3.5, outPath: '/mix.wav' }),
    [
      '-hide_banner', '-nostdin', '-y', '-nostats', '-loglevel', 'info', '-i', '/v.wav', '-i', '/m.wav', '-i', '/s.wav', '-filter_complex',
      '[0:a]aformat=channel_layouts=stereo,volume=1,asplit=2[vo][key];' +
        '[1:a][key]sidechaincompress=threshold=0.03:ratio=6:attack=30:release=350:makeup=1,volume=0.6[md];[2:a]volume=0.5[fx];' +
        '[vo][md][fx]amix=inputs=3:duration=first:dropout_transition=0,volume=3[mix];' +
        '[mix]atrim=end_sample=168000,asplit=2[out][meter];[meter]ebur128=peak=true:framelog=verbose,anullsink',
      '-map', '[out]', '-c:a', 'pcm_s16le', '-ar', '48000', '-ac', '2', '/mix.wav',
    ],
  );
  const voiceOnly = buildMixArgs({ voicePath: '/v.wav', gains: { voice: 0.8, music: 0, sfx: 0 }, ducking: true, totalSec: 1, outPath: '/o.wav' });
  assert.equal(
    voiceOnly[voiceOnly.indexOf('-filter_complex') + 1],
    '[0:a]aformat=channel_layouts=stereo,volume=0.8[vo];[vo]anull[mix];[mix]atrim=end_sample=48000,asplit=2[out][meter];[meter]ebur128=peak=true:framelog=verbose,anullsink',
  );
});

test('normalisation: a plain gain when the peak allows it, a limiter under the ceiling when not', () => {
  const stderr = [
    '[Parsed_ebur128_0 @ 0x1] Summary:',
    '  Integrated loudness:',
    '    I:         -23.5 LUFS',
    '    Threshold: -34.0 LUFS',
    '  Loudness range:',
    '    LRA:         6.1 LU',
    '    Threshold: -44.0 LUFS',
    '  True peak:',
    '    Peak:       -12.0 dBFS',
  ].join('\n');
  const m = parseLoudnessSummary(stderr);
  assert.deepEqual(m, { integratedLufs: -23.5, thresholdLufs: -34, loudnessRange: 6.1, truePeakDb: -12 });
  const target = { integratedLufs: -14, truePeakDb: -1.5 };
  const gain = buildLoudnessApplyArgs('/in.wav', '/out.wav', target, m);
  assert.equal(gain[gain.indexOf('-af') + 1], 'volume=9.5dB,aformat=sample_fmts=s16:channel_layouts=stereo');
  const limited = buildLoudnessApplyArgs('/in.wav', '/out.wav', target, { ...m, truePeakDb: -4 });
  assert.equal(
    limited[limited.indexOf('-af') + 1],
    'volume=9.5dB,alimiter=limit=0.8128:attack=5:release=50:level=false,aformat=sample_fmts=s16:channel_layouts=stereo',
  );
});
