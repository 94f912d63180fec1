import assert from 'node:assert/strict';
import { test } from 'node:test';
import { distributeWords, speechActivity } from './speech-timing.js';
import { clampTimings, splitWords, wordsFromCharacterTimes } from './speech-words.js';

test('words are runs of non-space characters without the punctuation around them', () => {
  const text = '"Solaris" charges — in 2 hours, don\'t you think? Café crème… 3.5 kg (heavy)!';
  assert.deepEqual(splitWords(text).map((w) => w.text), ['Solaris', 'charges', 'in', '2', 'hours', "don't", 'you', 'think', 'Café', 'crème', '3.5', 'kg', 'heavy']);
  for (const w of splitWords(text)) assert.equal(text.slice(w.charStart, w.charEnd), w.text);
  assert.deepEqual(splitWords('— ... !'), []);
});

test('character times become word times, following the text through characters the vendor changed', () => {
  const text = 'Hi, you!';
  const chars = ['H', 'i', ',', ' ', 'y', 'o', 'u', '!'];
  const words = wordsFromCharacterTimes(text, { characters: chars, starts: chars.map((_, i) => i * 0.1), ends: chars.map((_, i) => i * 0.1 + 0.1) }, 1);
  assert.deepEqual(words.map((w) => [w.text, w.startSec, Math.round(w.endSec * 10) / 10]), [['Hi', 0, 0.2], ['you', 0.4, 0.7]]);
  // A vendor that dropped the comma: the rest still lines up.
  const dropped = ['H', 'i', ' ', 'y', 'o', 'u', '!'];
  const again = wordsFromCharacterTimes(text, { characters: dropped, starts: dropped.map((_, i) => i * 0.1), ends: dropped.map((_, i) => i * 0.1 + 0.1) }, 1);
  assert.deepEqual(again.map((w) => Math.round(w.startSec * 10) / 10), [0, 0.3]);
});

test('clamped timings rise, last at least 10 ms, fill gaps and stay inside the audio', () => {
  const out = clampTimings([
    { text: 'a', charStart: 0, charEnd: 1, startSec: 0.5, endSec: 0.4 },
    { text: 'b', charStart: 2, charEnd: 3, startSec: Number.NaN, endSec: Number.NaN },
    { text: 'c', charStart: 4, charEnd: 5, startSec: 0.2, endSec: 3 },
  ], 2);
  for (const [i, w] of out.entries()) {
    assert.ok(w.endSec > w.startSec && w.endSec <= 2 && w.startSec >= 0);
    if (i > 0) assert.ok(w.startSec >= out[i - 1]!.startSec);
  }
});

test('voice activity finds pauses; words after a sentence end start after its pause', () => {
  const rate = 16_000;
  // 0.2 s silence, 1 s "speech", 0.5 s pause, 1 s "speech", 0.3 s silence.
  const parts: [number, boolean][] = [[0.2, false], [1, true], [0.5, false], [1, true], [0.3, false]];
  const samples = new Float32Array(Math.round(3 * rate));
  let at = 0;
  for (const [sec, loud] of parts) {
    const n = Math.round(sec * rate);
    for (let i = 0; i < n; i++) samples[at + i] = loud ? 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate) : 0;
    at += n;
  }
  const activity = speechActivity(samples, rate);
  assert.ok(Math.abs(activity.speechStart - 0.2) < 0.02 && Math.abs(activity.speechEnd - 2.7) < 0.02);
  assert.equal(activity.pauses.length, 1);
  const text = 'One two three. Four five six.';
  const words = distributeWords(text, splitWords(text), activity, 3);
  assert.ok(Math.abs(words[0]!.startSec - 0.2) < 0.02);
  assert.ok(Math.abs(words[3]!.startSec - 1.7) < 0.02, `"Four" at ${words[3]!.startSec}`);
  assert.ok(words[2]!.endSec <= 1.21);
});
