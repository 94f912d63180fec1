/**
 * Template expansion: a template and the brief's `merge` values become a v1 brief with explicit
 * scenes (text filled in, visuals from media/colour fields or the palette, transitions from the
 * template's set in turn, an end card last) and the template's look as options. Options the brief
 * (or its preset) gives win over the template's. Bad merge values are `invalid_brief` errors with
 * a detail on `merge.<field>` saying what to give.
 *
 *   const brief = expandBriefTemplate(parseBrief({ template: 'product-launch', merge: { product: 'Nimbus' } }));
 *   resolveBrief(brief); // scenes, as if written by hand
 */
import type { Brief, SceneInput, TemplateName, Visual } from '../../contract/brief.js';
import { AppError, type ErrorDetail } from '../../contract/errors.js';
import { PRESETS, parseBrief } from '../../contract/resolve.js';
import { getTemplate } from './registry.js';
import { PLACEHOLDER, type MergeField, type PaletteRole, type Template, type VisualTemplate } from './template.schema.js';

export type MergeInput = Record<string, string | number | string[]>;
/** The brief's options besides its source: what may override the template's. */
export type BriefOptions = Omit<Brief, 'prompt' | 'script' | 'scenes' | 'template' | 'merge'>;
type Value = string | string[];

const HEX = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const URL_OR_PATH = /^(?:https?:\/\/\S+|(?![a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^\0]+)$/;

/** One merge value checked against its field: the value to write, or the problem. */
function checkValue(field: MergeField, raw: string | number | string[]): { value: Value } | { problem: string } {
  const { type } = field;
  switch (type) {
    case 'list': {
      const items = (Array.isArray(raw) ? raw : String(raw).split('\n')).map((s) => s.trim()).filter((s) => s.length > 0);
      if (items.length === 0) return { problem: 'give at least one item: an array of strings, or one string with an item per line' };
      if (field.maxItems !== undefined && items.length > field.maxItems) return { problem: `${items.length} items, at most ${field.maxItems}: remove ${items.length - field.maxItems}` };
      const long = items.findIndex((s) => field.maxLength !== undefined && s.length > field.maxLength);
      if (long >= 0) return { problem: `item ${long + 1} has ${items[long]!.length} characters, at most ${field.maxLength}: shorten it` };
      return { value: items };
    }
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
      return Number.isFinite(n) ? { value: String(n) } : { problem: `a number field: give a number such as 42, not ${JSON.stringify(raw)}` };
    }
    case 'color':
      return typeof raw === 'string' && HEX.test(raw.trim()) ? { value: raw.trim() } : { problem: `a color field: give a hex colour such as "#1e3a8a" or "#fff", not ${JSON.stringify(raw)}` };
    case 'image':
    case 'video':
      return typeof raw === 'string' && raw.trim() !== '' && URL_OR_PATH.test(raw.trim())
        ? { value: raw.trim() }
        : { problem: `an ${type} field: give a file path or an http(s) URL, not ${JSON.stringify(raw)}` };
    case 'text': {
      if (Array.isArray(raw)) return { problem: 'a text field: give a string, not a list' };
      const text = String(raw).trim();
      if (field.maxLength !== undefined && text.length > field.maxLength) return { problem: `${text.length} characters, at most ${field.maxLength}: shorten it` };
      return { value: text };
    }
  }
}

/** The template's field values from `merge` and the defaults, or invalid_brief naming every bad field. */
export function mergeValues(template: Template, merge: MergeInput): Map<string, Value> {
  const problems: ErrorDetail[] = [];
  const values = new Map<string, Value>();
  const known = Object.keys(template.fields);
  for (const name of Object.keys(merge)) {
    if (!(name in template.fields)) problems.push({ path: `merge.${name}`, message: `"${template.name}" has no field "${name}": use one of ${known.join(', ')}` });
  }
  for (const [name, field] of Object.entries(template.fields)) {
    const raw = merge[name] ?? field.default;
    if (raw === undefined || (typeof raw === 'string' && raw.trim() === '' && field.type !== 'text')) {
      if (field.required) problems.push({ path: `merge.${name}`, message: `required: give the ${field.type} "${name}" (${field.description}), e.g. ${JSON.stringify(field.sample)}` });
      continue;
    }
    const checked = checkValue(field, raw);
    if ('problem' in checked) problems.push({ path: `merge.${name}`, message: checked.problem });
    else if (checked.value.length > 0) values.set(name, checked.value);
    else if (field.required) problems.push({ path: `merge.${name}`, message: `required: give the ${field.type} "${name}" (${field.description})` });
  }
  if (problems[0]) throw new AppError('invalid_brief', `invalid brief: ${problems[0].path}: ${problems[0].message}`, { details: problems });
  return values;
}

