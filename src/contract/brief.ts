/**
 * The brief: what a user asks for. One zod schema gives validation, TypeScript types, the CLI's
 * spec files, the README's field reference and (later) the API body and the SDK's types.
 *
 * Options are optional here; `resolveBrief()` (contract/resolve.ts) applies the preset and the
 * defaults, so the pipeline only ever sees a fully-specified `ResolvedBrief`.
 */
import { z } from 'zod';

export const ASPECT_RATIOS = ['16:9', '9:16', '1:1', '4:5'] as const;
export const RESOLUTIONS = ['480p', '720p', '1080p'] as const;
export const FPS_VALUES = [24, 25, 30] as const;
export const MOODS = ['uplifting', 'calm', 'dramatic', 'corporate', 'playful', 'tense'] as const;
export const SFX_KINDS = ['whoosh', 'riser', 'impact', 'click', 'pop', 'chime', 'ambience', 'swell'] as const;
export const OUTPUT_KINDS = ['mp4', 'webm', 'audio', 'gif', 'srt', 'vtt'] as const;
/**
 * Burned-in caption looks: `line` (= bold) is a whole cue with a dark outline, `word` highlights
 * the word being spoken (from the voice's word timings), `box` (= boxed) sets each line on a dark
 * box, `minimal` is smaller and lighter.
 */
export const CAPTION_STYLES = ['bold', 'minimal', 'boxed', 'line', 'word', 'box'] as const;
/** How on-screen text enters (and leaves): per scene, or for the whole video through `design`. */
export const TEXT_ANIMATIONS = ['fade', 'slide-up', 'slide-left', 'scale', 'words', 'typewriter', 'none'] as const;
export type TextAnimation = (typeof TEXT_ANIMATIONS)[number];
/** The pace of a video's motion: how fast text and layers move and how long they hold. */
export const MOTION_STYLES = ['calm', 'smooth', 'energetic', 'punchy'] as const;
export type MotionStyle = (typeof MOTION_STYLES)[number];
export const TITLE_POSITIONS = ['top', 'center', 'lower-third', 'bottom'] as const;
export type TitlePosition = (typeof TITLE_POSITIONS)[number];
/** Designed backgrounds drawn offline behind a scene with no picture of its own. */
export const BACKGROUND_STYLES = ['gradient', 'shapes', 'pattern', 'particles'] as const;
export type BackgroundStyle = (typeof BACKGROUND_STYLES)[number];
/**
 * What a scene shows besides its background: `title` (default) a headline; `lower-third` a name
 * bar low on the frame (title + subtitle); `list` its items one by one; `counter` a number that
 * counts up; `quote` a quotation with its attribution (subtitle); `end-card` the call to action
 * with the logo.
 */
export const SCENE_LAYOUTS = ['title', 'lower-third', 'list', 'counter', 'quote', 'end-card'] as const;
export type SceneLayout = (typeof SCENE_LAYOUTS)[number];
/** Where an extra image of a scene sits: picture-in-picture in a corner, a half of the frame, or a grid cell. */
export const IMAGE_POSITIONS = ['pip', 'pip-left', 'left', 'right', 'top', 'bottom', 'grid', 'center'] as const;
export type ImagePosition = (typeof IMAGE_POSITIONS)[number];
/**
 * How one scene gives way to the next. Each is an FFmpeg `xfade` transition (XFADE_NAMES in
 * media/args/segment.ts); a build without `xfade` dips through black instead, and one without the
 * named transition cross-fades.
 */
export const TRANSITIONS = [
  'fade', 'dissolve', 'fade-black', 'fade-white',
  'wipe-left', 'wipe-right', 'wipe-up', 'wipe-down',
  'slide-left', 'slide-right', 'slide-up', 'slide-down',
  'smooth-left', 'smooth-right', 'circle-open', 'circle-close',
  'radial', 'zoom-in', 'pixelize', 'diagonal', 'blur', 'squeeze',
] as const;
export type Transition = (typeof TRANSITIONS)[number];
export const BRAND_POSITIONS = ['top-left', 'top-right', 'bottom-left', 'bottom-right'] as const;
export const IMAGE_MOTIONS = ['zoom-in', 'zoom-out', 'pan-left', 'pan-right', 'none'] as const;
export const PRESET_NAMES = ['social_vertical', 'youtube_landscape', 'square_post', 'story_4x5'] as const;
/**
 * Design templates (data in src/design/templates/data/, one JSON file per name; a test checks the
 * two lists agree). A brief with `template` + `merge` is expanded into scenes before it is resolved.
 */
