import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WordTiming } from '../providers/tts/tts.port.js';
import { buildCaptions, groupWords, toSrt, toVtt } from './captions.js';
import type { Timeline } from './timeline.js';

/** Word timings as a speech engine would give them: one word every 0.4 s. */
function words(text: string): WordTiming[] {
  const out: WordTiming[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const word = m[0].replace(/[.,!?;:]+$/, '');
    const i = out.length;
    out.push({ text: word, charStart: m.index, charEnd: m.index + word.length, startSec: i * 0.4, endSec: i * 0.4 + 0.35 });
  }
  return out;
}

const timeline = (speechSec: number): Timeline => ({
  fps: 30,
  transitionSec: 0.4,
  totalSec: 20,
  notes: [],
  scenes: [
    { id: 's1', index: 0, startSec: 0, durationSec: 10, speechStartSec: 0.35, speechDurationSec: speechSec },
    { id: 's2', index: 1, startSec: 10, durationSec: 10, speechStartSec: 10.35, speechDurationSec: speechSec },
  ],
});

test('cues break at punctuation and stay short', () => {
  const text = 'Meet Solaris, the backpack that charges your phone while you walk. It survives heavy rain, and it weighs under a kilogram.';
  const groups = groupWords(text, words(text));
  for (const g of groups) {
    const span = text.slice(g[0]!.charStart, g[g.length - 1]!.charEnd);
    assert.ok(span.length <= 42, `cue too long: ${span}`);
  }
  const ends = groups.map((g) => g[g.length - 1]!.text);
  assert.ok(ends.includes('walk'), `a cue ends with the sentence: ${ends.join(' | ')}`);
  assert.ok(ends.includes('rain'), `a cue ends at the comma after three words: ${ends.join(' | ')}`);
});

test('the cues of a scene read back as its whole narration, timed from the scene start', () => {
  const a = 'Meet Solaris, the backpack that charges your phone while you walk.';
  const b = '"Quiet," she said. It works!';
  const cues = buildCaptions(timeline(5), new Map([['s1', { text: a, words: words(a) }], ['s2', { text: b, words: words(b) }]]));
  assert.equal(cues.filter((c) => c.sceneId === 's1').map((c) => c.text).join(' '), a);
  assert.equal(cues.filter((c) => c.sceneId === 's2').map((c) => c.text).join(' '), b);
  assert.equal(cues[0]?.startSec, 0.35);
  const second = cues.find((c) => c.sceneId === 's2');
  assert.equal(second?.startSec, 10.35);
  for (let i = 1; i < cues.length; i++) assert.ok(cues[i]!.startSec >= cues[i - 1]!.endSec - 1e-9, 'cues must not overlap');
});

test('SRT and VTT formats', () => {
  const cues = [
    { sceneId: 's1', startSec: 0.35, endSec: 1.5, text: 'Hello there.' },
    { sceneId: 's1', startSec: 3661.007, endSec: 3662, text: 'Later.' },
  ];
  assert.equal(toSrt(cues), '1\n00:00:00,350 --> 00:00:01,500\nHello there.\n\n2\n01:01:01,007 --> 01:01:02,000\nLater.\n');
  assert.equal(toVtt(cues), 'WEBVTT\n\n00:00:00.350 --> 00:00:01.500\nHello there.\n\n01:01:01.007 --> 01:01:02.000\nLater.\n');
});

test('Chinese text without spaces is cut by characters', () => {
  const text = '我们今天发布一个全新的太阳能背包它可以在路上为你的手机充电并且非常轻便耐用';
  const timings: WordTiming[] = [...text].map((ch, i) => ({ text: ch, charStart: i, charEnd: i + 1, startSec: i * 0.2, endSec: i * 0.2 + 0.2 }));
  const groups = groupWords(text, timings);
  assert.ok(groups.length >= 3);
  for (const g of groups) assert.ok(g.length <= 16);
});

test('no cue is a single word when the scene has more: an orphan takes a word with it or joins a neighbour', () => {
  // Closed at 42 characters, this left "ville." alone on screen.
  const text = 'Découvrez Lumina, la nouvelle lampe de bureau solaire qui éclaire toute la grande ville.';
  const groups = groupWords(text, words(text));
  const cues = groups.map((g) => text.slice(g[0]!.charStart, g[g.length - 1]!.charEnd));
  assert.ok(groups.every((g) => g.length >= 2), `every cue has two words or more: ${cues.join(' | ')}`);
  assert.equal(groups.flat().length, words(text).length, 'no word lost or doubled');
  assert.equal(cues.at(-1), 'grande ville', cues.join(' | '));
  const short = 'Yes. The lamp follows the sun all day long and charges itself.';
  const sentences = groupWords(short, words(short)).map((g) => g.map((w) => w.text).join(' '));
  assert.ok(!sentences.includes('Yes'), `a one-word sentence joins the next cue: ${sentences.join(' | ')}`);
  const alone = 'Hello.';
  assert.deepEqual(groupWords(alone, words(alone)).map((g) => g.length), [1], 'a scene of one word is one cue');
});
