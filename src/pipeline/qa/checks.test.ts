import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AnalysisResult, DecodeResult } from '../../media/args/analysis.js';
import { parseAnalysis } from '../../media/args/analysis.js';
import type { ProbeResult } from '../../media/probe.js';
import type { Timeline } from '../timeline.js';
import { captionCoverage, evaluateQa, type QaExpectations } from './checks.js';

const timeline: Timeline = {
  fps: 30,
  transitionSec: 0.4,
  totalSec: 10,
  notes: [],
  scenes: [{ id: 's1', index: 0, startSec: 0, durationSec: 10, speechStartSec: 0.35, speechDurationSec: 8 }],
};
const probe: ProbeResult = {
  formatName: 'mov,mp4',
  durationSec: 10.02,
  sizeBytes: 1000,
  streams: [],
  video: { index: 0, codecType: 'video', codecName: 'h264', width: 1280, height: 720, pixFmt: 'yuv420p', frameRate: 30 },
  audio: { index: 1, codecType: 'audio', codecName: 'aac', channels: 2, sampleRate: 48000 },
};
const good: AnalysisResult = { integratedLufs: -14.2, truePeakDb: -1.6, loudnessRange: 5, silences: [], blacks: [], freezes: [] };
/** 10 s at 30 fps, decoded cleanly. */
const decoded: DecodeResult = { frames: 300, errors: [] };
const exp: QaExpectations = {
  timeline,
  width: 1280,
  height: 720,
  loudnessLufs: -14,
  truePeakDb: -1,
  narration: { s1: 'Hello there, world.' },
  captionsExpected: true,
  captions: [
    { sceneId: 's1', startSec: 0.35, endSec: 1, text: 'Hello there,' },
    { sceneId: 's1', startSec: 1, endSec: 2, text: 'world.' },
  ],
};

test('a good render passes every check', () => {
  const report = evaluateQa(probe, good, exp, decoded);
  assert.equal(report.passed, true, JSON.stringify(report.checks.filter((c) => !c.passed)));
  assert.equal(report.measurements.captionCoverage, 1);
});

test('each hard check can fail on its own', () => {
  const failing = (p: ProbeResult, a: AnalysisResult, e: QaExpectations, d: DecodeResult = decoded): string[] =>
    evaluateQa(p, a, e, d).checks.filter((c) => !c.passed).map((c) => c.name);
  assert.deepEqual(failing({ ...probe, durationSec: 10.7 }, good, exp), ['duration']);
  assert.deepEqual(failing({ ...probe, video: { ...probe.video!, width: 1278 } }, good, exp), ['resolution']);
  assert.deepEqual(failing({ ...probe, audio: undefined }, good, exp), ['audio_present', 'audio_codec']);
  assert.deepEqual(failing(probe, { ...good, integratedLufs: -16.1 }, exp), ['loudness']);
  assert.deepEqual(failing(probe, { ...good, truePeakDb: -0.8 }, exp), ['true_peak']);
  assert.deepEqual(failing(probe, { ...good, silences: [{ startSec: 2, endSec: 5.5 }] }, exp), ['silence']);
  assert.deepEqual(failing(probe, { ...good, blacks: [{ startSec: 4, endSec: 5.2 }] }, exp), ['black_frames']);
  assert.deepEqual(failing(probe, good, { ...exp, captions: exp.captions.slice(0, 1) }), ['captions']);
  // A black run the storyboard asked for (a black colour card) is not a defect; one longer than it is.
  const blackCard = [{ startSec: 4, endSec: 5.2 }];
  assert.deepEqual(failing(probe, { ...good, blacks: [{ startSec: 3.9, endSec: 5.3 }] }, { ...exp, plannedBlack: blackCard }), []);
  assert.deepEqual(failing(probe, { ...good, blacks: [{ startSec: 3, endSec: 6.5 }] }, { ...exp, plannedBlack: blackCard }), ['black_frames']);
  assert.equal(evaluateQa(probe, good, { ...exp, captions: [] }, decoded).passed, false);
  // A damaged file: fewer frames than planned, or any decode error, even with the right count.
  assert.deepEqual(failing(probe, good, exp, { frames: 123, errors: [] }), ['decode']);
  assert.deepEqual(failing(probe, good, exp, { frames: 300, errors: ['[h264 @ 0x1] error while decoding MB 3 2'] }), ['decode']);
  assert.deepEqual(failing(probe, good, exp, { frames: 302, errors: [] }), ['decode']);
  assert.deepEqual(failing(probe, good, exp, { frames: 299, errors: [] }), []);
  // A still run over 2 s; the same run in a scene the brief holds still is only a warning.
  assert.deepEqual(failing(probe, { ...good, freezes: [{ startSec: 6, endSec: 8.5 }] }, exp), ['motion']);
  const held = evaluateQa(probe, { ...good, freezes: [{ startSec: 6, endSec: 8.5 }] }, { ...exp, heldStill: new Map([['s1', "the brief's video"]]) }, decoded);
  assert.equal(held.passed, true);
  assert.deepEqual(held.checks.filter((c) => !c.passed).map((c) => c.name), ['motion_held']);
  assert.deepEqual(held.measurements.freezes, [{ startSec: 6, endSec: 8.5 }]);
});

