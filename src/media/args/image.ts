/**
 * FFmpeg arguments that turn a user's image into a still ready for motion: RGB, the frame's
 * aspect, and an overscan margin so pans and zooms never show an edge.
 */

export interface StillTarget {
  width: number;
  height: number;
  /** cover fills (and crops); contain shows the whole image on a blurred, darkened copy of itself. */
  fit: 'cover' | 'contain';
  /** Two colours ("#rrggbb") the picture's luma is mapped between: black to `dark`, white to `light`. */
  duotone?: { dark: string; light: string };
}

/**
 * A duotone: the picture's luma (`format=gray`), back in RGB, each channel mapped by `lutrgb` from
 * the dark colour's value at black to the light colour's at white.
 */
export function duotoneFilter(dark: string, light: string): string {
  const channel = (hex: string, i: number): number => Number.parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16);
  const map = (i: number): string => {
    const d = channel(dark, i);
    const span = channel(light, i) - d;
    return `'${d}+val*${Math.round((span / 255) * 10000) / 10000}'`;
  };
  return `format=gray,format=rgb24,lutrgb=r=${map(0)}:g=${map(1)}:b=${map(2)}`;
}

export function buildPrepareStillArgs(src: string, outPath: string, target: StillTarget): string[] {
  const { width: w, height: h } = target;
  const fitted =
    target.fit === 'cover'
      ? `scale=${w}:${h}:force_original_aspect_ratio=increase:flags=lanczos,crop=${w}:${h},setsar=1`
      : `split[bg][fg];[bg]scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h},boxblur=20:2,eq=brightness=-0.25[b];` +
        `[fg]scale=${w}:${h}:force_original_aspect_ratio=decrease:flags=lanczos[f];[b][f]overlay=(W-w)/2:(H-h)/2,setsar=1`;
  const filter = target.duotone ? `${fitted},${duotoneFilter(target.duotone.dark, target.duotone.light)}` : fitted;
  return ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-i', src, '-frames:v', '1', '-filter_complex', filter, '-pix_fmt', 'rgb24', outPath];
}

/** The backdrop of a picture is measured on this many cells a side (media colours for contrast checks). */
export const BACKDROP_GRID = 6;

/**
 * A picture (an image, or a video's frame at `startSec`) averaged into BACKDROP_GRID² cells, as raw
 * RGB bytes: the broad colours text over it will meet.
 */
export function buildBackdropCellsArgs(src: string, outPath: string, startSec = 0): string[] {
  const seek = startSec > 0 ? ['-ss', String(Math.round(startSec * 1000) / 1000)] : [];
  return [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error', ...seek, '-i', src, '-frames:v', '1',
    '-vf', `scale=${BACKDROP_GRID}:${BACKDROP_GRID}:flags=area`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', outPath,
  ];
}

/**
 * An image layer's picture (a picture-in-picture, a grid cell): scaled to cover its cell exactly
 * and centre-cropped, as PNG. Its frame (rounded corners, border, shadow) is drawn around it
 * afterwards (pipeline/visual/decor.ts).
 */
export function buildPrepareLayerArgs(src: string, outPath: string, cell: { width: number; height: number }): string[] {
  const { width: w, height: h } = cell;
  return [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-i', src, '-frames:v', '1',
    '-vf', `scale=${w}:${h}:force_original_aspect_ratio=increase:flags=lanczos,crop=${w}:${h},setsar=1`, '-pix_fmt', 'rgb24', outPath,
  ];
}
