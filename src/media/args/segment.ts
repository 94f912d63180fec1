/**
 * FFmpeg arguments for one video segment: a scene, opening with the transition from the previous
 * one. Pure: a plan in, an argument array out (unit tests assert exact arrays).
 *
 * Why segments: the picture is encoded exactly once, in pieces that depend only on their own
 * scene and its predecessor, so a changed scene re-encodes only its segment and the next one, and
 * the final video is the segments joined with stream copy (args/final.ts).
 */
import type { Transition } from '../../contract/brief.js';
import { filterValue } from './escape.js';

/** The FFmpeg `xfade` transition each named transition is drawn with. */
export const XFADE_NAMES: Record<Transition, string> = {
  fade: 'fade',
  dissolve: 'dissolve',
  'fade-black': 'fadeblack',
  'fade-white': 'fadewhite',
  'wipe-left': 'wipeleft',
  'wipe-right': 'wiperight',
  'wipe-up': 'wipeup',
  'wipe-down': 'wipedown',
  'slide-left': 'slideleft',
  'slide-right': 'slideright',
  'slide-up': 'slideup',
  'slide-down': 'slidedown',
  'smooth-left': 'smoothleft',
  'smooth-right': 'smoothright',
  'circle-open': 'circleopen',
  'circle-close': 'circleclose',
  radial: 'radial',
  'zoom-in': 'zoomin',
  pixelize: 'pixelize',
  diagonal: 'diagtl',
  blur: 'hblur',
  squeeze: 'squeezeh',
};

export type Motion = 'zoom-in' | 'zoom-out' | 'pan-left' | 'pan-right' | 'none';

export type Background =
  | { kind: 'color'; color: string }
  /** A prepared still, larger than the frame by `overscan`, moved by `motion`. */
  | { kind: 'still'; path: string; motion: Motion }
  | { kind: 'video'; path: string; startSec: number };

export interface TextLayer {
  textFile: string;
  fontFile: string;
  fontSize: number;
  /** 0xRRGGBB */
  color: string;
  /** drawtext position expressions (at rest, after the entrance). */
  x: string;
  y: string;
  /** Visible window in the layer's clock (scene-local for titles, segment-relative for captions). */
  fromSec: number;
  toSec: number;
  fadeInSec: number;
  /** A fade to nothing that ends at `toSec`; absent or 0: the layer is cut at `toSec`. */
  fadeOutSec?: number;
  /**
   * A movement into the resting position over `sec` from `fromSec`, eased out (cubic): from `px`
   * lower (slide-up) or further right (slide-left), or from `px` percent of the size smaller
   * (scale: drawtext's fontsize is an expression of `t` in FFmpeg 5.1; x should then centre on
   * `text_w`; y, given as a baseline less `ascent`, is raised so the line's middle stays in place).
   */
  enter?: { kind: 'slide-up' | 'slide-left' | 'scale'; sec: number; px: number };
  box: boolean;
  /** The box's colour, 0xRRGGBB@alpha (default 0x000000@0.6), and its margin (default 35 % of the size). */
  boxColor?: string;
  boxPx?: number;
  borderPx: number;
  /** The outline's colour, 0xRRGGBB@alpha (default 0x000000@0.85: dark text takes a light one). */
  borderColor?: string;
  /** The text file holds drawtext expansions (a counter's %{eif:…}); everything else is drawn as written. */
  expand?: boolean;
}

/**
 * An image over the background — a picture-in-picture, one of several images, an icon, a shape —
 * prepared once (sized, with alpha) and animated here. Times are in the scene's clock.
 */
export interface ImageLayer {
  path: string;
  /** overlay position expressions; `t` is the scene's clock (the offset is applied here). */
  x: string;
  y: string;
  fromSec: number;
  toSec: number;
  fadeInSec: number;
  fadeOutSec: number;
}

export interface SceneLayers {
  background: Background;
  /** Drawn over the background in order, under the titles. */
  images?: ImageLayer[];
  /**
   * The title, one layer per line: drawtext in FFmpeg 5.1 cannot align lines, so each line is its
   * own layer, centred on its own width.
   */
  titles?: TextLayer[];
  /** Length of the scene's motion (its slot plus the transitions at its edges). */
  motionSec: number;
}

