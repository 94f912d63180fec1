import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBrief, resolveBrief } from '../../contract/resolve.js';
import type { Storyboard } from '../../contract/storyboard.js';
import { moodFromText, sceneEffects } from './keywords.js';
import { RuleBasedWriter } from './rule-based.adapter.js';

const writer = new RuleBasedWriter();
const plan = (brief: unknown): Promise<Storyboard> => writer.plan(resolveBrief(parseBrief(brief))).then((r) => r.storyboard);
const spoken = (board: Storyboard): string => board.scenes.map((s) => s.narration).join(' ');
const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);

const SOLARIS =
  'A 30-second launch ad for Solaris, a solar-powered backpack that charges your phone on the trail, survives heavy rain and weighs under a kilogram';
const CLAIMS = ['charges your phone on the trail', 'survives heavy rain', 'weighs under a kilogram'];

test('a prompt becomes a titled plan whose narration says the prompt\'s own name, thing and claims', async () => {
  const board = await plan({ prompt: SOLARIS });
  assert.equal(board.title, 'Solaris');
  assert.equal(board.language, 'en');
  assert.equal(board.scenes.length, 7); // 30 s from the prompt itself: round(30 / 4.5)
  assert.deepEqual(board.scenes.map((s) => s.id), ['s1', 's2', 's3', 's4', 's5', 's6', 's7']);
  const text = spoken(board);
  assert.match(text, /Solaris/);
  assert.match(text, /solar-powered backpack/);
  for (const claim of CLAIMS) assert.ok(text.includes(claim), `"${claim}" is narrated`);
  assert.deepEqual(board.scenes.slice(2, 5).map((s) => s.title), ['Charges Your Phone', 'Survives Heavy Rain', 'Weighs Under']);
  assert.equal(board.scenes.at(-1)?.title, 'Solaris');
  for (const s of board.scenes) {
    assert.ok(s.narration.length > 0);
    assert.equal(s.visual.type, 'gradient');
    assert.ok(s.keywords.length > 0);
  }
  assert.deepEqual(board.notes, []);
});

test('the same seed gives the same plan; other seeds vary the wording or the pictures, never the facts', async () => {
  assert.deepEqual(await plan({ prompt: SOLARIS, seed: 7 }), await plan({ prompt: SOLARIS, seed: 7 }));
  const boards = await Promise.all([1, 2, 3, 4, 5, 6].map((seed) => plan({ prompt: SOLARIS, seed })));
  assert.notDeepEqual(boards[0], boards[1]);
  assert.ok(new Set(boards.map((b) => spoken(b))).size > 1, 'the wording varies with the seed');
  assert.ok(new Set(boards.map((b) => JSON.stringify(b.scenes.map((s) => s.visual)))).size > 1, 'the gradients vary with the seed');
  for (const board of boards) {
    assert.equal(board.title, 'Solaris');
    for (const claim of CLAIMS) assert.ok(spoken(board).includes(claim), `seed keeps "${claim}"`);
  }
});

test('the scene count follows the target duration, between 4 and 8, and no claim is dropped', async () => {
  const counts: number[] = [];
  for (const [target, expected] of [[10, 4], [18, 4], [22, 5], [27, 6], [30, 7], [36, 8], [120, 8]] as const) {
    const board = await plan({ prompt: SOLARIS, targetDurationSec: target });
    assert.equal(board.scenes.length, expected, `${target} s`);
    for (const claim of CLAIMS) assert.ok(spoken(board).includes(claim), `${target} s keeps "${claim}"`);
    counts.push(board.scenes.length);
  }
  assert.deepEqual([...counts].sort((a, b) => a - b), counts);
  const short = await plan({ prompt: SOLARIS, targetDurationSec: 10 });
  assert.match(spoken(short), /charges your phone on the trail, survives heavy rain and weighs under a kilogram/);
  // The prompt's own length is used when the brief gives none: a minute, or 20 seconds.
  assert.equal((await plan({ prompt: 'A one-minute ad for Solaris, a backpack that charges your phone, survives rain and floats' })).scenes.length, 8);
  assert.equal((await plan({ prompt: 'A 20-second ad for Solaris, a backpack that charges your phone, survives rain and floats' })).scenes.length, 4);
});