export const TEMPLATE_NAMES = [
  'product-launch', 'explainer', 'top-list', 'testimonial',
  'event-promo', 'news-update', 'tutorial-steps', 'social-hook',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
/** How much a render may spend on cloud AI: each tier maps to provider chains and models (docs/providers.md). */
export const QUALITY_TIERS = ['economy', 'standard', 'premium'] as const;
/** The stages a brief may name a provider for. */
export const PROVIDER_STAGE_NAMES = ['plan', 'narrate', 'score', 'foley', 'visualize'] as const;

export type AspectRatio = (typeof ASPECT_RATIOS)[number];
export type Resolution = (typeof RESOLUTIONS)[number];
export type Fps = (typeof FPS_VALUES)[number];
export type Mood = (typeof MOODS)[number];
export type SfxKind = (typeof SFX_KINDS)[number];
export type OutputKind = (typeof OUTPUT_KINDS)[number];
export type PresetName = (typeof PRESET_NAMES)[number];
export type QualityTier = (typeof QUALITY_TIERS)[number];
export type ProviderStageName = (typeof PROVIDER_STAGE_NAMES)[number];

export const providerChoiceSchema = z
  .partialRecord(z.enum(PROVIDER_STAGE_NAMES), z.string().regex(/^[a-z][a-z0-9-]{1,40}$/, 'use a provider name from `aiprod providers`, e.g. "elevenlabs"'))
  .describe('A preferred provider per stage (plan, narrate, score, foley, visualize); it goes first in that stage\'s chain, the others stay as fallbacks.');

export const colorSchema = z
  .string()
  .regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'use a hex colour such as "#1e3a8a" or "#fff"')
  .describe('A hex colour: "#rgb" or "#rrggbb".');

const mediaSrc = z
  .string()
  .min(1, 'give a file path')
  .max(4096)
  .describe('Path of a local file, relative to the brief file or absolute.');

export const visualSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('color'),
      color: colorSchema,
    }),
    z.strictObject({
      type: z.literal('gradient'),
      colors: z.array(colorSchema).min(2, 'a gradient needs at least 2 colours').max(4, 'at most 4 colours').describe('2–4 hex colours, blended across the frame.'),
    }),
    z.strictObject({
      type: z.literal('image'),
      src: mediaSrc,
      fit: z.enum(['cover', 'contain']).optional().describe('cover (default) fills the frame; contain letterboxes.'),
      motion: z.enum(IMAGE_MOTIONS).optional().describe('Ken Burns movement; chosen from the seed when omitted.'),
      treatment: z
        .enum(['duotone'])
        .optional()
        .describe("duotone: the picture in two colours of the video's palette (shadows in its darkest, highlights in its lightest), so photos from anywhere share the video's look."),
    }),
    z.strictObject({
      type: z.literal('video'),
      src: mediaSrc,
      startSec: z.number().min(0).max(86_400).optional().describe('Where to start reading the source.'),
    }),
  ])
  .describe('A scene background: a colour, a gradient, an image (Ken Burns) or a video clip.');

export type Visual = z.infer<typeof visualSchema>;

export const sfxCueSchema = z.strictObject({
  kind: z.enum(SFX_KINDS).describe('Which effect.'),
  atSec: z.number().min(0).max(3600).describe('Seconds from the start of the video.'),
  gain: z.number().min(0).max(2).optional().describe('Relative level, 1 = library default.'),
});
export type SfxCue = z.infer<typeof sfxCueSchema>;

/**
 * A scene's designed content besides title and narration, the same in a brief's scenes and in the
 * storyboard (the planners copy it through): how its text moves, its layout and the layers it adds.
 */