export interface SceneRange {
  scene: SceneLayers;
  /** Scene-local time of the range's first frame; negative inside an incoming transition. */
  localStartSec: number;
  frames: number;
}

export interface SegmentPlan {
  width: number;
  height: number;
  fps: number;
  /** The segment's scene. */
  scene: SceneRange;
  /** The end of the previous scene, blended into this one's start by `transition`. */
  incoming?: SceneRange;
  transition: 'xfade' | 'dip' | 'none';
  /** With `xfade`: the FFmpeg transition to draw (XFADE_NAMES); default fade. */
  xfade?: string;
  captions: TextLayer[];
  logo?: { path: string; widthPx: number; x: string; y: string };
  encode: { preset: string; crf: number; threads: number };
  outPath: string;
}

const f3 = (n: number): string => String(Math.round(n * 1000) / 1000);

/**
 * A segment has a keyframe every this many seconds from its start (x264's `-g`, scene cuts off):
 * a player seeking into the joined MP4 finds one within this much of any time.
 */
export const KEYFRAME_INTERVAL_SEC = 2;

/** Stills are brought to this much larger than the frame: the room a pan or zoom moves in. */
export const OVERSCAN = 1.2;
export const overscanSize = (width: number, height: number): { width: number; height: number } => ({
  width: 2 * Math.round((width * OVERSCAN) / 2),
  height: 2 * Math.round((height * OVERSCAN) / 2),
});

/** The motion's progress 0..1 as an expression of the chain's own time `tvar`. */
function progress(range: SceneRange, tvar: string): string {
  return `clip((${tvar}+${f3(range.localStartSec)})/${f3(range.scene.motionSec)},0,1)`;
}

function backgroundChain(range: SceneRange, input: number | undefined, plan: SegmentPlan, label: string): string {
  const { width: w, height: h, fps } = plan;
  const { background } = range.scene;
  const n = range.frames;
  switch (background.kind) {
    case 'color':
      // Ended by its frame count, as the other branches are: `d` is rounded to milliseconds, and
      // 14 frames at 30 fps (0.4667 s → d=0.467) made 15, which deadlocked xfade against concat.
      return `color=c=${background.color}:s=${w}x${h}:r=${fps}:d=${f3(n / fps)},format=yuv420p,setsar=1,trim=end_frame=${n}[${label}]`;
    case 'video':
      return (
        `[${input}:v]scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h},fps=${fps},` +
        `format=yuv420p,setsar=1,trim=end_frame=${n},setpts=PTS-STARTPTS[${label}]`
      );
    case 'still': {
      const m = background.motion;
      const big = overscanSize(w, h);
      // Scaled once, before the loop: gradients are drawn small, and a prepared image is a no-op.
      const fit = `scale=${big.width}:${big.height}`;
      if (m === 'zoom-in' || m === 'zoom-out') {
        const p = `clip((on/${fps}+${f3(range.localStartSec)})/${f3(range.scene.motionSec)},0,1)`;
        const z = m === 'zoom-in' ? `1+0.12*${p}` : `1.12-0.12*${p}`;
        return (
          `[${input}:v]${fit},zoompan=z='${z}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=${n}:s=${w}x${h}:fps=${fps},` +
          `format=yuv420p,setsar=1[${label}]`
        );
      }
      const p = progress(range, 't');
      const x = m === 'pan-left' ? `(iw-ow)*(1-${p})` : m === 'pan-right' ? `(iw-ow)*${p}` : '(iw-ow)/2';
      const y = m === 'none' ? '(ih-oh)/2' : `(ih-oh)*(0.35+0.3*${p})`;
      return (
        `[${input}:v]${fit},format=yuv420p,loop=loop=${n - 1}:size=1:start=0,settb=1/${fps},setpts=N,` +
        `crop=${w}:${h}:x='${x}':y='${y}',setsar=1[${label}]`
      );
    }
  }
}