/** `text` with its placeholders filled (an empty field leaves nothing), spaces tidied. */
function fill(text: string, values: ReadonlyMap<string, Value>, extra: Record<string, string> = {}): string {
  return text
    .replace(PLACEHOLDER, (_m, name: string) => {
      const v = extra[name] ?? values.get(name);
      return v === undefined ? '' : Array.isArray(v) ? v.join(', ') : v;
    })
    .replace(/[ \t]+/g, ' ')
    .replace(/ ([.,!?;:])/g, '$1')
    .replace(/([.!?])\.+/g, '$1')
    .trim();
}

/** A palette visual: one role is a colour, more a gradient. */
function paletteVisual(roles: PaletteRole[], palette: Template['palette']): Visual {
  const colors = roles.map((role) => palette[role]);
  return colors.length === 1 ? { type: 'color', color: colors[0]! } : { type: 'gradient', colors };
}

function visualOf(spec: VisualTemplate | undefined, template: Template, palette: Template['palette'], values: ReadonlyMap<string, Value>): Visual | undefined {
  if (!spec) return undefined;
  if ('palette' in spec) return paletteVisual(spec.palette, palette);
  const value = values.get(spec.field);
  const type = template.fields[spec.field]?.type;
  if (typeof value === 'string') {
    if (type === 'image') return { type: 'image', src: value, motion: template.motion.imageMotion };
    if (type === 'video') return { type: 'video', src: value };
    if (type === 'color') return { type: 'color', color: value };
  }
  return paletteVisual(spec.fallback ?? ['background', 'primary'], palette);
}

/**
 * Expands template `name` with `merge` into a v1 brief; `options` are the brief's own options,
 * which win over the template's (so do its preset's).
 */
export function expandTemplate(name: TemplateName | string, merge: MergeInput = {}, options: BriefOptions = {}): Brief {
  const template = getTemplate(name);
  const values = mergeValues(template, merge);
  const preset = options.preset ? PRESETS[options.preset].options : {};
  const given = <K extends keyof BriefOptions>(key: K): boolean => options[key] !== undefined || (preset as BriefOptions)[key] !== undefined;
  // Brand colours override the palette; the palette fills the brand colours the brief leaves out.
  const brandColors = options.brand?.colors ?? {};
  const palette = {
    ...template.palette,
    ...(brandColors.primary ? { primary: brandColors.primary } : {}),
    ...(brandColors.secondary ? { secondary: brandColors.secondary } : {}),
    ...(brandColors.text ? { text: brandColors.text } : {}),
  };

  const scenes: SceneInput[] = [];
  for (const spec of template.scenes) {
    if (spec.when !== undefined && !values.has(spec.when)) continue;
    const items = spec.repeat ? (values.get(spec.repeat) as string[] | undefined) ?? [] : [undefined];
    items.forEach((item, i) => {
      const extra: Record<string, string> = item === undefined ? {} : { item, index: String(i + 1) };
      const narration = spec.narration === undefined ? '' : fill(spec.narration, values, extra);
      const title = spec.title === undefined ? '' : fill(spec.title, values, extra);
      const visual = visualOf(spec.visual, template, palette, values);
      scenes.push({
        ...(narration ? { narration } : {}),
        ...(title ? { title } : {}),
        ...(visual ? { visual } : {}),
        ...(spec.durationSec !== undefined ? { durationSec: spec.durationSec } : {}),
        ...(spec.sfx ? { sfx: spec.sfx } : {}),
      });
    });
  }
  const end = template.endCard;
  const endNarration = end.narration ? fill(end.narration, values) : '';
  scenes.push({
    title: fill(end.title, values),
    ...(endNarration ? { narration: endNarration } : {}),
    visual: paletteVisual(end.palette, palette),
    durationSec: end.durationSec,
  });
  // The template's transitions in turn, unless the brief (or its preset) names one for all scenes.
  if (!given('transition')) {
    scenes.forEach((scene, i) => {
      if (i > 0) scene.transition = template.transitions[(i - 1) % template.transitions.length];
    });
  }

  const logo = end.logoField ? values.get(end.logoField) : undefined;
  const brand = {
    ...options.brand,
    colors: { primary: palette.primary, secondary: palette.secondary, text: palette.text },
    ...(options.brand?.logo === undefined && typeof logo === 'string' ? { logo } : {}),
  };
  const music = options.music === false ? false : options.music ?? (preset.music as BriefOptions['music']);
  const captions = options.captions ?? (preset.captions as BriefOptions['captions']);
  const title = fill(template.videoTitle, values);
  return parseBrief({
    ...options,
    scenes,
    ...(given('title') || !title ? {} : { title }),
    ...(given('aspectRatio') ? {} : { aspectRatio: template.defaultRatio }),
    music: music === false ? false : { mood: template.music.mood, ...(template.music.style ? { style: template.music.style } : {}), ...music },
    captions: captions === false ? false : { style: template.captionStyle, ...captions },
    brand,
  });
}

/** The brief with its template expanded into scenes; a brief without a template as it is. */
export function expandBriefTemplate(brief: Brief): Brief {
  if (brief.template === undefined) return brief;
  const { template, merge, prompt: _p, script: _s, scenes: _c, ...options } = brief;
  return expandTemplate(template, merge ?? {}, options);
}
