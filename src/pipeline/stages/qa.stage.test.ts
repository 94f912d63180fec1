import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Storyboard, StoryboardScene } from '../../contract/storyboard.js';
import type { ProductionState } from '../context.js';
import type { QaReport } from '../qa/checks.js';
import { briefColors, heldStillScenes, implicatedUnits } from './qa.stage.js';

const scene = (id: string, visual: StoryboardScene['visual'], extra: Partial<StoryboardScene> = {}): StoryboardScene => ({ id, narration: '', visual, keywords: [], sfx: [], ...extra });
const storyboard = (scenes: StoryboardScene[]): Storyboard => ({ title: 't', language: 'en', mood: 'calm', sfxCues: [], scenes, notes: [] });

test('held still: the brief\'s videos and the stills it asked to hold; never colours, gradients or stills AIPROD moves', () => {
  const held = heldStillScenes(
    storyboard([
      scene('color', { type: 'color', color: '#1e3a8a' }),
      scene('gradient', { type: 'gradient', colors: ['#000000', '#ffffff'] }),
      scene('video', { type: 'video', src: 'clip.mp4' }),
      scene('still', { type: 'image', src: 'a.png', motion: 'none' }),
      scene('contain', { type: 'image', src: 'a.png', fit: 'contain' }),
      scene('contain-moved', { type: 'image', src: 'a.png', fit: 'contain', motion: 'zoom-in' }),
      scene('scene-none', { type: 'image', src: 'a.png' }, { motion: 'none' }),
      scene('kenburns', { type: 'image', src: 'a.png' }),
      scene('gradient-none', { type: 'gradient', colors: ['#000000', '#ffffff'] }, { motion: 'none' }),
    ]),
  );
  assert.deepEqual([...held.keys()], ['video', 'still', 'contain', 'scene-none']);
  assert.equal(held.get('video'), "the brief's video");
});

test('held still: provider footage is held, a provider picture only when the scene asks for no motion', () => {
  const held = heldStillScenes(
    storyboard([
      scene('s1', { type: 'color', color: '#111111' }),
      scene('s2', { type: 'color', color: '#111111' }),
      scene('s3', { type: 'color', color: '#111111' }, { motion: 'none' }),
    ]),
    { s1: { provider: 'pexels', kind: 'video' }, s2: { provider: 'pexels', kind: 'image' }, s3: { provider: 'openai', kind: 'image' } },
  );
  assert.deepEqual([...held.entries()], [['s1', 'pexels footage'], ['s3', 'a still picture with motion none']]);
});

test('brief colours: brand colours and the design palette', () => {
  assert.deepEqual(briefColors({ design: { motion: 'smooth', textAnimation: 'fade', titlePosition: 'center', background: 'shapes', illustrations: true } }), []);
  assert.deepEqual(
    briefColors({
      brand: { colors: { primary: '#112233', text: '#ffd700' }, position: 'top-right' },
      design: { motion: 'smooth', textAnimation: 'fade', titlePosition: 'center', background: 'shapes', illustrations: true, palette: { background: '#000000', primary: '#111111', secondary: '#222222', accent: '#333333', text: '#ffffff' } },
    }),
    ['#112233', '#ffd700', '#000000', '#111111', '#222222', '#333333', '#ffffff'],
  );
});

test('a failed design gate spares the segments; a still run implicates them', () => {
  const state = { outputsKey: 'out', mix: { key: 'mix' }, video: { keys: ['seg1', 'seg2'] } } as unknown as ProductionState;
  const report = (failed: string[]): QaReport => ({ passed: false, checks: failed.map((name) => ({ name, hard: true, passed: false, expected: '', measured: '' })) }) as unknown as QaReport;
  const stages = (failed: string[]): string[] => implicatedUnits(state, report(failed)).map((u) => u.stage);
  assert.deepEqual(stages(['text_contrast', 'safe_area', 'caption_overlap']), ['compose', 'mix']);
  assert.deepEqual(stages(['motion']), ['compose', 'mix', 'segment', 'segment']);
});
