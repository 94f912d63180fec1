/**
 * FFmpeg arguments that turn a user's image into a still ready for motion: RGB, the frame's
 * aspect, and an overscan margin so pans and zooms never show an edge.
 */

export interface StillTarget {
  width: number;
  height: number;
  /** cover fills (and crops); contain shows the whole image on a blurred, darkened copy of itself. */
  fit: 'cover' | 'contain';
}

export function buildPrepareStillArgs(src: string, outPath: string, target: StillTarget): string[] {
  const { width: w, height: h } = target;
  const filter =
    target.fit === 'cover'
      ? `scale=${w}:${h}:force_original_aspect_ratio=increase:flags=lanczos,crop=${w}:${h},setsar=1`
      : `split[bg][fg];[bg]scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h},boxblur=20:2,eq=brightness=-0.25[b];` +
        `[fg]scale=${w}:${h}:force_original_aspect_ratio=decrease:flags=lanczos[f];[b][f]overlay=(W-w)/2:(H-h)/2,setsar=1`;
  return ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-i', src, '-frames:v', '1', '-filter_complex', filter, '-pix_fmt', 'rgb24', outPath];
}