/** A drawtext filter; `offsetSec` maps the chain's time to the layer's clock. */
export function drawtext(layer: TextLayer, offsetSec = 0): string {
  const t = offsetSec === 0 ? 't' : `(t+${f3(offsetSec)})`;
  const fades: string[] = [];
  if (layer.fadeInSec > 0) fades.push(`clip((${t}-${f3(layer.fromSec)})/${f3(layer.fadeInSec)},0,1)`);
  if (layer.fadeOutSec && layer.fadeOutSec > 0) fades.push(`clip((${f3(layer.toSec)}-${t})/${f3(layer.fadeOutSec)},0,1)`);
  const alpha = fades.length === 0 ? '1' : fades.length === 1 ? fades[0] : `min(${fades.join(',')})`;
  let { x, y } = layer;
  let fontSize = String(layer.fontSize);
  const enter = layer.enter;
  if (enter && enter.sec > 0) {
    // The distance still to go, eased out: (1-p)^3 with p the entrance's progress 0..1.
    const rest = `pow(1-clip((${t}-${f3(layer.fromSec)})/${f3(enter.sec)},0,1),3)`;
    if (enter.kind === 'slide-up') y = `${y}+${enter.px}*${rest}`;
    else if (enter.kind === 'slide-left') x = `${x}+${enter.px}*${rest}`;
    else {
      const shrink = f3(enter.px / 100);
      fontSize = `'${layer.fontSize}*(1-${shrink}*${rest})'`;
      y = `${y}-${f3(layer.fontSize * 0.35)}*${shrink}*${rest}`;
    }
  }
  const parts = [
    `fontfile=${filterValue(layer.fontFile)}`,
    `textfile=${filterValue(layer.textFile)}`,
    `fontsize=${fontSize}`,
    `fontcolor=${layer.color}`,
    `x='${x}'`,
    `y='${y}'`,
    `line_spacing=${Math.round(layer.fontSize * 0.25)}`,
    `alpha='${alpha}'`,
    // Text is drawn as written: with the default expansion a "%" ("50% off") is a stray escape.
    // A counter's file holds its own %{eif:…} and escapes the rest (text.ts).
    layer.expand ? 'expansion=normal' : 'expansion=none',
    `enable='between(${t},${f3(layer.fromSec)},${f3(layer.toSec)})'`,
  ];
  if (layer.box) parts.push('box=1', `boxcolor=${layer.boxColor ?? '0x000000@0.6'}`, `boxborderw=${layer.boxPx ?? Math.round(layer.fontSize * 0.35)}`);
  if (layer.borderPx > 0) parts.push(`borderw=${layer.borderPx}`, `bordercolor=${layer.borderColor ?? '0x000000@0.85'}`);
  return `drawtext=${parts.join(':')}`;
}

interface Built {
  /** Input options; `count` is the number of `-i` entries so far (the next input's index). */
  inputs: string[];
  count: number;
  graph: string[];
}

function addInput(built: Built, path: string, options: string[] = []): number {
  built.inputs.push(...options, '-i', path);
  return built.count++;
}

function sceneChain(range: SceneRange, plan: SegmentPlan, built: Built, label: string): void {
  const bg = range.scene.background;
  let input: number | undefined;
  if (bg.kind === 'still') {
    // The image demuxer reads at 25 fps unless told; xfade refuses links whose rates differ.
    input = addInput(built, bg.path, ['-framerate', String(plan.fps)]);
  } else if (bg.kind === 'video') {
    const start = Math.max(0, bg.startSec + range.localStartSec);
    // -stream_loop makes a short clip repeat instead of ending early.
    input = addInput(built, bg.path, ['-stream_loop', '-1', '-ss', f3(start)]);
  }
  const titles = range.scene.titles ?? [];
  const images = range.scene.images ?? [];
  let current = titles.length + images.length > 0 ? `${label}bg` : label;
  built.graph.push(backgroundChain(range, input, plan, current));
  images.forEach((image, i) => {
    // Decoded once and repeated by the graph's `loop`: the image demuxer's `-loop 1` decodes the PNG
    // again for every frame, which measured as 40 % of a 1080p segment's CPU with one icon.
    const index = addInput(built, image.path);
    const next = `${label}i${i}`;
    built.graph.push(imageChain(image, index, range, plan, `${label}im${i}`), `[${current}][${label}im${i}]${overlay(image, range.localStartSec)}[${next}]`);
    current = next;
  });
  if (titles.length > 0) built.graph.push(`[${current}]${titles.map((t) => drawtext(t, range.localStartSec)).join(',')}[${label}]`);
  else if (current !== label) built.graph.push(`[${current}]null[${label}]`);
}

