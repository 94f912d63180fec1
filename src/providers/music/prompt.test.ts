import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MOODS } from '../../contract/brief.js';
import { briefLine, MOOD_STYLES, musicPrompt, musicTitle } from './prompt.js';

test('every mood has style words; the prompt asks for an instrumental and carries the brief on one line', () => {
  for (const mood of MOODS) assert.ok(MOOD_STYLES[mood].style && MOOD_STYLES[mood].tags.length <= 180, mood);
  const prompt = musicPrompt({ mood: 'tense', brief: 'Night shift\n\nat the  lighthouse', durationSec: 30, seed: 1 });
  assert.match(prompt, /^Instrumental background music for a video: tense/);
  assert.match(prompt, /No vocals/);
  assert.match(prompt, /The video is about: Night shift at the lighthouse$/);
  assert.doesNotMatch(musicPrompt({ mood: 'calm', durationSec: 5, seed: 1 }), /about/);
});

test('brief lines and titles are cut to their limits', () => {
  assert.equal(briefLine('x'.repeat(500), 300).length, 300);
  assert.ok(briefLine('x'.repeat(500), 300).endsWith('…'));
  assert.equal(musicTitle({ mood: 'playful', durationSec: 5, seed: 1 }), 'Background playful');
  assert.equal(musicTitle({ mood: 'playful', brief: 'a'.repeat(120), durationSec: 5, seed: 1 }).length, 80);
});