test('a "how X works" prompt becomes an explainer built around the topic\'s words', async () => {
  const asked = await plan({ prompt: 'How heat pumps work' });
  assert.ok(asked.scenes.some((s) => s.narration.includes('wondered how heat pumps work?')), 'a leading "How" is not capitalised mid-sentence');
  const board = await plan({ prompt: 'An explainer about how heat pumps work' });
  assert.equal(board.title, 'How Heat Pumps Work');
  assert.deepEqual(board.scenes.map((s) => s.narration), [
    'Ever wondered how heat pumps work?',
    'Let us break it down, one step at a time.',
    'First, think about the heat.',
    'Next, think about the pumps.',
    'Then, think about the work.',
    'And that is how heat pumps work. Now you know.',
  ]);
  assert.deepEqual(board.scenes.map((s) => s.title), [undefined, 'How Heat Pumps Work', 'Heat', 'Pumps', 'Work', 'How Heat Pumps Work']);
  assert.equal(board.mood, 'uplifting');
});

test('an explainer about a named thing walks through its claims in steps', async () => {
  const board = await plan({ prompt: 'An explainer video about Solaris, a backpack that charges your phone and survives rain', targetDurationSec: 25 });
  const narrations = board.scenes.map((s) => s.narration);
  assert.equal(narrations.length, 6);
  assert.equal(narrations[1], 'Solaris is a backpack.');
  assert.ok(narrations.includes('First, it charges your phone.'));
  assert.ok(narrations.includes('Next, it survives rain.'));
  assert.equal(narrations.at(-1), 'That is Solaris in a nutshell. Now you know.');
});

test('a script is split into scenes, every word kept in order, abbreviations and decimals intact', async () => {
  const script = 'Dr. Smith paid 3.5 dollars. He was happy! Was it worth it? Yes.\n\nA new paragraph starts here. It has two sentences.';
  const board = await plan({ script, title: 'Receipts' });
  assert.deepEqual(board.scenes.map((s) => s.narration), [
    'Dr. Smith paid 3.5 dollars. He was happy! Was it worth it? Yes.',
    'A new paragraph starts here. It has two sentences.',
  ]);
  assert.deepEqual(words(spoken(board)), words(script));
  assert.equal(board.title, 'Receipts');
  assert.equal(board.scenes[0]?.title, 'Receipts');
  assert.equal(board.scenes[1]?.title, undefined);
  assert.deepEqual(board.notes, []);

  const long = Array.from({ length: 30 }, (_, i) => `Line ${i + 1} of the long script goes on.`).join(' ');
  const over = await plan({ script: long, targetDurationSec: 10 });
  assert.deepEqual(words(spoken(over)), words(long));
  assert.ok(over.scenes.length > 1);
  assert.deepEqual(over.notes, ['the script takes about 96 s to speak, longer than the 10 s target; nothing was cut']);
});

test('explicit scenes are completed: ids, keywords and missing visuals filled, given fields kept', async () => {
  const board = await plan({
    scenes: [
      { narration: 'Hello there.', visual: { type: 'color', color: '#112233' }, durationSec: 4, sfx: ['pop'] },
      { title: 'Second' },
      { narration: 'The end of the forest story.' },
    ],
  });
  assert.deepEqual(board.scenes.map((s) => s.id), ['s1', 's2', 's3']);
  const [first, second, third] = board.scenes;
  assert.deepEqual(first?.visual, { type: 'color', color: '#112233' });
  assert.equal(first?.durationSec, 4);
  assert.deepEqual(first?.sfx, ['pop']);
  assert.equal(second?.narration, '');
  assert.equal(second?.title, 'Second');
  assert.equal(second?.visual.type, 'gradient');
  assert.equal(second?.durationSec, undefined);
  assert.deepEqual(third?.sfx, ['whoosh', 'ambience']);
  assert.deepEqual(third?.keywords, ['end', 'forest', 'story']);
  assert.equal(board.mood, 'calm');
});

