/**
 * Presets and defaults: turns a validated `Brief` into a `ResolvedBrief` where every option has a
 * value. Order of precedence: explicit field > preset > default.
 */
import {
  type AspectRatio,
  type BackgroundStyle,
  type Brief,
  type Design,
  type MotionStyle,
  type Palette,
  type TextAnimation,
  type TitlePosition,
  type Fps,
  type Mood,
  type OutputKind,
  type PresetName,
  type ProviderStageName,
  type QualityTier,
  type TemplateName,
  type Resolution,
  type SceneInput,
  type SfxCue,
  type Transition,
  type Visual,
  briefSchema,
} from './brief.js';
import { AppError } from './errors.js';

export interface Preset {
  name: PresetName;
  description: string;
  options: Partial<Omit<Brief, 'prompt' | 'script' | 'scenes' | 'preset' | 'template' | 'merge'>>;
}

export const PRESETS: Record<PresetName, Preset> = {
  social_vertical: {
    name: 'social_vertical',
    description: 'Reels, Shorts and TikTok: 9:16 1080p30, bold burned-in captions, about 30 s.',
    options: { aspectRatio: '9:16', resolution: '1080p', fps: 30, captions: { burnIn: true, style: 'bold' }, targetDurationSec: 30 },
  },
  youtube_landscape: {
    name: 'youtube_landscape',
    description: 'YouTube and the web: 16:9 1080p30, captions as SRT/VTT files rather than burned in.',
    options: { aspectRatio: '16:9', resolution: '1080p', fps: 30, captions: { burnIn: false, style: 'minimal' }, outputs: ['mp4', 'srt', 'vtt'] },
  },
  square_post: {
    name: 'square_post',
    description: 'Feed posts: 1:1 1080p30, boxed captions, a GIF preview.',
    options: { aspectRatio: '1:1', resolution: '1080p', fps: 30, captions: { burnIn: true, style: 'boxed' }, outputs: ['mp4', 'gif'] },
  },
  story_4x5: {
    name: 'story_4x5',
    description: 'Portrait feed posts: 4:5 1080p30, bold captions.',
    options: { aspectRatio: '4:5', resolution: '1080p', fps: 30, captions: { burnIn: true, style: 'bold' } },
  },
};

export type BriefSource =
  | { kind: 'prompt'; prompt: string }
  | { kind: 'script'; script: string }
  | { kind: 'scenes'; scenes: SceneInput[] };

export interface ResolvedBrief {
  source: BriefSource;
  title?: string;
  language: string;
  voice?: string;
  speechRate: number;
  aspectRatio: AspectRatio;
  resolution: Resolution;
  width: number;
  height: number;
  /** A quick draft: PREVIEW_SHORT_SIDE and the fastest encoder, same timing and layout. */
  preview: boolean;
  fps: Fps;
  targetDurationSec?: number;
  music: false | { mood?: Mood; volume: number; style?: string };
  sfx: boolean | SfxCue[];
  /** `line` is resolved to bold and `box` to boxed. */
  captions: false | { burnIn: boolean; style: ResolvedCaptionStyle };
  mix: { voice: number; music: number; sfx: number; ducking: boolean; loudnessLufs: number; truePeakDb: number };
  brand?: {
    logo?: string;
    colors: { primary?: string; secondary?: string; text?: string };
    font?: string;
    position: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
  };
  outputs: OutputKind[];
  preset?: PresetName;
  /** Cloud spending tier (default standard). */
  quality: QualityTier;
  /** Preferred provider per stage, first in its chain. */
  providers: Partial<Record<ProviderStageName, string>>;
  seed: number;
  /** How scenes give way to each other unless a scene says otherwise. */
  transition: Transition;
  design: ResolvedDesign;
}

export type ResolvedCaptionStyle = 'bold' | 'minimal' | 'boxed' | 'word';

/** The brief's design with its defaults; the palette stays absent when neither design nor template gave one (the mood's is used). */
export interface ResolvedDesign {
  motion: MotionStyle;
  textAnimation: TextAnimation;
  titlePosition: TitlePosition;
  palette?: Palette;
  background: BackgroundStyle;
  illustrations: boolean;
  /** The template whose look this is (the brief's template, or the one picked for its prompt). */
  template?: TemplateName;
}

/** The text animation each motion style uses unless the design names one. */
export const MOTION_TEXT_ANIMATION: Record<MotionStyle, TextAnimation> = {
  calm: 'fade',
  smooth: 'slide-up',
  energetic: 'words',
  punchy: 'scale',
};

export function resolveDesign(design: Design | undefined): ResolvedDesign {
  const motion = design?.motion ?? 'smooth';
  return {
    motion,
    textAnimation: design?.textAnimation ?? MOTION_TEXT_ANIMATION[motion],
    titlePosition: design?.titlePosition ?? 'center',
    ...(design?.palette ? { palette: design.palette } : {}),
    background: design?.background ?? 'shapes',
    illustrations: design?.illustrations ?? true,
    ...(design?.template ? { template: design.template } : {}),
  };
}

