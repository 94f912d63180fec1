/**
 * compose: the deliverables. The MP4 is the visualize segments joined by stream copy with the mix
 * encoded once to AAC; webm (a second, VP9 encode), audio-only, a GIF preview and the thumbnail
 * are derived from it only when asked for. Captions are written as SRT and VTT.
 */
import { writeFileSync } from 'node:fs';
import { together } from '../../lib/settle.js';
import { join } from 'node:path';
import { AppError } from '../../contract/errors.js';
import {
  buildContactSheetArgs,
  buildGifArgs,
  buildMuxArgs,
  buildThumbnailArgs,
  buildWebmArgs,
  CONTACT_SHEET_MAX,
  concatList,
} from '../../media/args/final.js';
import { KEYFRAME_INTERVAL_SEC } from '../../media/args/segment.js';
import type { Timeline } from '../timeline.js';
import { toSrt, toVtt } from '../captions.js';
import type { Stage } from '../context.js';

export interface OutputFile {
  name: string;
  kind: string;
  path: string;
  mime: string;
}

export const composeStage: Stage = {
  name: 'compose',
  weight: 7,
  async run(state, ctx) {
    const { brief, timeline, video, mix, captions = [] } = state;
    if (!timeline || !video || !mix) throw new AppError('internal', 'compose needs video segments and a mix');
    const media = ctx.deps.media;
    const run = (args: string[], onSec?: (sec: number) => void, signal = ctx.signal) =>
      media.ffmpeg(args, { signal, onProgress: onSec });
    const keyParts = { segments: video.keys, mix: mix.key, outputs: brief.outputs, totalSec: timeline.totalSec, captions };

    const unit = await ctx.deps.cache.memo('compose', keyParts, async (dir) => {
      const files: OutputFile[] = [];
      const listPath = join(dir, 'segments.txt');
      writeFileSync(listPath, concatList(video.segments));
      const mp4 = join(dir, 'video.mp4');
      const thumb = join(dir, 'thumbnail.jpg');
      const sheet = join(dir, 'contact-sheet.jpg');
      const first = timeline.scenes[0];
      const contact = contactSheet(timeline, video.segments, brief);
      // The thumbnail and the contact sheet come from the segments (the same pixels), while the MP4
      // is being joined; if one fails the others are stopped, and the stage fails once all have.
      await together(ctx.signal, (signal) => [
        run(buildMuxArgs(listPath, mix.aacPath, timeline.totalSec, mp4), (sec) => ctx.progress((0.6 * sec) / timeline.totalSec, 'mp4'), signal),
        run(buildThumbnailArgs(video.segments[0] ?? mp4, thumbnailAt(first?.durationSec ?? 1, timeline.scenes.length > 1 ? timeline.transitionSec : 0), thumb), undefined, signal),
        run(buildContactSheetArgs(contact.frames, contact.cell, contact.columns, sheet), undefined, signal),
      ]);
      files.push({ name: 'video.mp4', kind: 'mp4', path: mp4, mime: 'video/mp4' });
      files.push({ name: 'thumbnail.jpg', kind: 'thumbnail', path: thumb, mime: 'image/jpeg' });
      files.push({ name: 'contact-sheet.jpg', kind: 'contact-sheet', path: sheet, mime: 'image/jpeg' });

      if (captions.length > 0) {
        const srt = join(dir, 'captions.srt');
        const vtt = join(dir, 'captions.vtt');
        writeFileSync(srt, toSrt(captions));
        writeFileSync(vtt, toVtt(captions));
        files.push({ name: 'captions.srt', kind: 'srt', path: srt, mime: 'application/x-subrip' });
        files.push({ name: 'captions.vtt', kind: 'vtt', path: vtt, mime: 'text/vtt' });
      }
      if (brief.outputs.includes('audio')) {
        files.push({ name: 'audio.m4a', kind: 'audio', path: mix.aacPath, mime: 'audio/mp4' });
      }
      if (brief.outputs.includes('gif')) {
        const gif = join(dir, 'preview.gif');
        const width = Math.min(480, brief.width);
        await run(buildGifArgs(mp4, gif, { seconds: Math.min(6, timeline.totalSec), width, fps: 10, palette: media.caps.filters.palettegen }));
        files.push({ name: 'preview.gif', kind: 'gif', path: gif, mime: 'image/gif' });
      }
      if (brief.outputs.includes('webm')) {
        const webm = join(dir, 'video.webm');
        await run(buildWebmArgs(mp4, mix.path, webm, media.encode.threads), (sec) =>
          ctx.progress(0.6 + (0.4 * sec) / timeline.totalSec, 'webm'),
        );
        files.push({ name: 'video.webm', kind: 'webm', path: webm, mime: 'video/webm' });
      }
      return files;
      // audio.m4a lives in the mix unit: stored by reference, it is given back as this call's path
      // into that unit, so a cache mounted at another path still works.
    }, { signal: ctx.signal, note: (m) => ctx.note(m), refs: { 'mix:final.m4a': mix.aacPath } });
    ctx.unit(unit.hit);
    ctx.progress(1);
    ctx.record('ffmpeg-compose@1', { outputs: unit.value.length });
    return { outputs: unit.value, outputsKey: unit.key };
  },
};