test('mood: keywords decide, no match falls back, and an explicit music mood wins', async () => {
  assert.equal(moodFromText('a calm walk through the forest by the ocean', 'corporate'), 'calm');
  assert.equal(moodFromText('an epic battle in the storm', 'calm'), 'dramatic');
  assert.equal(moodFromText('FUN at the PARTY', 'calm'), 'playful');
  assert.equal(moodFromText('a plain sentence', 'corporate'), 'corporate');
  // A tie between moods is no evidence for either: the fallback wins.
  assert.equal(moodFromText('calm epic', 'tense'), 'tense');
  assert.equal(moodFromText('a solar product', 'corporate'), 'corporate');
  const garden = 'A video about compost for a calm garden';
  assert.equal((await plan({ prompt: garden })).mood, 'calm');
  assert.equal((await plan({ prompt: garden, music: { mood: 'tense' } })).mood, 'tense');
  assert.equal((await plan({ prompt: garden, music: false })).mood, 'calm');
  // No mood words: an ad falls back to corporate.
  assert.equal((await plan({ prompt: 'A promo for Vela, a kettle that boils water' })).mood, 'corporate');
});

test('brand colours replace the mood palette', async () => {
  const board = await plan({ prompt: SOLARIS, brand: { colors: { primary: '#ff0000', secondary: '#00ff00' } } });
  for (const s of board.scenes) {
    assert.equal(s.visual.type, 'gradient');
    if (s.visual.type === 'gradient') assert.deepEqual([...s.visual.colors].sort(), ['#00ff00', '#ff0000']);
  }
});

test('effects: automatic cues with a whoosh after the first scene, none when off, an explicit list kept as cues', async () => {
  const auto = await plan({ prompt: SOLARIS, sfx: true });
  assert.ok(!auto.scenes[0]?.sfx.includes('whoosh'));
  for (const s of auto.scenes.slice(1)) assert.equal(s.sfx[0], 'whoosh', s.id);
  for (const s of auto.scenes) assert.ok(s.sfx.length <= 2);
  assert.deepEqual(auto.sfxCues, []);
  assert.deepEqual(sceneEffects('Meet the new app', 0), ['click']);
  assert.deepEqual(sceneEffects('Launch day, powered up', 3), ['whoosh', 'riser']);
  assert.deepEqual(sceneEffects('Nothing to hear', 2), ['whoosh']);

  const off = await plan({ prompt: SOLARIS, sfx: false });
  for (const s of off.scenes) assert.deepEqual(s.sfx, []);
  assert.deepEqual(off.sfxCues, []);

  const cues = [{ kind: 'riser' as const, atSec: 1 }, { kind: 'impact' as const, atSec: 4.5, gain: 0.8 }];
  const explicit = await plan({ prompt: SOLARIS, sfx: cues });
  assert.deepEqual(explicit.sfxCues, cues);
  for (const s of explicit.scenes) assert.deepEqual(s.sfx, []);
});

test('emoji are removed from prompts, scripts and scenes, with a note', async () => {
  const prompt = await plan({ prompt: 'A promo for Solaris ☀️, a backpack 🎒 that charges your phone' });
  assert.deepEqual(prompt.notes, ['emoji were removed from the prompt: the voice and caption fonts cannot render them']);
  assert.equal(prompt.title, 'Solaris');
  assert.ok(spoken(prompt).includes('Solaris, a backpack.'));
  assert.doesNotMatch(spoken(prompt), /\p{Extended_Pictographic}/u);

  const script = await plan({ script: 'Family trip 👨‍👩‍👧 to Paris 🇫🇷.' });
  assert.equal(script.scenes[0]?.narration, 'Family trip to Paris.');
  assert.deepEqual(script.notes, ['emoji were removed from the script: the voice and caption fonts cannot render them']);

  const scenes = await plan({ scenes: [{ narration: 'Plain.' }, { title: 'Party 🎉' }] });
  assert.equal(scenes.scenes[1]?.title, 'Party');
  assert.deepEqual(scenes.notes, ['emoji were removed from scene text: the voice and caption fonts cannot render them']);
});

test('a prompt in another language is narrated as written, with a note', async () => {
  const prompt = 'Un anuncio de 30 segundos para Solaris, una mochila solar. Carga tu teléfono.';
  const board = await plan({ prompt, language: 'es' });
  assert.equal(board.language, 'es');
  assert.deepEqual(words(spoken(board)), words(prompt));
  assert.deepEqual(board.notes, ['prompt templates exist only for English; the es prompt is narrated as written']);
  assert.deepEqual((await plan({ prompt: SOLARIS, language: 'en-GB' })).notes, []);
});