export const sceneDesignFields = {
  layout: z.enum(SCENE_LAYOUTS).optional().describe(`${SCENE_LAYOUTS.join(', ')} (default title): what the scene's text is laid out as.`),
  subtitle: z.string().max(200).optional().describe('A second, smaller line: the role under a lower-third name, a quote\'s attribution, an end card\'s address.'),
  textAnimation: z.enum(TEXT_ANIMATIONS).optional().describe(`How the scene's text enters: ${TEXT_ANIMATIONS.join(', ')} (default: the brief's design).`),
  items: z.array(z.string().trim().min(1).max(120)).min(1).max(8).optional().describe('List items (layout list), shown one by one as the narration speaks them.'),
  counter: z
    .strictObject({
      to: z.number().min(-1e12).max(1e12).describe('The number it counts up to.'),
      from: z.number().min(-1e12).max(1e12).optional().describe('Where it starts (default 0).'),
      decimals: z.number().int().min(0).max(3).optional().describe('Digits after the point (default 0).'),
      prefix: z.string().max(8).optional().describe('Drawn before the number, e.g. "$".'),
      suffix: z.string().max(12).optional().describe('Drawn after it, e.g. "%" or " users".'),
    })
    .optional()
    .describe('A number that counts up (layout counter).'),
  images: z
    .array(
      z.strictObject({
        src: z.string().min(1, 'give a file path').max(4096).describe('Path of a local image, relative to the brief file or absolute, or an http(s) URL.'),
        position: z.enum(IMAGE_POSITIONS).optional().describe(`${IMAGE_POSITIONS.join(', ')} (default pip).`),
        fromSec: z.number().min(0).max(600).optional().describe('Scene-local second it appears (default: staggered).'),
        toSec: z.number().min(0).max(600).optional().describe('Scene-local second it leaves (default: the end of the scene).'),
      }),
    )
    .max(4)
    .optional()
    .describe('Images layered over the background: picture-in-picture, split screen or a grid.'),
  icon: z
    .union([z.string().regex(/^[a-z0-9-]{2,60}$/, 'an icon name such as "rocket" (see docs/templates.md)'), z.literal(false)])
    .optional()
    .describe('An illustration drawn in the scene: an icon name, or false for none (default: chosen from the scene\'s words when it has no picture).'),
};
export type SceneDesign = { [K in keyof typeof sceneDesignFields]?: z.infer<(typeof sceneDesignFields)[K]> };
export const SCENE_DESIGN_KEYS = Object.keys(sceneDesignFields) as (keyof SceneDesign)[];
/** The scene design fields a scene has, to copy into the storyboard. */
export function sceneDesignOf(scene: SceneDesign | undefined): SceneDesign {
  const out: Record<string, unknown> = {};
  for (const key of SCENE_DESIGN_KEYS) if (scene?.[key] !== undefined) out[key] = scene[key];
  return out as SceneDesign;
}

export const sceneInputSchema = z
  .strictObject({
  ...sceneDesignFields,
  narration: z.string().max(5000).optional().describe('What the voice says over this scene.'),
  title: z.string().max(200).optional().describe('Large on-screen text.'),
  visual: visualSchema.optional(),
  durationSec: z
    .number()
    .min(0.5, 'a scene lasts at least 0.5 s')
    .max(600, 'a scene lasts at most 600 s')
    .optional()
    .describe('Scene length; by default its narration plus padding. Extended when the narration is longer.'),
  sfx: z.array(z.enum(SFX_KINDS)).max(8).optional().describe('Effects played at the start of the scene.'),
  transition: z.enum(TRANSITIONS).optional().describe('How this scene enters from the one before (default: the brief\'s transition).'),
  })
  .describe('One scene; every field is optional, the plan stage fills the gaps.');
export type SceneInput = z.infer<typeof sceneInputSchema>;

export const musicSchema = z.union([
  z.literal(false),
  z.strictObject({
    mood: z.enum(MOODS).optional().describe('Chosen from the brief\'s keywords when omitted.'),
    volume: z.number().min(0).max(2).optional().describe('Music gain before ducking (default 0.6).'),
    style: z.string().trim().min(1).max(200).optional().describe('Free-text direction for a music composer, e.g. "acoustic folk, light percussion": cloud composers get it in their prompt; the offline composer follows the mood.'),
  }),
]);

