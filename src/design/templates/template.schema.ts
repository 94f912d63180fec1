/**
 * The shape of a design template: one JSON file per template in ./data, validated by this schema
 * when it is loaded. A template is a look (palette, type pairing, motion, transitions, captions,
 * music, an end card, per-ratio layout hints) plus scene skeletons whose text holds `{{field}}`
 * placeholders filled from the brief's `merge` (see merge.ts and docs/templates.md).
 */
import { z } from 'zod';
import {
  ASPECT_RATIOS,
  CAPTION_STYLES,
  IMAGE_MOTIONS,
  MOODS,
  MOTION_STYLES,
  SFX_KINDS,
  TEMPLATE_NAMES,
  TITLE_POSITIONS,
  TRANSITIONS,
  colorSchema,
} from '../../contract/brief.js';

export const FIELD_TYPES = ['text', 'image', 'video', 'color', 'number', 'list'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
export const PALETTE_ROLES = ['background', 'primary', 'secondary', 'accent', 'text'] as const;
export type PaletteRole = (typeof PALETTE_ROLES)[number];

/** `{{name}}` placeholders of a template string. */
export const PLACEHOLDER = /\{\{\s*([a-zA-Z][a-zA-Z0-9_]*)\s*\}\}/g;
/** Placeholders every repeated scene has besides the fields: the list item and its 1-based number. */
export const REPEAT_PLACEHOLDERS = ['item', 'index'] as const;

const fieldValue = z.union([z.string(), z.number(), z.array(z.string())]);

export const mergeFieldSchema = z
  .strictObject({
    type: z.enum(FIELD_TYPES).describe('text, image (path or http(s) URL), video (idem), color (hex), number, or list (an array of strings, or one string with an item per line).'),
    description: z.string().min(1).max(300),
    required: z.boolean().default(false),
    default: fieldValue.optional().describe('Used when the merge leaves the field out.'),
    sample: fieldValue.describe('An example value: `aiprod render --template` uses the samples unless --set overrides them.'),
    maxLength: z.number().int().min(1).max(5000).optional().describe('text: most characters; list: most characters per item.'),
    maxItems: z.number().int().min(1).max(20).optional().describe('list: most items.'),
  });
export type MergeField = z.infer<typeof mergeFieldSchema>;

/** Palette roles, in order: one is a colour background, 2–4 a gradient. */
const paletteVisual = z.strictObject({ palette: z.array(z.enum(PALETTE_ROLES)).min(1).max(4) });

/**
 * A scene background: from a merge field (image → image visual, video → video visual, color →
 * colour), falling back to palette roles when the optional field is empty; or palette roles alone.
 */
export const visualTemplateSchema = z.union([
  z.strictObject({ field: z.string().min(1), fallback: z.array(z.enum(PALETTE_ROLES)).min(1).max(4).optional() }),
  paletteVisual,
]);
export type VisualTemplate = z.infer<typeof visualTemplateSchema>;

export const sceneTemplateSchema = z.strictObject({
  narration: z.string().max(2000).optional().describe('What the voice says; may hold {{field}} placeholders.'),
  title: z.string().max(200).optional().describe('On-screen title; may hold {{field}} placeholders.'),
  visual: visualTemplateSchema.optional(),
  durationSec: z.number().min(0.5).max(60).optional(),
  sfx: z.array(z.enum(SFX_KINDS)).max(4).optional(),
  repeat: z.string().optional().describe('A list field: the scene is written once per item, with {{item}} and {{index}}.'),
  when: z.string().optional().describe('A field: the scene is left out when that field has no value.'),
});
export type SceneTemplate = z.infer<typeof sceneTemplateSchema>;

/** Layout hints per aspect ratio, kept as data for the layout engine (fractions of the frame). */
export const ratioLayoutSchema = z.strictObject({
  safeArea: z.strictObject({
    top: z.number().min(0).max(0.4),
    right: z.number().min(0).max(0.4),
    bottom: z.number().min(0).max(0.4),
    left: z.number().min(0).max(0.4),
  }),
  titlePosition: z.enum(TITLE_POSITIONS),
  /** Columns of the layout grid. */
  columns: z.number().int().min(1).max(12),
});

export const templateSchema = z
  .strictObject({
    name: z.enum(TEMPLATE_NAMES),
    title: z.string().min(1).max(80),
    description: z.string().min(1).max(300),
    /** The ratio a brief gets when neither it nor its preset names one. */
    defaultRatio: z.enum(ASPECT_RATIOS),
    ratios: z.strictObject({
      '16:9': ratioLayoutSchema,
      '9:16': ratioLayoutSchema,
      '1:1': ratioLayoutSchema,
      '4:5': ratioLayoutSchema,
    }),
    palette: z.strictObject({ background: colorSchema, primary: colorSchema, secondary: colorSchema, accent: colorSchema, text: colorSchema }),
    type: z.strictObject({ heading: z.string().min(1).max(60), body: z.string().min(1).max(60) }).describe('Font roles (family names): hints for the type engine; brand.font is what renders today.'),
    motion: z.strictObject({ style: z.enum(MOTION_STYLES), imageMotion: z.enum(IMAGE_MOTIONS) }),
    transitions: z.array(z.enum(TRANSITIONS)).min(1).max(8).describe('Used in turn between scenes unless the brief names a transition.'),
    captionStyle: z.enum(CAPTION_STYLES),
    music: z.strictObject({ mood: z.enum(MOODS), style: z.string().min(1).max(200).optional() }),
    videoTitle: z.string().min(1).max(200).describe('The video\'s title; may hold {{field}} placeholders.'),
    fields: z.record(z.string().regex(/^[a-z][a-zA-Z0-9_]*$/, 'a field name is camelCase letters and digits'), mergeFieldSchema),
    scenes: z.array(sceneTemplateSchema).min(1).max(30),
    endCard: z.strictObject({
      title: z.string().min(1).max(200).describe('The call to action; may hold {{field}} placeholders.'),
      narration: z.string().max(500).optional(),
      palette: z.array(z.enum(PALETTE_ROLES)).min(1).max(4),
      durationSec: z.number().min(1).max(10),
      logoField: z.string().optional().describe('An image field whose value becomes brand.logo when the brief has none.'),
    }),
  })
  .superRefine((template, ctx) => {
    const fields = template.fields;
    const known = Object.keys(fields);
    const problem = (path: (string | number)[], message: string): void => void ctx.addIssue({ code: 'custom', path, message });
    const check = (text: string | undefined, path: (string | number)[], repeated: boolean): void => {
      for (const [, name] of (text ?? '').matchAll(PLACEHOLDER)) {
        if (name === undefined || name in fields) continue;
        if (repeated && (REPEAT_PLACEHOLDERS as readonly string[]).includes(name)) continue;
        problem(path, `{{${name}}} is not a field (fields: ${known.join(', ')}${repeated ? ', item, index' : ''})`);
      }
    };
    const fieldOf = (name: string, types: FieldType[], path: (string | number)[]): void => {
      const field = fields[name];
      if (!field) problem(path, `"${name}" is not a field (fields: ${known.join(', ')})`);
      else if (!types.includes(field.type)) problem(path, `"${name}" is a ${field.type} field; use a ${types.join(' or ')} field`);
    };
    check(template.videoTitle, ['videoTitle'], false);
    check(template.endCard.title, ['endCard', 'title'], false);
    check(template.endCard.narration, ['endCard', 'narration'], false);
    if (template.endCard.logoField) fieldOf(template.endCard.logoField, ['image'], ['endCard', 'logoField']);
    template.scenes.forEach((scene, i) => {
      const repeated = scene.repeat !== undefined;
      if (scene.repeat) fieldOf(scene.repeat, ['list'], ['scenes', i, 'repeat']);
      if (scene.when) fieldOf(scene.when, [...FIELD_TYPES], ['scenes', i, 'when']);
      check(scene.narration, ['scenes', i, 'narration'], repeated);
      check(scene.title, ['scenes', i, 'title'], repeated);
      if (scene.visual && 'field' in scene.visual) fieldOf(scene.visual.field, ['image', 'video', 'color'], ['scenes', i, 'visual', 'field']);
    });
    for (const [name, field] of Object.entries(fields)) {
      if (field.required && field.default !== undefined) problem(['fields', name, 'default'], 'a required field has no default');
      if (field.maxItems !== undefined && field.type !== 'list') problem(['fields', name, 'maxItems'], 'only a list field has maxItems');
    }
  });

export type Template = z.infer<typeof templateSchema>;
export type TemplateInput = z.input<typeof templateSchema>;
