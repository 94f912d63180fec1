import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { BLACK_PIXEL_THRESHOLD, buildLoudnessMeasureArgs, buildQaPassArgs, FRAME_STEP, parseAnalysis, parseDecodeCheck, parseFreezes, parseLoudnessSummary, parseQaPass } from './analysis.js';

/** An ebur128 closing summary as FFmpeg prints it at -loglevel info. */
function summary(i: string, threshold: string, lra: string, peak: string): string[] {
  return [
    '[Parsed_ebur128_0 @ 0x5562225dad00] Summary:',
    '',
    '  Integrated loudness:',
    `    I:         ${i} LUFS`,
    `    Threshold: ${threshold} LUFS`,
    '',
    '  Loudness range:',
    `    LRA:         ${lra} LU`,
    '    Threshold: -43.5 LUFS',
    '    LRA low:   -26.1 LUFS',
    '    LRA high:  -21.9 LUFS',
    '',
    '  True peak:',
    `    Peak:       ${peak} dBFS`,
  ];
}

test('qa pass: one decode, frames counted on the first output, audio and every third frame of the picture analysed', () => {
  assert.equal(BLACK_PIXEL_THRESHOLD, 0.05);
  assert.equal(FRAME_STEP, 3);
  assert.deepEqual(buildQaPassArgs('/out/video.mp4', { silenceNoiseDb: -50, silenceMinSec: 3, blackMinSec: 1, analysisWidth: 320 }), [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'level+info',
    '-progress', 'pipe:1',
    '-i', '/out/video.mp4',
    '-filter_complex',
    '[0:v:0]split[count][look];[look]framestep=3,scale=320:-2,blackdetect=d=1:pic_th=0.98:pix_th=0.05[vo];' +
      '[0:a:0]ebur128=peak=true:framelog=verbose,silencedetect=noise=-50dB:d=3[ao]',
    '-map', '[count]', '-f', 'null', '-',
    '-map', '[ao]', '-f', 'null', '-',
    '-map', '[vo]', '-f', 'null', '-',
  ]);
  const fine = buildQaPassArgs('/v.mp4', { silenceNoiseDb: -60.5, silenceMinSec: 0.5, blackMinSec: 0.25, analysisWidth: 160 });
  assert.equal(
    fine[fine.indexOf('-filter_complex') + 1],
    '[0:v:0]split[count][look];[look]framestep=3,scale=160:-2,blackdetect=d=0.25:pic_th=0.98:pix_th=0.05[vo];[0:a:0]ebur128=peak=true:framelog=verbose,silencedetect=noise=-60.5dB:d=0.5[ao]',
  );
});

test('qa pass: still runs measured in the same pass, after black detection on the scaled picture', () => {
  const args = buildQaPassArgs('/v.mp4', { silenceNoiseDb: -50, silenceMinSec: 3, blackMinSec: 1, analysisWidth: 320, freezeMinSec: 2 });
  assert.match(args[args.indexOf('-filter_complex') + 1] ?? '', /scale=320:-2,blackdetect=d=1:pic_th=0\.98:pix_th=0\.05,freezedetect=n=0\.001:d=2\[vo\];/);
  const strict = buildQaPassArgs('/v.mp4', { silenceNoiseDb: -50, silenceMinSec: 3, blackMinSec: 1, analysisWidth: 320, freezeMinSec: 1.5, freezeNoise: 0.0005 });
  assert.match(strict[strict.indexOf('-filter_complex') + 1] ?? '', /,freezedetect=n=0\.0005:d=1\.5\[vo\];/);
  // One input, one decode: the freeze detector adds none.
  assert.equal(args.filter((a) => a === '-i').length, 1);
});

test('freezedetect log of a real run: a run that ends, and one still going when the file ends', () => {
  // FFmpeg 5.1 on a 9.04 s file: moving 0–2 s, a flat colour 2–5 s, moving 5–6.5 s, a flat colour
  // to the end (B-frames skipped, so a start may come a frame or two late; the qa pass now reads every third frame).
  const log = readFileSync(new URL('../../../test/fixtures/freezedetect-analysis.txt', import.meta.url), 'utf8');
  assert.deepEqual(parseFreezes(log, 9.04), [{ startSec: 2.08, endSec: 5 }, { startSec: 6.64, endSec: 9.04 }]);
  const analysis = parseAnalysis(log, 9.04);
  assert.deepEqual(analysis.freezes, [{ startSec: 2.08, endSec: 5 }, { startSec: 6.64, endSec: 9.04 }]);
  assert.equal(analysis.integratedLufs, -21.8);
  assert.deepEqual(analysis.blacks, []);
});

