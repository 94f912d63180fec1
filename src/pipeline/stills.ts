/**
 * The thumbnail and the contact sheet: which frames they show, and how the sheet is laid out.
 *
 * Both are taken by qa's one pass over the delivered MP4 (media/args/analysis.ts buildQaPassArgs),
 * which decodes every frame anyway: two more branches of its graph select their frames, and the
 * sheet's are tiled there. Measured on the 30 s 1080p benchmark video, the pass takes as long with
 * them as without (2.38 s either way).
 *
 * Before, each segment was opened again to read its frames: five more FFmpeg processes, 2.3 s of
 * CPU, while the cores were busy encoding. Writing them from each segment's own graph (a `split`
 * into a second, JPEG output) was measured too: with a second output FFmpeg 5.1 no longer hands
 * the frames to x264 without copies, and a segment took 1.8× as long.
 */
import { CONTACT_SHEET_MAX } from '../media/args/final.js';

export interface TimelineShape {
  fps: number;
  totalSec: number;
  scenes: readonly { startSec: number; durationSec: number }[];
}

/**
 * The frames (0-based, of the whole video) to keep: the middle of each scene for the contact sheet,
 * and the thumbnail 1.5 s into the first scene (titles have entered), or the middle of a shorter one.
 */
export function stillFrames(timeline: TimelineShape): { sheet: number[]; thumbnail: number } {
  const last = Math.max(0, Math.round(timeline.totalSec * timeline.fps) - 1);
  const frameAt = (sec: number): number => Math.max(0, Math.min(last, Math.round(sec * timeline.fps)));
  const first = timeline.scenes[0];
  return {
    sheet: timeline.scenes.map((scene) => frameAt(scene.startSec + scene.durationSec / 2)),
    thumbnail: frameAt(Math.min(1.5, (first?.durationSec ?? 0) / 2)),
  };
}

/**
 * The contact sheet's layout: one still per scene, at most CONTACT_SHEET_MAX of them evenly spread;
 * cells of the video's shape, 320 px on the long side, in a grid that is wider than tall for
 * portrait videos.
 */
export function contactSheet<T>(stills: readonly T[], frame: { width: number; height: number }): {
  frames: T[];
  cell: { width: number; height: number };
  columns: number;
} {
  const step = stills.length / Math.min(stills.length, CONTACT_SHEET_MAX);
  const frames = stills.length <= CONTACT_SHEET_MAX ? [...stills] : Array.from({ length: CONTACT_SHEET_MAX }, (_, k) => stills[Math.floor(k * step)] as T);
  const even = (n: number): number => 2 * Math.round(n / 2);
  const long = Math.max(frame.width, frame.height);
  const cell = { width: even((320 * frame.width) / long), height: even((320 * frame.height) / long) };
  const portrait = frame.height > frame.width;
  const columns = Math.min(frames.length, portrait ? 6 : 4);
  return { frames, cell, columns };
}
