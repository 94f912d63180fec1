/**
 * The original API's production manifest (its CreativeDirector's plan) as a view of the
 * storyboard, and its field-level edits (PATCH /job/{id}/manifest) as storyboard edits.
 *
 * | manifest field     | storyboard                                                             |
 * |--------------------|------------------------------------------------------------------------|
 * | scenes: [str]      | each scene's narration; a longer list adds scenes, a shorter one drops |
 * | shot_list: [str]   | what each scene shows: its picture prompt (what a provider is asked)   |
 * | camera_movements   | each scene's camera movement: zoom-in, zoom-out, pan-left, pan-right,  |
 * |   : [str]          |   none (also "push in", "pull out", "static" …)                        |
 * | duration: int      | scene lengths, scaled to sum to it (a narration longer than its scene  |
 * |                    |   still lengthens it at render)                                        |
 * | audio_style: str   | the music direction (musicStyle), and the mood when it names one       |
 *
 * The consistency markers (look, mood, language, voice, frame, seed, brand) keep the scenes of a
 * video alike; they are read-only here, as they were in the original.
 */
import type { Mood } from '../contract/brief.js';
import { IMAGE_MOTIONS } from '../contract/brief.js';
import { AppError } from '../contract/errors.js';
import type { Storyboard, StoryboardChanges } from '../contract/storyboard.js';
import { ESTIMATED_CHARS_PER_SEC } from '../pipeline/estimate.js';
import { buildTimeline } from '../pipeline/timeline.js';
import { moodOf } from './request.js';

export const EDITABLE_FIELDS = ['shot_list', 'scenes', 'duration', 'audio_style', 'camera_movements'] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];
export const LOCKED_FIELDS = ['consistency_markers'] as const;

export interface Manifest {
  title: string;
  duration: number;
  language: string;
  mood: Mood;
  audio_style: string;
  visual_style: string | null;
  scenes: string[];
  shot_list: string[];
  camera_movements: string[];
  scene_details: { id: string; narration: string; title: string | null; visual: unknown; duration_sec: number | null; keywords: string[]; sfx: string[] }[];
  notes: string[];
}

/** The brief fields the markers are read from (its resolved or stored form). */
export interface MarkerSource {
  language?: unknown;
  voice?: unknown;
  aspectRatio?: unknown;
  resolution?: unknown;
  fps?: unknown;
  seed?: unknown;
  brand?: unknown;
  preset?: unknown;
}

/** What a scene shows, in words: its prompt, or a description of its background. */
function shotOf(scene: Storyboard['scenes'][number]): string {
  if (scene.prompt) return scene.prompt;
  const v = scene.visual;
  switch (v.type) {
    case 'color':
      return `plain ${v.color} background`;
    case 'gradient':
      return `gradient of ${v.colors.join(', ')}`;
    case 'image':
      return `image ${v.src}`;
    case 'video':
      return `video ${v.src}`;
  }
}

/** Seconds the storyboard plans: the scenes' own lengths when all have one, else as the timeline would size them from estimated speech. */
export function plannedSeconds(storyboard: Storyboard, targetSec?: number): number {
  if (storyboard.scenes.every((s) => s.durationSec !== undefined)) return storyboard.scenes.reduce((sum, s) => sum + (s.durationSec ?? 0), 0);
  const speech = new Map(storyboard.scenes.map((s) => [s.id, s.narration.trim().length / ESTIMATED_CHARS_PER_SEC] as const));
  return buildTimeline(storyboard, speech, { fps: 30, targetDurationSec: targetSec }).totalSec;
}

export function toManifest(storyboard: Storyboard, targetSec?: number): Manifest {
  return {
    title: storyboard.title,
    duration: Math.round(plannedSeconds(storyboard, targetSec)),
    language: storyboard.language,
    mood: storyboard.mood,
    audio_style: storyboard.musicStyle ?? storyboard.mood,
    visual_style: storyboard.style ?? null,
    scenes: storyboard.scenes.map((s) => s.narration),
    shot_list: storyboard.scenes.map(shotOf),
    camera_movements: storyboard.scenes.map((s) => s.motion ?? (s.visual.type === 'image' ? (s.visual.motion ?? 'auto') : s.visual.type === 'gradient' || s.prompt ? 'auto' : 'none')),
    scene_details: storyboard.scenes.map((s) => ({
      id: s.id,
      narration: s.narration,
      title: s.title ?? null,
      visual: s.visual,
      duration_sec: s.durationSec ?? null,
      keywords: s.keywords,
      sfx: s.sfx,
    })),
    notes: storyboard.notes,
  };
}

/** The read-only markers that keep a video's scenes consistent. */
export function consistencyMarkers(storyboard: Storyboard, brief: MarkerSource): Record<string, unknown> {
  return {
    visual_style: storyboard.style ?? null,
    mood: storyboard.mood,
    language: storyboard.language,
    voice: typeof brief.voice === 'string' ? brief.voice : 'default',
    aspect_ratio: brief.aspectRatio ?? null,
    resolution: brief.resolution ?? null,
    fps: brief.fps ?? null,
    seed: brief.seed ?? 1,
    brand: brief.brand ?? null,
    scene_ids: storyboard.scenes.map((s) => s.id),
  };
}