export const captionsSchema = z.union([
  z.literal(false),
  z.strictObject({
    burnIn: z.boolean().optional().describe('Draw captions into the picture (default true).'),
    style: z.enum(CAPTION_STYLES).optional().describe('line or bold (default): whole cues outlined; word: the spoken word highlighted; box or boxed: lines on a dark box; minimal.'),
  }),
]);

export const mixSchema = z.strictObject({
  voice: z.number().min(0).max(2).optional().describe('Voice gain (default 1.0).'),
  music: z.number().min(0).max(2).optional().describe('Music gain (default 0.6).'),
  sfx: z.number().min(0).max(2).optional().describe('Effects gain (default 0.5).'),
  ducking: z.boolean().optional().describe('Lower the music under the voice (default true).'),
  loudnessLufs: z.number().min(-40).max(-5).optional().describe('Integrated loudness target (default -14 LUFS).'),
  truePeakDb: z.number().min(-9).max(0).optional().describe('True-peak ceiling (default -1 dBTP).'),
});

export const brandSchema = z.strictObject({
  logo: mediaSrc.optional().describe('An image drawn in a corner of every frame.'),
  colors: z
    .strictObject({
      primary: colorSchema.optional(),
      secondary: colorSchema.optional(),
      text: colorSchema.optional(),
    })
    .optional(),
  font: mediaSrc.optional().describe('A .ttf/.otf file for titles and captions.'),
  position: z.enum(BRAND_POSITIONS).optional().describe('Logo corner (default top-right).'),
});

export const paletteSchema = z.strictObject({
  background: colorSchema,
  primary: colorSchema,
  secondary: colorSchema,
  accent: colorSchema,
  text: colorSchema,
});
export type Palette = z.infer<typeof paletteSchema>;

export const designSchema = z
  .strictObject({
    motion: z.enum(MOTION_STYLES).optional().describe(`${MOTION_STYLES.join(', ')} (default smooth): the pace text and layers move at.`),
    textAnimation: z.enum(TEXT_ANIMATIONS).optional().describe('How text enters unless a scene says otherwise (default: from the motion style).'),
    titlePosition: z.enum(TITLE_POSITIONS).optional().describe(`${TITLE_POSITIONS.join(', ')} (default center).`),
    palette: paletteSchema.optional().describe('The colours every scene shares (brand colours win over it); default: from the mood.'),
    background: z.enum(BACKGROUND_STYLES).optional().describe(`${BACKGROUND_STYLES.join(', ')}: the look of scenes with no picture (default shapes).`),
    illustrations: z.boolean().optional().describe('Draw an icon chosen from each scene\'s words in scenes with no picture (default true).'),
    template: z
      .enum(TEMPLATE_NAMES)
      .optional()
      .describe('Take the look of this template (palette, motion, title position, background, transitions, captions, music), not its scenes; the other design fields win over it. The planner sets it for a prompt when none is given.'),
  })
  .describe('The visual language of the video: motion, type placement, palette and backgrounds. A template sets it.');
export type Design = z.infer<typeof designSchema>;

/** Characters that show: not whitespace, not format characters such as zero-width spaces. */
const visibleLength = (text: string): number => text.replace(/[\s\p{Cf}]/gu, '').length;

