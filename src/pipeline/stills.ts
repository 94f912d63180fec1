/**
 * The thumbnail and the contact sheet: which frames they show, and how the sheet is laid out.
 *
 * Each segment's frames are read back as soon as that segment is encoded, in its own lane of the
 * visualize stage, while the other segments are still encoding (JPEGs beside the segment's MP4,
 * cached with it). compose then copies the thumbnail and tiles the JPEGs. It used to open every
 * segment again after the last one had finished — 1.2 s on the render's critical path for five
 * 1080p scenes, now 0.3 s.
 *
 * Writing the stills from the segment's own filter graph (a `split` into a second, JPEG output)
 * was measured and dropped: with a second output FFmpeg 5.1 no longer hands the frames to x264
 * without copies, and the segment took 1.8× as long (3.6 s against 1.9 s, 114,000 page faults
 * against 24,000).
 */
import { CONTACT_SHEET_MAX } from '../media/args/final.js';
import { KEYFRAME_INTERVAL_SEC } from '../media/args/segment.js';

export interface TimelineShape {
  transitionSec: number;
  scenes: readonly { durationSec: number }[];
}

/**
 * The segment keyframe (a multiple of KEYFRAME_INTERVAL_SEC) nearest to `sec` within [lo, hi], or
 * `sec` itself when the window holds none. Reading a keyframe decodes one frame; a time between
 * keyframes decodes every frame since the last one.
 */
export function keyframeNear(sec: number, lo: number, hi: number): number {
  const candidates = [Math.floor(sec / KEYFRAME_INTERVAL_SEC), Math.ceil(sec / KEYFRAME_INTERVAL_SEC)].map((k) => k * KEYFRAME_INTERVAL_SEC).filter((t) => t >= lo && t <= hi);
  if (candidates.length === 0) return sec;
  return candidates.reduce((best, t) => (Math.abs(t - sec) < Math.abs(best - sec) ? t : best));
}

/**
 * The times (in each scene's own segment) to read: for the contact sheet, a frame near the middle
 * of each scene (a keyframe within a second of it when there is one; a segment after the first
 * opens half a transition before its scene); for the first segment also the thumbnail, 1.5 s in
 * (titles have entered) or the middle of a shorter scene, moved to a keyframe within a second
 * after it when the scene holds one.
 */
export function stillTimes(timeline: TimelineShape): { sheetSec: number; thumbnailSec?: number }[] {
  const last = timeline.scenes.length - 1;
  return timeline.scenes.map((scene, i) => {
    const opening = i > 0 ? timeline.transitionSec : 0;
    const closing = i < last ? timeline.transitionSec : 0;
    const middle = scene.durationSec / 2 + opening / 2;
    // The segment runs from its opening transition to half a transition before the scene's end.
    const end = scene.durationSec + opening / 2 - closing / 2;
    const sheetSec = keyframeNear(middle, Math.max(opening, middle - 1), Math.min(end - 0.2, middle + 1));
    if (i > 0) return { sheetSec };
    const at = Math.min(1.5, scene.durationSec / 2);
    return { sheetSec, thumbnailSec: keyframeNear(at, at, Math.min(at + 1, scene.durationSec - closing / 2 - 0.2)) };
  });
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
