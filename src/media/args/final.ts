/**
 * FFmpeg arguments for the deliverables: the MP4 (segments joined by stream copy, with the mixed
 * audio encoded once to AAC), and the extra outputs derived from it.
 */

const QUIET = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error'];
const f3 = (n: number): string => String(Math.round(n * 1000) / 1000);

/** The concat demuxer's list file: one `file '…'` line per segment. */
export function concatList(segmentPaths: readonly string[]): string {
  return segmentPaths.map((p) => `file '${p.replaceAll("'", "'\\''")}'`).join('\n') + '\n';
}

/** Joins the encoded segments and the AAC soundtrack, both by stream copy: nothing is re-encoded. */
export function buildMuxArgs(listPath: string, aacPath: string, totalSec: number, outPath: string): string[] {
  return [
    ...QUIET, '-progress', 'pipe:1', '-nostats',
    '-f', 'concat', '-safe', '0', '-i', listPath,
    '-i', aacPath,
    '-map', '0:v:0', '-map', '1:a:0',
    '-c', 'copy',
    '-t', f3(totalSec),
    '-movflags', '+faststart',
    outPath,
  ];
}

/** VP9 + Opus. A second encode of the picture, made only when webm is asked for. */
export function buildWebmArgs(mp4Path: string, audioPath: string, outPath: string, threads: number): string[] {
  return [
    ...QUIET, '-progress', 'pipe:1', '-nostats',
    '-i', mp4Path, '-i', audioPath,
    '-map', '0:v:0', '-map', '1:a:0',
    '-c:v', 'libvpx-vp9', '-b:v', '0', '-crf', '34', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1',
    '-threads', String(threads),
    '-c:a', 'libopus', '-b:a', '128k',
    outPath,
  ];
}

/** The mixed audio as AAC in an .m4a: the soundtrack of the MP4, and the audio-only output. */
export function buildAudioOnlyArgs(audioPath: string, outPath: string): string[] {
  return [...QUIET, '-i', audioPath, '-c:a', 'aac', '-b:a', '192k', '-movflags', '+faststart', outPath];
}

/** The most scenes a contact sheet shows; a longer video shows that many, evenly spread. */
export const CONTACT_SHEET_MAX = 48;

/** A small looping GIF preview of the first seconds, with a palette made from the clip itself. */
export function buildGifArgs(mp4Path: string, outPath: string, opts: { seconds: number; width: number; fps: number; palette: boolean }): string[] {
  const base = `fps=${opts.fps},scale=${opts.width}:-2:flags=lanczos`;
  const filter = opts.palette ? `${base},split[a][b];[a]palettegen=max_colors=128[p];[b][p]paletteuse=dither=bayer` : base;
  return [...QUIET, '-t', f3(opts.seconds), '-i', mp4Path, '-filter_complex', filter, '-loop', '0', outPath];
}