test('the design gates run on the design record when there is one; a brief colour that misses the contrast only warns', () => {
  const design = {
    width: 1280,
    height: 720,
    safe: { left: 64, right: 64, top: 36, bottom: 36 },
    elements: [{ kind: 'title' as const, sceneId: 's1', text: 'Hello', rect: { x: 400, y: 300, width: 480, height: 80 }, fromSec: 0, toSec: 3, color: '#fde047', backdrop: ['#ffffff'] }],
  };
  assert.equal(evaluateQa(probe, good, exp, decoded).checks.some((c) => c.name === 'text_contrast'), false);
  const chosen = evaluateQa(probe, good, { ...exp, design }, decoded);
  assert.equal(chosen.passed, false);
  assert.deepEqual(chosen.checks.filter((c) => !c.passed).map((c) => c.name), ['text_contrast']);
  const forced = evaluateQa(probe, good, { ...exp, design, briefColors: ['#FDE047'] }, decoded);
  assert.equal(forced.passed, true);
  assert.deepEqual(forced.checks.filter((c) => !c.passed).map((c) => c.name), ['text_contrast_brief']);
  const outside = evaluateQa(probe, good, { ...exp, design: { ...design, elements: [{ ...design.elements[0]!, color: '#0f172a', rect: { x: 10, y: 300, width: 480, height: 80 } }] } }, decoded);
  assert.deepEqual(outside.checks.filter((c) => !c.passed).map((c) => c.name), ['safe_area']);
});

test('silence outside the narration and a wrong frame rate do not fail the render', () => {
  const t2: Timeline = { ...timeline, scenes: [{ ...timeline.scenes[0]!, speechDurationSec: 2 }] };
  const report = evaluateQa({ ...probe, video: { ...probe.video!, frameRate: 25 } }, { ...good, silences: [{ startSec: 5, endSec: 9.5 }] }, { ...exp, timeline: t2 }, decoded);
  assert.equal(report.passed, true);
  assert.equal(report.checks.find((c) => c.name === 'frame_rate')?.passed, false);
});

test('caption coverage counts missing words', () => {
  assert.ok(captionCoverage({ s1: 'one two three four' }, [{ sceneId: 's1', startSec: 0, endSec: 1, text: 'one two' }]) < 0.6);
  assert.equal(captionCoverage({ s1: '' }, []), 1);
});

test('analysis output is parsed from FFmpeg stderr', () => {
  const stderr = [
    '[silencedetect @ 0x1] silence_start: 4.5',
    '[silencedetect @ 0x1] silence_end: 8.25 | silence_duration: 3.75',
    '[blackdetect @ 0x2] black_start:0 black_end:1.2 black_duration:1.2',
    '[silencedetect @ 0x1] silence_start: 9.1',
    '[Parsed_ebur128_0 @ 0x3] Summary:',
    '  Integrated loudness:',
    '    I:         -14.3 LUFS',
    '    Threshold: -24.5 LUFS',
    '  Loudness range:',
    '    LRA:         6.2 LU',
    '  True peak:',
    '    Peak:       -1.4 dBFS',
  ].join('\n');
  assert.deepEqual(parseAnalysis(stderr, 10), {
    integratedLufs: -14.3,
    truePeakDb: -1.4,
    loudnessRange: 6.2,
    silences: [{ startSec: 4.5, endSec: 8.25 }, { startSec: 9.1, endSec: 10 }],
    blacks: [{ startSec: 0, endSec: 1.2 }],
    freezes: [],
  });
});

test('caption coverage ignores the spaces between cues of unspaced scripts', () => {
  const text = '欢迎来到我们的新产品发布会。这个背包可以充电。';
  const cues = [
    { sceneId: 's1', startSec: 0, endSec: 1, text: '欢迎来到我们的新产品发布会。' },
    { sceneId: 's1', startSec: 1, endSec: 2, text: '这个背包可以充电。' },
  ];
  assert.equal(captionCoverage({ s1: text }, cues), 1);
  assert.ok(captionCoverage({ s1: text }, cues.slice(0, 1)) < 0.7);
});
