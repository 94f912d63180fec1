import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanText, segmentScript, splitSentences, wordUnits } from './text.js';

const words = (texts: string | string[]): string[] => [texts].flat().join(' ').split(/\s+/).filter(Boolean);

test('sentences: abbreviations, initials and decimals do not end a sentence', () => {
  assert.deepEqual(splitSentences('Dr. Smith paid 3.5 dollars. He met Mrs. Jones. Prices rose 2.75% in 2024. J. Doe agreed.'), [
    'Dr. Smith paid 3.5 dollars.',
    'He met Mrs. Jones.',
    'Prices rose 2.75% in 2024.',
    'J. Doe agreed.',
  ]);
  assert.deepEqual(splitSentences('Visit the U.S. Army. Bring fruit, e.g. apples. Done.'), ['Visit the U.S. Army.', 'Bring fruit, e.g. apples.', 'Done.']);
});

test('sentences: runs of ! ? … and closing quotes stay with their sentence; a lower-case word continues it', () => {
  assert.deepEqual(splitSentences('She said "Go!" Then silence… Really?! Wait... what? Yes.'), [
    'She said "Go!"',
    'Then silence…',
    'Really?!',
    'Wait... what?',
    'Yes.',
  ]);
  assert.deepEqual(splitSentences('he said hi. then left.'), ['he said hi. then left.']);
  assert.deepEqual(splitSentences('It costs 5. 12 people came.'), ['It costs 5.', '12 people came.']);
});

test('sentences: CJK full stops split without spaces, closing brackets kept', () => {
  assert.deepEqual(splitSentences('今日は晴れです。明日は雨ですか？はい！'), ['今日は晴れです。', '明日は雨ですか？', 'はい！']);
  assert.deepEqual(splitSentences('欢迎来到发布会。」这个背包可以充电。'), ['欢迎来到发布会。」', '这个背包可以充电。']);
});

test('sentences: Arabic question mark and Devanagari danda', () => {
  assert.deepEqual(splitSentences('مرحبا بكم. كيف حالك؟ أنا بخير.'), ['مرحبا بكم.', 'كيف حالك؟', 'أنا بخير.']);
  assert.deepEqual(splitSentences('हम आज जा रहे हैं। कल वापस।'), ['हम आज जा रहे हैं।', 'कल वापस।']);
});

test('word units: spaced words count once, CJK characters two to a unit, punctuation alone not at all', () => {
  assert.equal(wordUnits('Hello, world! 3.5 — yes'), 4);
  assert.equal(wordUnits('今日は晴れです'), 4);
  assert.equal(wordUnits('Solaris 太陽'), 2);
  assert.equal(wordUnits(''), 0);
});

test('scenes: sentences grouped up to the target, every word kept in order', () => {
  const script = Array.from({ length: 12 }, (_, i) => `Sentence number ${i + 1} has six words.`).join(' ');
  const scenes = segmentScript(script);
  assert.equal(scenes.length, 3);
  for (const scene of scenes) assert.equal(wordUnits(scene), 24);
  assert.equal(scenes[0], 'Sentence number 1 has six words. Sentence number 2 has six words. Sentence number 3 has six words. Sentence number 4 has six words.');
  assert.deepEqual(words(scenes), words(script));
});

test('scenes: a short scene takes the next sentence past the target, never past the maximum', () => {
  const opts = { target: 6, max: 10, min: 4 };
  assert.deepEqual(segmentScript('One two three. Four five six seven eight. Nine ten.', opts), ['One two three. Four five six seven eight.', 'Nine ten.']);
  assert.deepEqual(segmentScript('One two. Three four five six seven eight nine ten eleven.', opts), ['One two.', 'Three four five six seven eight nine ten eleven.']);
});

test('scenes: paragraphs are hard breaks; single newlines join', () => {
  assert.deepEqual(segmentScript('Short.\n\nAlso short.\nSame paragraph.\n \nLast.'), ['Short.', 'Also short. Same paragraph.', 'Last.']);
  assert.deepEqual(segmentScript(''), []);
});

test('scenes: an over-long sentence splits at commas, else every max words', () => {
  const first = Array.from({ length: 20 }, (_, i) => `w${i + 1}`).join(' ');
  const second = Array.from({ length: 22 }, (_, i) => `x${i + 1}`).join(' ');
  const sentence = `${first}, ${second}.`;
  assert.deepEqual(segmentScript(sentence), [`${first},`, `${second}.`]);
  const run = Array.from({ length: 90 }, (_, i) => `y${i + 1}`).join(' ');
  const pieces = segmentScript(`${run}.`);
  assert.deepEqual(pieces.map(wordUnits), [40, 40, 10]);
  assert.deepEqual(words(pieces), words(`${run}.`));
});

test('scenes: CJK sentences join without spaces; an unspaced run is cut by characters', () => {
  assert.deepEqual(segmentScript('今日は晴れです。明日は雨ですか？はい！'), ['今日は晴れです。明日は雨ですか？はい！']);
  const pieces = segmentScript('あ'.repeat(100));
  assert.deepEqual(pieces.map((p) => [...p].length), [80, 20]);
  assert.equal(pieces.join(''), 'あ'.repeat(100));
});

test('clean: emoji, ZWJ families, flags, variation selectors and keycaps removed, flagged', () => {
  assert.deepEqual(cleanText('Family 👨‍👩‍👧 trip to 🇫🇷 under the ☀️ sun! Keycap 1️⃣ here.'), {
    text: 'Family trip to under the sun! Keycap 1 here.',
    removedEmoji: true,
  });
  assert.deepEqual(cleanText('Rocket 🚀!'), { text: 'Rocket!', removedEmoji: true });
  const out = cleanText('👨‍👩‍👧🇫🇷☀️🎒');
  assert.deepEqual(out, { text: '', removedEmoji: true });
});

test('clean: plain text only has its whitespace tidied, and says nothing was removed', () => {
  assert.deepEqual(cleanText('  Plain   text ,  with\tspaces .\n  next line  '), { text: 'Plain text, with spaces.\nnext line', removedEmoji: false });
  assert.deepEqual(cleanText('Crème brûlée — 3.5 € · 東京 · مرحبا'), { text: 'Crème brûlée — 3.5 € · 東京 · مرحبا', removedEmoji: false });
});

test('©, ® and ™ are text, not emoji: they stay and raise no note', () => {
  assert.deepEqual(cleanText('Solaris™ © 2025 ®'), { text: 'Solaris™ © 2025 ®', removedEmoji: false });
});
