import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../contract/errors.js';
import type { Storyboard } from '../contract/storyboard.js';
import { applyManifestEdit, consistencyMarkers, toManifest } from './manifest.js';

const board = (): Storyboard => ({
  title: 'Lumina',
  language: 'en',
  mood: 'calm',
  style: 'soft morning light',
  sfxCues: [],
  notes: [],
  scenes: [
    { id: 's1', narration: 'Meet Lumina, the solar desk lamp.', title: 'Lumina', visual: { type: 'gradient', colors: ['#0f172a', '#1e3a8a'] }, keywords: ['lamp'], prompt: 'a lamp on a desk', sfx: [] },
    { id: 's2', narration: 'It charges by day and glows all evening.', visual: { type: 'color', color: '#111111' }, keywords: [], sfx: ['whoosh'] },
    { id: 's3', narration: 'Lumina. Light that follows the sun.', visual: { type: 'image', src: 'lamp.png', motion: 'zoom-out' }, keywords: [], sfx: [] },
  ],
});

test('the manifest reads the storyboard: narration as scenes, prompts as shots, camera moves, the planned length', () => {
  const m = toManifest(board(), 15);
  assert.deepEqual(m.scenes, board().scenes.map((s) => s.narration));
  assert.deepEqual(m.shot_list, ['a lamp on a desk', 'plain #111111 background', 'image lamp.png']);
  assert.deepEqual(m.camera_movements, ['auto', 'none', 'zoom-out']);
  assert.equal(m.audio_style, 'calm', 'with no music direction, the mood');
  assert.equal(m.duration, 15, 'narration-sized scenes stretch to the target, as the timeline would');
  assert.equal(consistencyMarkers(board(), { voice: 'en-us', aspectRatio: '16:9' }).voice, 'en-us');
});

test('an edit of duration scales the scenes to exactly that total; audio_style sets the style and a mood it names', () => {
  const { storyboard, changes, notes } = applyManifestEdit(board(), { duration: 12, audio_style: 'upbeat' }, 15);
  const total = storyboard.scenes.reduce((s, scene) => s + (scene.durationSec ?? 0), 0);
  assert.ok(Math.abs(total - 12) < 1e-9, `total ${total}`);
  assert.equal(toManifest(storyboard, 15).duration, 12);
  assert.equal(storyboard.musicStyle, 'upbeat');
  assert.equal(storyboard.mood, 'uplifting');
  assert.deepEqual(changes.duration, { old: 15, new: 12 });
  assert.deepEqual(changes.audio_style, { old: 'calm', new: 'upbeat' });
  assert.deepEqual(notes, [], 'the narration fits 12 s');
  const tight = applyManifestEdit(board(), { duration: 3 }, 15);
  assert.match(tight.notes.join(' '), /narration needs about \d+ s/);
  const style = applyManifestEdit(board(), { audio_style: 'acoustic folk' }).storyboard;
  assert.equal(style.mood, 'calm', 'a style naming no mood keeps the mood');
});

test('scenes add and drop scenes; shots and camera moves apply by index, in words clients use', () => {
  const longer = applyManifestEdit(board(), { scenes: ['One.', 'Two.', 'Three.', 'Four.'], shot_list: ['', '', '', 'a sunset'], camera_movements: ['push in', 'static', 'Pan_Left', 'pull out'] }).storyboard;
  assert.equal(longer.scenes.length, 4);
  assert.equal(longer.scenes[3]?.id, 's4');
  assert.equal(longer.scenes[3]?.narration, 'Four.');
  assert.equal(longer.scenes[3]?.prompt, 'a sunset');
  assert.deepEqual(longer.scenes.map((s) => s.motion), ['zoom-in', 'none', 'pan-left', 'zoom-out']);
  assert.equal(longer.scenes[0]?.id, 's1', 'kept scenes keep their ids (and cached media)');
  const shorter = applyManifestEdit(board(), { scenes: ['Only this.'] }).storyboard;
  assert.deepEqual(shorter.scenes.map((s) => [s.id, s.narration]), [['s1', 'Only this.']]);
});

test('impossible edits are refused naming the field', () => {
  const refused = (edit: Parameters<typeof applyManifestEdit>[1], path: string): void => {
    assert.throws(() => applyManifestEdit(board(), edit), (e: AppError) => e.status === 422 && e.details[0]?.path === path);
  };
  refused({ scenes: [] }, 'scenes');
  refused({ camera_movements: ['barrel roll'] }, 'camera_movements.0');
  refused({ shot_list: ['a', 'b', 'c', 'd'] }, 'shot_list');
  refused({ audio_style: '  ' }, 'audio_style');
});