/** The brief's fields without the one-source rule, for schemas that extend it (the API's request). */
export const briefFieldsSchema = z.strictObject({
    prompt: z.string().trim().min(3).max(4000).refine((v) => visibleLength(v) >= 3, 'write at least 3 visible characters').optional().describe('A free-text idea; the plan stage writes narration and scenes.'),
    script: z.string().trim().min(1).max(60_000).refine((v) => visibleLength(v) >= 1, 'write some visible text').optional().describe('Narration text, split into scenes.'),
    scenes: z.array(sceneInputSchema).min(1).max(100).optional().describe('An explicit storyboard.'),
    title: z.string().trim().max(200).optional().describe('Title of the video; the plan stage derives one when omitted.'),
    language: z
      .string()
      .regex(/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/, 'use a BCP-47 tag such as "en", "fr" or "pt-BR"')
      .optional()
      .describe('BCP-47 language of the narration (default en); must have a voice.'),
    voice: z.string().min(1).max(100).optional().describe('A voice id from GET /v1/voices or `aiprod doctor` (default: the language\'s voice). A cloud voice is `provider:id`, e.g. "elevenlabs:21m00Tcm4TlvDq8EDUAs", and puts its provider first.'),
    speechRate: z.number().min(0.5).max(2).optional().describe('1 = normal speed (default).'),
    aspectRatio: z.enum(ASPECT_RATIOS).optional().describe('Frame shape (default 16:9).'),
    resolution: z.enum(RESOLUTIONS).optional().describe('Short side of the frame: 1080p is 1920x1080 at 16:9, 1080x1920 at 9:16 (default 1080p).'),
    fps: z.union([z.literal(24), z.literal(25), z.literal(30)]).optional().describe('Frames per second (default 30).'),
    targetDurationSec: z.number().min(3).max(1800).optional().describe('Desired total length.'),
    music: musicSchema.optional().describe('The music bed, or false for none.'),
    sfx: z.union([z.boolean(), z.array(sfxCueSchema).max(200)]).optional().describe('true: automatic cues; false: none; or explicit cues.'),
    captions: captionsSchema.optional().describe('Captions from the narration, or false for none. SRT/VTT files are always written.'),
    mix: mixSchema.optional().describe('Gains, ducking and the loudness target of the audio mix.'),
    brand: brandSchema.optional().describe('Logo, colours and font applied to every scene.'),
    outputs: z.array(z.enum(OUTPUT_KINDS)).max(6).optional().describe('mp4 always, plus any of webm, audio, gif, srt, vtt.'),
    preset: z.enum(PRESET_NAMES).optional().describe('A named bundle of options; explicit options win.'),
    // Templates: a source of scenes like prompt/script/scenes (see requireOneSource and docs/templates.md).
    template: z.enum(TEMPLATE_NAMES).optional().describe(`A design template that writes the scenes from "merge": ${TEMPLATE_NAMES.join(', ')} (see \`aiprod templates\`).`),
    merge: z
      .record(z.string().max(64), z.union([z.string().max(10_000), z.number(), z.array(z.string().max(2000)).max(50)]))
      .optional()
      .describe('The template\'s merge fields by name: text, a media path or URL, a hex colour, a number, or a list (an array, or lines of one string).'),
    quality: z.enum(QUALITY_TIERS).optional().describe('economy, standard (default) or premium: which cloud providers and models a render may use, and so what it costs.'),
    providers: providerChoiceSchema.optional(),
    preview: z.boolean().optional().describe('A quick draft for the authoring loop: 360p and the fastest encoder, with the same timing, layout and sound as the full render.'),
    design: designSchema.optional(),
    transition: z.enum(TRANSITIONS).optional().describe(`How scenes give way to each other unless a scene says otherwise: ${TRANSITIONS.join(', ')} (default fade).`),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional().describe('All randomness derives from it (default 1).'),
});

/**
 * Exactly one of prompt, script and scenes, or a template (which writes the scenes itself);
 * reported on the field to remove or add. `merge` only goes with a template.
 */
export function requireOneSource(
  brief: { prompt?: unknown; script?: unknown; scenes?: unknown; template?: unknown; merge?: unknown },
  ctx: z.RefinementCtx,
): void {
  const given = (['prompt', 'script', 'scenes'] as const).filter((key) => brief[key] !== undefined);
  if (brief.template !== undefined) {
    if (given[0]) ctx.addIssue({ code: 'custom', path: [given[0]], message: `a "template" writes the scenes from "merge": remove "${given[0]}", or remove "template"` });
    return;
  }
  if (brief.merge !== undefined) ctx.addIssue({ code: 'custom', path: ['merge'], message: '"merge" fills a template\'s fields: add "template" (see `aiprod templates`), or remove "merge"' });
  if (given.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: given.length === 0 ? ['prompt'] : [given[1] ?? 'prompt'],
      message:
        given.length === 0
          ? 'give exactly one of "prompt", "script" or "scenes" (or a "template")'
          : `give exactly one of "prompt", "script" or "scenes", not ${given.map((g) => `"${g}"`).join(' and ')}`,
    });
  }
}

export const briefSchema = briefFieldsSchema.superRefine(requireOneSource);

export type Brief = z.infer<typeof briefSchema>;
