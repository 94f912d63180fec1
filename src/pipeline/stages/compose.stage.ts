/**
 * compose: the deliverables. The MP4 is the visualize segments joined by stream copy with the mix
 * encoded once to AAC; webm (a second, VP9 encode), audio-only and a GIF preview are derived from
 * the MP4 only when asked for. Captions are written as SRT and VTT. The thumbnail and the contact
 * sheet are taken by qa's pass over the MP4, which decodes every frame anyway (pipeline/stills.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../contract/errors.js';
import {
  buildGifArgs,
  buildMuxArgs,
  buildWebmArgs,
  concatList,
} from '../../media/args/final.js';
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
    // v 2: the thumbnail and the contact sheet are no longer in this unit (qa makes them, stills.ts).
    const keyParts = { v: 2, segments: video.keys, mix: mix.key, outputs: brief.outputs, totalSec: timeline.totalSec, captions };

    const unit = await ctx.deps.cache.memo('compose', keyParts, async (dir) => {
      const files: OutputFile[] = [];
      const listPath = join(dir, 'segments.txt');
      writeFileSync(listPath, concatList(video.segments));
      const mp4 = join(dir, 'video.mp4');
      await run(buildMuxArgs(listPath, mix.aacPath, timeline.totalSec, mp4), (sec) => ctx.progress((0.6 * sec) / timeline.totalSec, 'mp4'));
      files.push({ name: 'video.mp4', kind: 'mp4', path: mp4, mime: 'video/mp4' });

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