test('freezedetect: no lines, no runs; a freeze_end without a start is ignored', () => {
  assert.deepEqual(parseFreezes('', 10), []);
  assert.deepEqual(parseFreezes('[freezedetect @ 0x1] lavfi.freezedetect.freeze_end: 4', 10), []);
  assert.deepEqual(
    parseFreezes(['[freezedetect @ 0x1] lavfi.freezedetect.freeze_start: 0', '[freezedetect @ 0x1] lavfi.freezedetect.freeze_duration: 2.5', '[freezedetect @ 0x1] lavfi.freezedetect.freeze_end: 2.5'].join('\n'), 10),
    [{ startSec: 0, endSec: 2.5 }],
  );
});

test('loudness measurement: the first audio stream through ebur128 with true peak, nothing written', () => {
  assert.deepEqual(buildLoudnessMeasureArgs('/c/final.m4a'), [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info',
    '-i', '/c/final.m4a',
    '-map', '0:a:0',
    '-af', 'ebur128=peak=true:framelog=verbose',
    '-f', 'null', '-',
  ]);
});

test('loudness summary: the last summary wins, the threshold is the integrated one', () => {
  const stderr = [
    ...summary('-30.0', '-40.0', '1.0', '-20.0'),
    'size=N/A time=00:00:05.00 bitrate=N/A speed= 346x',
    ...summary('-22.0', '-32.1', '4.2', '-18.1'),
  ].join('\n');
  assert.deepEqual(parseLoudnessSummary(stderr), { integratedLufs: -22, thresholdLufs: -32.1, loudnessRange: 4.2, truePeakDb: -18.1 });
  assert.deepEqual(parseLoudnessSummary(summary('-14.0', '-24.6', '7.8', '0.3').join('\n')), {
    integratedLufs: -14, thresholdLufs: -24.6, loudnessRange: 7.8, truePeakDb: 0.3,
  });
});

test('loudness summary of digital silence: -70 LUFS, a 0.0 threshold, and a -inf peak', () => {
  const m = parseLoudnessSummary(summary('-70.0', '  0.0', '0.0', '-inf').join('\n'));
  assert.equal(m.integratedLufs, -70);
  assert.equal(m.thresholdLufs, 0);
  assert.equal(m.loudnessRange, 0);
  assert.equal(m.truePeakDb, Number.NEGATIVE_INFINITY);
});

test('loudness summary: missing lines are NaN, never a number from elsewhere in the log', () => {
  const m = parseLoudnessSummary('[in#0 @ 0x1] Error opening input: No such file or directory\nPeak: -3.0 dBFS');
  assert.ok(Number.isNaN(m.integratedLufs));
  assert.ok(Number.isNaN(m.thresholdLufs));
  assert.ok(Number.isNaN(m.loudnessRange));
  assert.ok(Number.isNaN(m.truePeakDb));
});

test('analysis: silences paired in order, a negative start clamped, an unterminated silence closed at the end', () => {
  const stderr = [
    'Input #0, mov,mp4,m4a,3gp,3g2,mj2, from \'/out/video.mp4\':',
    '  Duration: 00:00:12.00, start: 0.000000, bitrate: 1843 kb/s',
    '[silencedetect @ 0x555a24c6e940] silence_start: -0.00133333',
    '[silencedetect @ 0x555a24c6e940] silence_end: 3.52 | silence_duration: 3.52133',
    '[blackdetect @ 0x555a24c6f100] black_start:0 black_end:1.2 black_duration:1.2',
    '[silencedetect @ 0x555a24c6e940] silence_start: 6.25',
    '[silencedetect @ 0x555a24c6e940] silence_end: 9.75 | silence_duration: 3.5',
    '[blackdetect @ 0x555a24c6f100] black_start:10.5 black_end:12 black_duration:1.5',
    '[silencedetect @ 0x555a24c6e940] silence_start: 10.8',
    'size=N/A time=00:00:12.00 bitrate=N/A speed=41.2x',
    ...summary('-14.2', '-24.4', '5.5', '-1.6'),
  ].join('\n');
  assert.deepEqual(parseAnalysis(stderr, 12.04), {
    integratedLufs: -14.2,
    truePeakDb: -1.6,
    loudnessRange: 5.5,
    silences: [{ startSec: 0, endSec: 3.52 }, { startSec: 6.25, endSec: 9.75 }, { startSec: 10.8, endSec: 12.04 }],
    blacks: [{ startSec: 0, endSec: 1.2 }, { startSec: 10.5, endSec: 12 }],
    freezes: [],
  });
});