const CAPTION_STYLE_ALIASES: Record<NonNullable<Extract<Brief['captions'], object>['style']>, ResolvedCaptionStyle> = {
  bold: 'bold',
  line: 'bold',
  minimal: 'minimal',
  boxed: 'boxed',
  box: 'boxed',
  word: 'word',
};

const SHORT_SIDE: Record<Resolution, number> = { '480p': 480, '720p': 720, '1080p': 1080 };
const RATIO: Record<AspectRatio, [number, number]> = { '16:9': [16, 9], '9:16': [9, 16], '1:1': [1, 1], '4:5': [4, 5] };

/** Frame size for an aspect ratio and resolution; both sides even, as H.264 with yuv420p needs. */
/** The short side of a preview render (`preview: true`, `aiprod render --preview`). */
export const PREVIEW_SHORT_SIDE = 360;

export function frameSize(aspectRatio: AspectRatio, resolution: Resolution | typeof PREVIEW_SHORT_SIDE): { width: number; height: number } {
  const short = typeof resolution === 'number' ? resolution : SHORT_SIDE[resolution];
  const [w, h] = RATIO[aspectRatio];
  const even = (n: number): number => 2 * Math.round(n / 2);
  return w >= h ? { width: even((short * w) / h), height: short } : { width: short, height: even((short * h) / w) };
}

/** Parses untrusted input into a Brief, raising `invalid_brief` with one detail per bad field. */
export function parseBrief(input: unknown): Brief {
  const result = briefSchema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
  const first = details[0];
  throw new AppError(
    'invalid_brief',
    first ? `invalid brief: ${first.path}: ${first.message}` : 'invalid brief',
    { details },
  );
}

export function resolveBrief(brief: Brief): ResolvedBrief {
  // A template brief is expanded into scenes first (expandBriefTemplate in src/design/templates,
  // which contract/ cannot import): resolving it as it stands would render nothing.
  if (brief.template !== undefined) throw new AppError('internal', `the "${brief.template}" template brief was not expanded before it was resolved`);
  const preset = brief.preset ? PRESETS[brief.preset].options : {};
  const pick = <K extends keyof Preset['options']>(key: K): Brief[K] | undefined =>
    (brief[key] ?? preset[key]) as Brief[K] | undefined;

  const aspectRatio = pick('aspectRatio') ?? '16:9';
  const resolution = pick('resolution') ?? '1080p';
  const music = pick('music');
  const captions = pick('captions');
  const mix = pick('mix') ?? {};
  const brand = pick('brand');
  const outputs = pick('outputs') ?? ['mp4'];

  const source: BriefSource =
    brief.prompt !== undefined
      ? { kind: 'prompt', prompt: brief.prompt }
      : brief.script !== undefined
        ? { kind: 'script', script: brief.script }
        : { kind: 'scenes', scenes: brief.scenes ?? [] };

  return {
    source,
    title: pick('title'),
    language: pick('language') ?? 'en',
    voice: pick('voice'),
    speechRate: pick('speechRate') ?? 1,
    aspectRatio,
    resolution,
    ...frameSize(aspectRatio, brief.preview ? PREVIEW_SHORT_SIDE : resolution),
    preview: brief.preview ?? false,
    fps: (pick('fps') ?? 30) as Fps,
    targetDurationSec: pick('targetDurationSec'),
    music: music === false ? false : { mood: music?.mood, volume: music?.volume ?? mix.music ?? 0.6, ...(music?.style ? { style: music.style } : {}) },
    sfx: pick('sfx') ?? true,
    captions: captions === false ? false : { burnIn: captions?.burnIn ?? true, style: CAPTION_STYLE_ALIASES[captions?.style ?? 'bold'] },
    mix: {
      voice: mix.voice ?? 1,
      music: music === false ? 0 : (music?.volume ?? mix.music ?? 0.6),
      sfx: mix.sfx ?? 0.5,
      ducking: mix.ducking ?? true,
      loudnessLufs: mix.loudnessLufs ?? -14,
      truePeakDb: mix.truePeakDb ?? -1,
    },
    brand: brand && {
      logo: brand.logo,
      colors: brand.colors ?? {},
      font: brand.font,
      position: brand.position ?? 'top-right',
    },
    outputs: (['mp4', ...outputs] as OutputKind[]).filter((o, i, all) => all.indexOf(o) === i),
    preset: brief.preset,
    quality: pick('quality') ?? 'standard',
    providers: pick('providers') ?? {},
    seed: pick('seed') ?? 1,
    transition: pick('transition') ?? 'fade',
    design: resolveDesign(pick('design')),
  };
}

export type { Visual };
