/**
 * The shape of a design template: one JSON file per template in ./data, validated by this schema
 * when it is loaded. A template is a look (palette, type pairing, motion, transitions, captions,
 * music, an end card, per-ratio layout hints) plus scene skeletons whose text holds `{{field}}`
 * placeholders filled from the brief's `merge` (see merge.ts and docs/templates.md).
 */
import { z } from 'zod';
import {
  ASPECT_RATIOS,
  BACKGROUND_STYLES,
  CAPTION_STYLES,
  IMAGE_MOTIONS,
  IMAGE_POSITIONS,
  MOODS,
  MOTION_STYLES,
  SCENE_LAYOUTS,
  SFX_KINDS,
  TEMPLATE_NAMES,
  TEXT_ANIMATIONS,
  TITLE_POSITIONS,
  TRANSITIONS,
  colorSchema,
  sceneDesignFields,
} from '../../contract/brief.js';

export const FIELD_TYPES = ['text', 'image', 'video', 'color', 'number', 'list'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
export const PALETTE_ROLES = ['background', 'primary', 'secondary', 'accent', 'text'] as const;
export type PaletteRole = (typeof PALETTE_ROLES)[number];

/** `{{name}}` placeholders of a template string. */
export const PLACEHOLDER = /\{\{\s*([a-zA-Z][a-zA-Z0-9_]*)\s*\}\}/g;
/** Placeholders every repeated scene has besides the fields: the list item and its 1-based number. */
export const REPEAT_PLACEHOLDERS = ['item', 'index'] as const;
/** The placeholder a list scene has: its items, spoken one sentence each. */
export const LIST_PLACEHOLDER = 'list';
/** Most characters of a scene's title and subtitle once filled (sceneInputSchema's limits). */
export const TITLE_MAX = 200;
/** Most characters of one list item once filled (sceneDesignFields.items). */
export const ITEM_MAX = 120;
/** Most items one list scene shows (sceneDesignFields.items). */
export const ITEMS_PER_SCENE_MAX = 8;

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

/** A list scene's items: the values of a list field, a scene per `perScene` of them. */
export const itemsTemplateSchema = z.strictObject({
  field: z.string().min(1).describe('A list field.'),
  perScene: z.number().int().min(1).max(ITEMS_PER_SCENE_MAX).default(ITEMS_PER_SCENE_MAX).describe('Most items on one scene; more items continue on a copy of the scene.'),
  text: z.string().min(1).max(60).default('{{item}}').describe('How one item reads on screen: {{item}}, {{index}} (1, 2, …) and fields.'),
});

/** A counter scene's number: a number field, or a text field holding an amount such as "$129". */
export const counterTemplateSchema = z.strictObject({
  field: z.string().min(1).describe('A number field, or a text field holding an amount ("$129", "49.99 €").'),
  from: sceneDesignFields.counter.unwrap().shape.from,
  decimals: sceneDesignFields.counter.unwrap().shape.decimals,
  prefix: sceneDesignFields.counter.unwrap().shape.prefix,
  suffix: sceneDesignFields.counter.unwrap().shape.suffix,
});

/** A layered image: an image field's value placed by the layout (left out when the field is empty). */
export const imageTemplateSchema = z.strictObject({
  field: z.string().min(1).describe('An image field.'),
  position: z.enum(IMAGE_POSITIONS).optional(),
  fromSec: z.number().min(0).max(600).optional(),
  toSec: z.number().min(0).max(600).optional(),
});

export const sceneTemplateSchema = z.strictObject({
  narration: z.string().max(2000).optional().describe('What the voice says; may hold {{field}} placeholders.'),
  title: z.string().max(TITLE_MAX).optional().describe('On-screen title; may hold {{field}} placeholders.'),
  subtitle: z.string().max(TITLE_MAX).optional().describe('The smaller second line (a role, an attribution, a date); may hold {{field}} placeholders.'),
  layout: z.enum(SCENE_LAYOUTS).optional().describe(`${SCENE_LAYOUTS.join(', ')} (default title); end-card is the template's endCard.`),
  textAnimation: z.enum(TEXT_ANIMATIONS).optional().describe('How this scene\'s text enters (default: the template\'s motion).'),
  items: itemsTemplateSchema.optional().describe('layout list: the items, from a list field.'),
  counter: counterTemplateSchema.optional().describe('layout counter: the number, from a number (or amount) field.'),
  images: z.array(imageTemplateSchema).min(1).max(4).optional().describe('Images layered over the background, from image fields.'),
  icon: sceneDesignFields.icon,
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
    motion: z.strictObject({
      style: z.enum(MOTION_STYLES),
      imageMotion: z.enum(IMAGE_MOTIONS),
      textAnimation: z.enum(TEXT_ANIMATIONS).optional().describe('How text enters (default: the motion style\'s).'),
    }),
    background: z.enum(BACKGROUND_STYLES).describe('The look of scenes with no picture of their own.'),
    keywords: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9' -]*$/, 'a keyword is lower-case words'))
      .min(3)
      .max(60)
      .describe('Words of a prompt that call for this template: the planner picks the best-matching template\'s look for a prompt brief.'),
    transitions: z.array(z.enum(TRANSITIONS)).min(1).max(8).describe('Used in turn between scenes unless the brief names a transition.'),
    captionStyle: z.enum(CAPTION_STYLES),
    music: z.strictObject({ mood: z.enum(MOODS), style: z.string().min(1).max(200).optional() }),
    videoTitle: z.string().min(1).max(200).describe('The video\'s title; may hold {{field}} placeholders.'),
    fields: z.record(z.string().regex(/^[a-z][a-zA-Z0-9_]*$/, 'a field name is camelCase letters and digits'), mergeFieldSchema),
    scenes: z.array(sceneTemplateSchema).min(1).max(30),
    endCard: z.strictObject({
      title: z.string().min(1).max(TITLE_MAX).describe('The call to action; may hold {{field}} placeholders.'),
      subtitle: z.string().max(TITLE_MAX).optional().describe('A smaller line under it (an address, the product); may hold {{field}} placeholders.'),
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
    /** `text`'s placeholders against the fields and the `extra` placeholders its scene has. */
    const check = (text: string | undefined, path: (string | number)[], extra: readonly string[] = []): void => {
      for (const [, name] of (text ?? '').matchAll(PLACEHOLDER)) {
        if (name === undefined || name in fields || extra.includes(name)) continue;
        problem(path, `{{${name}}} is not a field (fields: ${[...known, ...extra].join(', ')})`);
      }
    };
    const fieldOf = (name: string, types: FieldType[], path: (string | number)[]): void => {
      const field = fields[name];
      if (!field) problem(path, `"${name}" is not a field (fields: ${known.join(', ')})`);
      else if (!types.includes(field.type)) problem(path, `"${name}" is a ${field.type} field; use a ${types.join(' or ')} field`);
    };
    /**
     * The most characters `text` can have once filled: its own letters plus each field's limit;
     * undefined when a field it uses has no limit.
     */
    const longest = (text: string, extra: Record<string, number> = {}): number | undefined => {
      let total = text.replace(PLACEHOLDER, '').length;
      for (const [, name] of text.matchAll(PLACEHOLDER)) {
        const field = name === undefined ? undefined : fields[name];
        const limit = name !== undefined && name in extra ? extra[name] : field?.type === 'number' ? 24 : field?.type === 'list' ? undefined : field?.maxLength;
        if (limit === undefined) return undefined;
        total += limit;
      }
      return total;
    };
    /** A title or subtitle that could be filled past the limit a brief scene allows. */
    const fits = (text: string | undefined, path: (string | number)[], max: number, extra: Record<string, number> = {}): void => {
      const most = text === undefined ? 0 : longest(text, extra);
      if (most !== undefined && most > max) problem(path, `can be ${most} characters once filled, at most ${max}: lower the maxLength of its fields`);
    };
    check(template.videoTitle, ['videoTitle']);
    check(template.endCard.title, ['endCard', 'title']);
    check(template.endCard.subtitle, ['endCard', 'subtitle']);
    check(template.endCard.narration, ['endCard', 'narration']);
    fits(template.endCard.title, ['endCard', 'title'], TITLE_MAX);
    fits(template.endCard.subtitle, ['endCard', 'subtitle'], TITLE_MAX);
    if (template.endCard.logoField) fieldOf(template.endCard.logoField, ['image'], ['endCard', 'logoField']);
    template.scenes.forEach((scene, i) => {
      const at = (...path: (string | number)[]): (string | number)[] => ['scenes', i, ...path];
      const extra: string[] = [];
      const sizes: Record<string, number> = {};
      if (scene.repeat) {
        fieldOf(scene.repeat, ['list'], at('repeat'));
        extra.push(...REPEAT_PLACEHOLDERS);
        const itemMax = fields[scene.repeat]?.maxLength;
        if (itemMax !== undefined) sizes.item = itemMax;
        sizes.index = 2;
      }
      if (scene.items) {
        fieldOf(scene.items.field, ['list'], at('items', 'field'));
        if (scene.repeat) problem(at('items'), 'a scene either repeats per item ("repeat") or lists them ("items"), not both');
        if (scene.layout !== 'list') problem(at('layout'), 'a scene with "items" has layout "list"');
        extra.push(LIST_PLACEHOLDER);
        check(scene.items.text, at('items', 'text'), REPEAT_PLACEHOLDERS);
        const listMax = fields[scene.items.field]?.maxLength;
        const most = listMax === undefined ? undefined : longest(scene.items.text, { item: listMax, index: 2 });
        if (listMax === undefined) problem(at('items', 'field'), `give "${scene.items.field}" a maxLength: an item shows at most ${ITEM_MAX} characters`);
        else if (most !== undefined && most > ITEM_MAX) problem(at('items', 'text'), `an item can be ${most} characters once filled, at most ${ITEM_MAX}: lower the maxLength of "${scene.items.field}" to ${listMax - (most - ITEM_MAX)}`);
      } else if (scene.layout === 'list') problem(at('items'), 'a list scene takes its items from a list field: add "items": { "field": "<list field>" }');
      if (scene.counter) {
        fieldOf(scene.counter.field, ['number', 'text'], at('counter', 'field'));
        if (scene.layout !== 'counter') problem(at('layout'), 'a scene with "counter" has layout "counter"');
      } else if (scene.layout === 'counter') problem(at('counter'), 'a counter scene counts a field: add "counter": { "field": "<number field>" }');
      if (scene.layout === 'end-card') problem(at('layout'), 'the end card is the template\'s "endCard", always last: use it instead');
      scene.images?.forEach((image, k) => fieldOf(image.field, ['image'], at('images', k, 'field')));
      if (scene.when) fieldOf(scene.when, [...FIELD_TYPES], at('when'));
      check(scene.narration, at('narration'), extra);
      check(scene.title, at('title'), extra);
      check(scene.subtitle, at('subtitle'), extra);
      // {{list}} is a scene's items joined: too long to size, and a list scene's title stays short anyway.
      if (!scene.title?.includes(`{{${LIST_PLACEHOLDER}}}`)) fits(scene.title, at('title'), TITLE_MAX, sizes);
      if (!scene.subtitle?.includes(`{{${LIST_PLACEHOLDER}}}`)) fits(scene.subtitle, at('subtitle'), TITLE_MAX, sizes);
      if (scene.visual && 'field' in scene.visual) fieldOf(scene.visual.field, ['image', 'video', 'color'], at('visual', 'field'));
    });
    for (const [name, field] of Object.entries(fields)) {
      if (field.required && field.default !== undefined) problem(['fields', name, 'default'], 'a required field has no default');
      if (field.maxItems !== undefined && field.type !== 'list') problem(['fields', name, 'maxItems'], 'only a list field has maxItems');
    }
  });

export type Template = z.infer<typeof templateSchema>;
export type TemplateInput = z.input<typeof templateSchema>;