test('analysis: a silence_end printed after the summary (FFmpeg 5+ at end of stream) still closes the run', () => {
  const stderr = [
    '[silencedetect @ 0x1] silence_start: 3',
    ...summary('-22.0', '-32.1', '4.2', '-18.1'),
    '[silencedetect @ 0x1] silence_end: 5 | silence_duration: 2',
  ].join('\n');
  const result = parseAnalysis(stderr, 5.02);
  assert.deepEqual(result.silences, [{ startSec: 3, endSec: 5 }]);
  assert.deepEqual(result.blacks, []);
  assert.equal(result.integratedLufs, -22);
});

test('analysis of a clean file: no runs, loudness only', () => {
  assert.deepEqual(parseAnalysis(summary('-14.0', '-24.0', '3.0', '-1.2').join('\n'), 30), {
    integratedLufs: -14, truePeakDb: -1.2, loudnessRange: 3, silences: [], blacks: [], freezes: [],
  });
});

test('decode check: the last progress block gives the frame count; lines at error level or worse are the errors', () => {
  const block = (frame: number, end = false): string =>
    `frame=${frame}\nfps=0.00\nout_time_us=${frame * 33333}\ntotal_size=N/A\nprogress=${end ? 'end' : 'continue'}\n`;
  assert.deepEqual(parseDecodeCheck(block(60) + block(131, true), '[Parsed_ebur128_1 @ 0x55] [info] Summary:\n    I:  -16.0 LUFS'), { frames: 131, errors: [] });
  // FFmpeg 5.1 reading a 1080p MP4 cut to 40 % of its bytes, at -loglevel level+info.
  const stderr = [
    '[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from \'/c/video.mp4\':',
    '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5606ee89f480] [warning] Packet corrupt (stream = 0, dts = 1077030).',
    '[NULL @ 0x5606ee8a0940] [error] Invalid NAL unit size (15976 > 1829).',
    '[warning] /c/video.mp4: corrupt input packet in stream 0',
    '[h264 @ 0x5606ee8eb000] [error] Error splitting the input into NAL units.',
    '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5606ee89f480] [error] stream 1, offset 0x27d2d5: partial file',
    '[fatal] /c/video.mp4: Invalid data found when processing input',
  ].join('\n');
  assert.deepEqual(parseDecodeCheck(block(40) + block(69, true), stderr), {
    frames: 69,
    errors: [
      '[NULL @ 0x5606ee8a0940] Invalid NAL unit size (15976 > 1829).',
      '[h264 @ 0x5606ee8eb000] Error splitting the input into NAL units.',
      '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5606ee89f480] stream 1, offset 0x27d2d5: partial file',
      '/c/video.mp4: Invalid data found when processing input',
    ],
  });
  assert.deepEqual(parseDecodeCheck('', ''), { frames: 0, errors: [] });
  const both = parseQaPass(block(300, true), [...summary('-14.0', '-24.0', '3.0', '-1.2').map((l) => l.replace('] Summary', '] [info] Summary')), stderr].join('\n'), 10);
  assert.equal(both.decode.frames, 300);
  assert.equal(both.decode.errors.length, 4);
  assert.equal(both.analysis.integratedLufs, -14);
});

test('qa pass with stills: the thumbnail and the contact sheet are two more branches of the same decode, JPEG outputs after the null ones', () => {
  const args = buildQaPassArgs('/v.mp4', { silenceNoiseDb: -50, silenceMinSec: 3, blackMinSec: 1, analysisWidth: 320 }, {
    thumbnail: { frame: 45, outPath: '/s/thumbnail.jpg' },
    sheet: { frames: [60, 210, 330], cell: { width: 320, height: 180 }, columns: 2, outPath: '/s/contact-sheet.jpg' },
  });
  const graph = args[args.indexOf('-filter_complex') + 1] ?? '';
  assert.match(graph, /^\[0:v:0\]split=4\[count\]\[look\]\[thumb\]\[sheet\];\[look\]framestep=3,/);
  assert.ok(graph.includes('[thumb]select=eq(n\\,45)[thumbnail]'), graph);
  assert.ok(graph.includes('[sheet]select=eq(n\\,60)+eq(n\\,210)+eq(n\\,330),scale=320:180:force_original_aspect_ratio=decrease,pad=320:180:'), graph);
  assert.ok(graph.includes('tile=2x2:margin=12:padding=8:color=0x111111[contact]'), graph);
  assert.deepEqual(args.slice(args.lastIndexOf('-f') + 3), [
    '-map', '[thumbnail]', '-frames:v', '1', '-q:v', '3', '-update', '1', '/s/thumbnail.jpg',
    '-map', '[contact]', '-frames:v', '1', '-q:v', '3', '-update', '1', '/s/contact-sheet.jpg',
  ]);
  assert.equal(args.indexOf('[count]'), args.indexOf('-map') + 1, 'the frame count is the first output');
});