/**
 * The segment keyframe (a multiple of KEYFRAME_INTERVAL_SEC) nearest to `sec` within [lo, hi], or
 * `sec` itself when the window holds none. Reading a keyframe decodes one frame; a time between
 * keyframes decodes every frame since the last one (a contact sheet of five 1080p scenes: 1.2 s
 * against 0.8 s).
 */
export function keyframeNear(sec: number, lo: number, hi: number): number {
  const candidates = [Math.floor(sec / KEYFRAME_INTERVAL_SEC), Math.ceil(sec / KEYFRAME_INTERVAL_SEC)].map((k) => k * KEYFRAME_INTERVAL_SEC).filter((t) => t >= lo && t <= hi);
  if (candidates.length === 0) return sec;
  return candidates.reduce((best, t) => (Math.abs(t - sec) < Math.abs(best - sec) ? t : best));
}

/**
 * The thumbnail's time in the first scene: 1.5 s in (titles have entered), or its middle when it is
 * shorter than 3 s, moved to a keyframe within a second after it when the scene holds one.
 */
export function thumbnailAt(firstSceneSec: number, transitionOutSec: number): number {
  const at = Math.min(1.5, firstSceneSec / 2);
  return keyframeNear(at, at, Math.min(at + 1, firstSceneSec - transitionOutSec / 2 - 0.2));
}

/**
 * What the contact sheet shows: a frame near the middle of each scene (a keyframe within a second of
 * it when there is one), read from its own segment (a
 * segment after the first opens half a transition before its scene), at most CONTACT_SHEET_MAX of
 * them evenly spread; cells of the video's shape, 320 px on the long side, in a grid that is wider
 * than tall for portrait videos.
 */
export function contactSheet(timeline: { transitionSec: number; scenes: readonly Pick<Timeline['scenes'][number], 'durationSec'>[] }, segments: readonly string[], frame: { width: number; height: number }): {
  frames: { path: string; atSec: number }[];
  cell: { width: number; height: number };
  columns: number;
} {
  const all = timeline.scenes.map((scene, i) => {
    const opening = i > 0 ? timeline.transitionSec : 0;
    const middle = scene.durationSec / 2 + opening / 2;
    // The segment runs from its opening transition to half a transition before the scene's end.
    const end = scene.durationSec + opening / 2 - (i < timeline.scenes.length - 1 ? timeline.transitionSec / 2 : 0);
    return { path: segments[i] ?? '', atSec: keyframeNear(middle, Math.max(opening, middle - 1), Math.min(end - 0.2, middle + 1)) };
  });
  const step = all.length / Math.min(all.length, CONTACT_SHEET_MAX);
  const frames = all.length <= CONTACT_SHEET_MAX ? all : Array.from({ length: CONTACT_SHEET_MAX }, (_, k) => all[Math.floor(k * step)] as (typeof all)[number]);
  const even = (n: number): number => 2 * Math.round(n / 2);
  const long = Math.max(frame.width, frame.height);
  const cell = { width: even((320 * frame.width) / long), height: even((320 * frame.height) / long) };
  const portrait = frame.height > frame.width;
  const columns = Math.min(frames.length, portrait ? 6 : 4);
  return { frames, cell, columns };
}
