/**
 * The choices an experiment may make, one flag key each, and how a variant is applied. A flag
 * with another key is evaluated by nobody. A choice the brief makes itself (or its preset) wins:
 * the variant is still recorded, as not applied, so the report can leave it out.
 *
 * | flag           | value                      | changes                                          | the brief wins when it sets      |
 * | caption-style  | a caption style            | captions.style (burned-in look)                   | captions (false or a style)      |
 * | template       | a template name            | design.template: the look (not the scenes)        | template or design.template      |
 * | tts-provider   | a narrate provider name    | that provider first in the TTS chain              | providers.narrate or a cloud voice |
 * | planner        | a plan provider name       | that planner first: offline rules or an LLM       | providers.plan                   |
 * | x264-preset    | an x264 preset             | the video encode's speed/size trade-off           | preview (its own fast encoder)   |
 */
import { CAPTION_STYLES, TEMPLATE_NAMES, type Brief } from '../contract/brief.js';
import type { ExperimentAssignments } from '../contract/production.js';
import { PRESETS } from '../contract/resolve.js';
import type { MediaTools, PipelineDeps } from '../pipeline/context.js';

/** The x264 presets AIPROD_X264_PRESET takes, fastest first (slower ones cost far more than they save). */
export const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'] as const;

const PROVIDER_NAME = /^[a-z][a-z0-9-]{1,40}$/;

export interface Choice {
  key: string;
  /** What it changes, for GET /v1/experiments and the docs. */
  description: string;
  /** The values a variant may have (a provider name is only checked for shape: the chain decides). */
  values: readonly string[] | RegExp;
  /** Whether the brief (or its preset) makes this choice itself. */
  explicit(brief: Brief): boolean;
  /** The brief with the choice made; absent for choices outside the brief (the encoder). */
  apply?(brief: Brief, value: string): Brief;
}

type Options = Partial<Brief>;
const presetOf = (brief: Brief): Options => (brief.preset ? (PRESETS[brief.preset].options as Options) : {});
/** A field as the brief gives it, or its preset. */
const given = <K extends keyof Brief>(brief: Brief, key: K): Brief[K] | undefined => brief[key] ?? (presetOf(brief)[key] as Brief[K] | undefined);

const preferring = (stage: 'narrate' | 'plan') => (brief: Brief, value: string): Brief => ({ ...brief, providers: { ...given(brief, 'providers'), [stage]: value } });

export const CHOICES: readonly Choice[] = [
  {
    key: 'caption-style',
    description: `Burned-in caption look: ${CAPTION_STYLES.join(', ')}.`,
    values: CAPTION_STYLES,
    explicit: (brief) => {
      const captions = given(brief, 'captions');
      return captions === false || captions?.style !== undefined;
    },
    // The preset's other caption fields (burnIn) stay: the brief's captions replace the preset's whole.
    apply: (brief, value) => ({ ...brief, captions: { ...(given(brief, 'captions') || {}), style: value as (typeof CAPTION_STYLES)[number] } }),
  },
  {
    key: 'template',
    description: `The look of a template (palette, motion, backgrounds, transitions, captions, music), not its scenes: ${TEMPLATE_NAMES.join(', ')}.`,
    values: TEMPLATE_NAMES,
    explicit: (brief) => brief.template !== undefined || given(brief, 'design')?.template !== undefined,
    apply: (brief, value) => ({ ...brief, design: { ...given(brief, 'design'), template: value as (typeof TEMPLATE_NAMES)[number] } }),
  },
  {
    key: 'tts-provider',
    description: 'The text-to-speech provider put first in the narrate chain (the others stay as fallbacks).',
    values: PROVIDER_NAME,
    explicit: (brief) => given(brief, 'providers')?.narrate !== undefined || /^[a-z][a-z0-9-]*:/.test(given(brief, 'voice') ?? ''),
    apply: preferring('narrate'),
  },
  {
    key: 'planner',
    description: 'The planner put first in the plan chain: "offline" (the rule-based writer) or an LLM provider.',
    values: PROVIDER_NAME,
    explicit: (brief) => given(brief, 'providers')?.plan !== undefined,
    apply: preferring('plan'),
  },
  {
    key: 'x264-preset',
    description: `The x264 preset of the video encode (default AIPROD_X264_PRESET): ${X264_PRESETS.join(', ')}.`,
    values: X264_PRESETS,
    explicit: (brief) => brief.preview === true,
  },
];

export const CHOICE_KEYS = CHOICES.map((c) => c.key);

/** Whether `value` is one choice `key` can take. */
export function allows(choice: Choice, value: string): boolean {
  return choice.values instanceof RegExp ? choice.values.test(value) : choice.values.includes(value);
}

/** What a render does with a production's applied variants: its brief with them made, and the encoder's preset. */
export function applyExperiments(brief: Brief, experiments: ExperimentAssignments | null | undefined): { brief: Brief; x264Preset?: string } {
  let out = brief;
  let x264Preset: string | undefined;
  for (const choice of CHOICES) {
    const assigned = experiments?.[choice.key];
    // A variant stored as applied is applied again as stored, even if the flags changed since.
    if (!assigned?.applied || !allows(choice, assigned.value)) continue;
    if (choice.apply) out = choice.apply(out, assigned.value);
    else if (choice.key === 'x264-preset') x264Preset = assigned.value;
  }
  return { brief: out, ...(x264Preset ? { x264Preset } : {}) };
}

/**
 * The pipeline with the x264 preset of an experiment: the video segments read `media.encode`, and
 * their cache keys include it, so two presets never share a segment. The rest of the tools are
 * the pipeline's own (inherited, not copied: some are found lazily).
 */
export function withX264Preset(pipeline: PipelineDeps, preset: string | undefined): PipelineDeps {
  if (!preset) return pipeline;
  const media = Object.create(pipeline.media, {
    encode: { get: () => ({ ...pipeline.media.encode, preset }), enumerable: true },
  }) as MediaTools;
  return { ...pipeline, media };
}