/** Words clients use for camera movements, and the movement each means. */
const CAMERA_WORDS: Record<string, (typeof IMAGE_MOTIONS)[number]> = {
  'zoom-in': 'zoom-in', 'zoom in': 'zoom-in', 'push in': 'zoom-in', 'push-in': 'zoom-in', 'dolly in': 'zoom-in', zoom: 'zoom-in',
  'zoom-out': 'zoom-out', 'zoom out': 'zoom-out', 'pull out': 'zoom-out', 'pull back': 'zoom-out', 'dolly out': 'zoom-out',
  'pan-left': 'pan-left', 'pan left': 'pan-left', 'truck left': 'pan-left',
  'pan-right': 'pan-right', 'pan right': 'pan-right', 'truck right': 'pan-right', pan: 'pan-right', tracking: 'pan-right',
  none: 'none', static: 'none', still: 'none', locked: 'none', 'locked off': 'none',
};

export interface ManifestEdit {
  shot_list?: string[];
  scenes?: string[];
  duration?: number;
  audio_style?: string;
  camera_movements?: string[];
}

function refuse(field: string, message: string): AppError {
  return new AppError('invalid_request', `${field}: ${message}`, { status: 422, details: [{ path: field, message }] });
}

/**
 * Applies an edit of the manifest's editable fields to a storyboard. Returns the new storyboard
 * and the changes as the original recorded them: `{ field: { old, new } }` in manifest terms.
 * Scenes are applied first, so a shot list or camera list may speak of scenes the edit added.
 */
export function applyManifestEdit(storyboard: Storyboard, edit: ManifestEdit, targetSec?: number): { storyboard: Storyboard; changes: StoryboardChanges; notes: string[] } {
  const before = toManifest(storyboard, targetSec);
  let scenes = storyboard.scenes.map((s) => ({ ...s }));
  const notes: string[] = [];
  if (edit.scenes) {
    if (edit.scenes.length === 0) throw refuse('scenes', 'give at least one scene');
    const last = scenes[scenes.length - 1] as Storyboard['scenes'][number];
    const used = new Set(scenes.map((s) => s.id));
    const freshId = (): string => {
      let n = scenes.length + 1;
      while (used.has(`s${n}`)) n++;
      used.add(`s${n}`);
      return `s${n}`;
    };
    scenes = edit.scenes.map((narration, i) => {
      const kept = scenes[i];
      if (kept) return { ...kept, narration };
      // A new scene looks like the last one, with its own id so its cached media are its own.
      const { title: _t, durationSec: _d, ...rest } = last;
      return { ...rest, id: freshId(), narration, keywords: [], sfx: [] };
    });
  }
  const perScene = (field: 'shot_list' | 'camera_movements', list: string[] | undefined, apply: (scene: (typeof scenes)[number], value: string, i: number) => void): void => {
    if (!list) return;
    if (list.length > scenes.length) throw refuse(field, `${list.length} entries for ${scenes.length} scenes; give one per scene (or fewer: the rest stay)`);
    list.forEach((value, i) => apply(scenes[i] as (typeof scenes)[number], value, i));
  };
  perScene('shot_list', edit.shot_list, (scene, value) => {
    scene.prompt = value.slice(0, 2000);
  });
  perScene('camera_movements', edit.camera_movements, (scene, value, i) => {
    const motion = CAMERA_WORDS[value.trim().toLowerCase().replace(/_/g, '-')] ?? CAMERA_WORDS[value.trim().toLowerCase().replace(/[-_]/g, ' ')];
    if (!motion) throw refuse(`camera_movements.${i}`, `"${value}" is not a movement; use ${IMAGE_MOTIONS.join(', ')}`);
    scene.motion = motion;
    if (scene.visual.type === 'color' && motion !== 'none') notes.push(`scene ${scene.id} has a plain colour background: its camera movement shows only once it has a picture`);
  });
  let next: Storyboard = { ...storyboard, scenes };
  if (edit.duration !== undefined) {
    const total = plannedSeconds(next, targetSec);
    const scale = edit.duration / (total > 0 ? total : edit.duration);
    const lengths = next.scenes.map((s) => {
      const current = s.durationSec ?? plannedSeconds({ ...next, scenes: [s] });
      return Math.min(600, Math.max(0.5, Math.round(current * scale * 100) / 100));
    });
    // Rounding leaves a remainder of hundredths: the last scene takes it, so the total is exact.
    const drift = Math.round((edit.duration - lengths.reduce((a, b) => a + b, 0)) * 100) / 100;
    lengths[lengths.length - 1] = Math.max(0.5, Math.round(((lengths[lengths.length - 1] ?? 0) + drift) * 100) / 100);
    next = { ...next, scenes: next.scenes.map((s, i) => ({ ...s, durationSec: lengths[i] })) };
    const speechSec = next.scenes.reduce((sum, s) => sum + s.narration.trim().length / ESTIMATED_CHARS_PER_SEC, 0);
    if (speechSec > edit.duration) notes.push(`the narration needs about ${Math.round(speechSec)} s: scenes shorter than their narration are lengthened at render`);
  }
  if (edit.audio_style !== undefined) {
    const style = edit.audio_style.trim();
    if (style === '') throw refuse('audio_style', 'describe the music, e.g. "upbeat acoustic"');
    const mood = moodOf(style);
    next = { ...next, musicStyle: style.slice(0, 200), ...(mood ? { mood } : {}) };
  }
  const after = toManifest(next, targetSec);
  const changes: StoryboardChanges = {};
  for (const field of EDITABLE_FIELDS) {
    if (edit[field] !== undefined) changes[field] = { old: before[field], new: after[field] };
  }
  // The original reports what it was sent: a duration reads back as asked, not re-rounded.
  if (edit.duration !== undefined) changes.duration = { old: before.duration, new: edit.duration };
  return { storyboard: next, changes, notes };
}