/** A still looped for the range's frames with its alpha fades, timed in the chain's clock (scene time minus the range's start). */
function imageChain(image: ImageLayer, input: number, range: SceneRange, plan: SegmentPlan, label: string): string {
  const shift = range.localStartSec;
  const fades: string[] = [];
  if (image.fadeInSec > 0) fades.push(`fade=t=in:st=${f3(Math.max(0, image.fromSec - shift))}:d=${f3(image.fadeInSec)}:alpha=1`);
  if (image.fadeOutSec > 0) fades.push(`fade=t=out:st=${f3(Math.max(0, image.toSec - image.fadeOutSec - shift))}:d=${f3(image.fadeOutSec)}:alpha=1`);
  return `[${input}:v]format=rgba,loop=loop=${range.frames - 1}:size=1:start=0,settb=1/${plan.fps},setpts=N,${[...fades, 'null'].join(',')}[${label}]`;
}

/** An overlay filter whose x/y see the layer's clock as `t`. */
export function overlay(image: ImageLayer, offsetSec = 0): string {
  const t = offsetSec === 0 ? 't' : `(t+${f3(offsetSec)})`;
  const expr = (e: string): string => `'${e.replace(/\bt\b/g, t)}'`;
  return `overlay=x=${expr(image.x)}:y=${expr(image.y)}:eval=frame:enable='between(${t},${f3(image.fromSec)},${f3(image.toSec)})'`;
}

/** The full argument array for one segment (inputs counted so `-i` pairs index correctly). */
export function buildSegmentArgs(plan: SegmentPlan): string[] {
  const built: Built = { inputs: [], count: 0, graph: [] };
  const incoming = plan.transition === 'none' ? undefined : plan.incoming;
  const frames = plan.scene.frames + (incoming && plan.transition === 'dip' ? incoming.frames : 0);
  let current = 'b';
  if (incoming) {
    sceneChain(incoming, plan, built, 'a');
    sceneChain(plan.scene, plan, built, 'b');
    const fadeSec = f3(incoming.frames / plan.fps);
    if (plan.transition === 'xfade') {
      // Only the first τ frames go through xfade; the rest of the scene is concatenated after it.
      // Sending the whole scene through xfade (and letting it pick its pixel format) measured 70 %
      // slower for a 6-second segment.
      const tau = incoming.frames;
      built.graph.push(
        `[b]split[bh][bt]`,
        `[bh]trim=end_frame=${tau}[bh2]`,
        `[bt]trim=start_frame=${tau},setpts=PTS-STARTPTS[bt2]`,
        `[a][bh2]xfade=transition=${plan.xfade ?? 'fade'}:duration=${fadeSec}:offset=0,format=yuv420p[xh]`,
        '[xh][bt2]concat=n=2:v=1:a=0[x]',
      );
    } else {
      built.graph.push(`[a]fade=t=out:st=0:d=${fadeSec}[ao]`, `[b]fade=t=in:st=0:d=${fadeSec}[bi]`, '[ao][bi]concat=n=2:v=1:a=0[x]');
    }
    current = 'x';
  } else {
    sceneChain(plan.scene, plan, built, 'b');
  }
  const layers = plan.captions.map((c) => drawtext(c));
  if (plan.logo) {
    const index = addInput(built, plan.logo.path);
    built.graph.push(`[${index}:v]scale=${plan.logo.widthPx}:-1,format=rgba[logo]`);
    built.graph.push(`[${current}][logo]overlay=x=${plan.logo.x}:y=${plan.logo.y}[lg]`);
    current = 'lg';
  }
  built.graph.push(`[${current}]${[...layers, 'format=yuv420p'].join(',')}[v]`);

  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-loglevel',
    'error',
    '-progress',
    'pipe:1',
    '-nostats',
    ...built.inputs,
    '-filter_complex',
    built.graph.join(';'),
    '-map',
    '[v]',
    '-an',
    '-frames:v',
    String(frames),
    '-r',
    String(plan.fps),
    '-c:v',
    'libx264',
    '-preset',
    plan.encode.preset,
    '-crf',
    String(plan.encode.crf),
    '-pix_fmt',
    'yuv420p',
    '-profile:v',
    'high',
    '-g',
    String(Math.round(plan.fps * KEYFRAME_INTERVAL_SEC)),
    '-sc_threshold',
    '0',
    '-threads',
    String(plan.encode.threads),
    '-video_track_timescale',
    '90000',
    '-f',
    'mp4',
    plan.outPath,
  ];
}
