/**
 * Template expansion: a template and the brief's `merge` values become a v1 brief with explicit
 * scenes (text filled in, layouts with their items, counters and images from the merge fields,
 * visuals from media/colour fields or the palette, transitions from the template's set in turn, an
 * end card last) and the template's look as options and `design`. Options the brief (or its
 * preset) gives win over the template's. Bad merge values are `invalid_brief` errors with a
 * detail on `merge.<field>` saying what to give.
 *
 * A brief without a template may still take a template's look: `design.template` names one, and a
 * prompt brief with no design gets the template its words match best (pick.ts).
 *
 *   const brief = expandBriefTemplate(parseBrief({ template: 'product-launch', merge: { product: 'Nimbus' } }));
 *   resolveBrief(brief); // scenes, as if written by hand
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { AspectRatio, Brief, Design, SceneInput, TemplateName, Visual } from '../../contract/brief.js';
import { AppError, type ErrorDetail } from '../../contract/errors.js';
import { PRESETS, parseBrief } from '../../contract/resolve.js';
import { pickTemplate } from './pick.js';
import { getTemplate } from './registry.js';
import { LIST_PLACEHOLDER, PLACEHOLDER, type MergeField, type PaletteRole, type SceneTemplate, type Template, type VisualTemplate } from './template.schema.js';

export type MergeInput = Record<string, string | number | string[]>;
/** The brief's options besides its source: what may override the template's. */
export type BriefOptions = Omit<Brief, 'prompt' | 'script' | 'scenes' | 'template' | 'merge'>;
type Value = string | string[];
type Palette = Template['palette'];

const HEX = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const URL_OR_PATH = /^(?:https?:\/\/\S+|(?![a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^\0]+)$/;
const HTTP_URL = /^https?:\/\//i;
/** The largest number a counter shows (sceneDesignFields.counter). */
const COUNTER_MAX = 1e12;

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
      if (!Number.isFinite(n)) return { problem: `a number field: give a number such as 42, not ${JSON.stringify(raw)}` };
      return Math.abs(n) <= COUNTER_MAX ? { value: String(n) } : { problem: `${n} is too large: give a number between -${COUNTER_MAX} and ${COUNTER_MAX}` };
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

/**
 * `text` with its placeholders filled (an empty field leaves nothing), spaces and the separators
 * an empty field leaves behind tidied: "Ana Ruiz, {{role}}" with no role reads "Ana Ruiz".
 */
function fill(text: string, values: ReadonlyMap<string, Value>, extra: Record<string, string> = {}): string {
  return text
    .replace(PLACEHOLDER, (_m, name: string) => {
      const v = extra[name] ?? values.get(name);
      return v === undefined ? '' : Array.isArray(v) ? v.join(', ') : v;
    })
    .replace(/[ \t]+/g, ' ')
    .replace(/ ([.,!?;:])/g, '$1')
    .replace(/[,·;:]+([.!?])/g, '$1')
    .replace(/([.!?])\.+/g, '$1')
    .replace(/^[\s,·;:]+/, '')
    .replace(/\s*[,·;:]\s*(?=[,·;:]|$)/g, '')
    .trim();
}

/** Items read one sentence each, so the voice pauses between them. */
function asSentences(items: readonly string[]): string {
  return items.map((item) => (/[.!?…]$/.test(item) ? item : `${item}.`)).join(' ');
}

/** A palette visual: one role is a colour, more a gradient. */
function paletteVisual(roles: PaletteRole[], palette: Palette): Visual {
  const colors = roles.map((role) => palette[role]);
  return colors.length === 1 ? { type: 'color', color: colors[0]! } : { type: 'gradient', colors };
}

function visualOf(spec: VisualTemplate | undefined, template: Template, palette: Palette, values: ReadonlyMap<string, Value>): Visual | undefined {
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
 * An amount written as text ("$129", "49.99 €", "1,200 users") as a counter: the number, its
 * decimals and what is written around it; undefined when the text is not one number.
 */
export function parseAmount(text: string): { to: number; decimals: number; prefix: string; suffix: string } | undefined {
  const match = /^([^\d\s.,+-]{0,8}?)\s?(-?\d{1,3}(?:,\d{3})+|-?\d+)(?:\.(\d{1,3}))?(\s?[^\d]{0,12})$/u.exec(text.trim());
  if (!match) return undefined;
  const [, prefix = '', whole = '', fraction = '', suffix = ''] = match;
  const to = Number(`${whole.replace(/,/g, '')}${fraction ? `.${fraction}` : ''}`);
  return Number.isFinite(to) && Math.abs(to) <= COUNTER_MAX ? { to, decimals: fraction.length, prefix, suffix } : undefined;
}

/** A counter scene's number from its field, or undefined when the field holds no number. */
function counterOf(spec: NonNullable<SceneTemplate['counter']>, template: Template, values: ReadonlyMap<string, Value>): SceneInput['counter'] {
  const value = values.get(spec.field);
  if (typeof value !== 'string') return undefined;
  const amount =
    template.fields[spec.field]?.type === 'number'
      ? { to: Number(value), decimals: Math.min(3, value.split('.')[1]?.length ?? 0), prefix: '', suffix: '' }
      : parseAmount(value);
  if (!amount) return undefined;
  const prefix = spec.prefix ?? amount.prefix;
  const suffix = spec.suffix ?? amount.suffix;
  return {
    to: amount.to,
    ...(spec.from !== undefined ? { from: spec.from } : {}),
    ...((spec.decimals ?? amount.decimals) > 0 ? { decimals: spec.decimals ?? amount.decimals } : {}),
    ...(prefix ? { prefix } : {}),
    ...(suffix ? { suffix } : {}),
  };
}

/** Items of `list` in groups of at most `size`. */
function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** The brief's scenes from the template's skeletons, then the end card. */
function writeScenes(template: Template, palette: Palette, values: ReadonlyMap<string, Value>): SceneInput[] {
  const scenes: SceneInput[] = [];
  /** One scene from its skeleton; `extra` fills {{item}}, {{index}} and {{list}}. */
  const write = (spec: SceneTemplate, extra: Record<string, string>, listed?: string[], speak = true): SceneInput => {
    const text = (t: string | undefined): string => (t === undefined ? '' : fill(t, values, extra));
    const narration = speak ? text(spec.narration) : '';
    let title = text(spec.title);
    const subtitle = text(spec.subtitle);
    let layout = spec.layout;
    let counter: SceneInput['counter'];
    if (spec.counter) {
      counter = counterOf(spec.counter, template, values);
      // Text that is no number ("Free") is shown as it is, in a title layout.
      if (!counter) {
        layout = undefined;
        const value = values.get(spec.counter.field);
        if (!title && typeof value === 'string') title = value;
      }
    }
    const images = (spec.images ?? []).flatMap((image) => {
      const src = values.get(image.field);
      if (typeof src !== 'string') return [];
      return [{ src, ...(image.position ? { position: image.position } : {}), ...(image.fromSec !== undefined ? { fromSec: image.fromSec } : {}), ...(image.toSec !== undefined ? { toSec: image.toSec } : {}) }];
    });
    const visual = visualOf(spec.visual, template, palette, values);
    return {
      ...(layout && layout !== 'title' ? { layout } : {}),
      ...(narration ? { narration } : {}),
      ...(title ? { title } : {}),
      ...(subtitle ? { subtitle } : {}),
      ...(spec.textAnimation ? { textAnimation: spec.textAnimation } : {}),
      ...(listed ? { items: listed } : {}),
      ...(counter ? { counter } : {}),
      ...(images.length > 0 ? { images } : {}),
      ...(spec.icon !== undefined ? { icon: spec.icon } : {}),
      ...(visual ? { visual } : {}),
      ...(spec.durationSec !== undefined ? { durationSec: spec.durationSec } : {}),
      ...(spec.sfx ? { sfx: spec.sfx } : {}),
    };
  };

  for (const spec of template.scenes) {
    if (spec.when !== undefined && !values.has(spec.when)) continue;
    if (spec.repeat) {
      const items = (values.get(spec.repeat) as string[] | undefined) ?? [];
      items.forEach((item, i) => scenes.push(write(spec, { item, index: String(i + 1) })));
    } else if (spec.items) {
      const { field, perScene, text } = spec.items;
      const all = (values.get(field) as string[] | undefined) ?? [];
      // More items than a scene shows continue on copies of it. Narration that speaks the items
      // ({{list}}) is written for each copy; other narration only once, not repeated per copy.
      const spoken = (spec.narration ?? '').includes(`{{${LIST_PLACEHOLDER}}}`);
      chunks(all.map((item, i) => ({ item, index: i + 1 })), perScene).forEach((chunk, c) => {
        const listed = chunk.map(({ item, index }) => fill(text, values, { item, index: String(index) }));
        scenes.push(write(spec, { [LIST_PLACEHOLDER]: asSentences(chunk.map((x) => x.item)) }, listed, spoken || c === 0));
      });
    } else {
      scenes.push(write(spec, {}));
    }
  }
  const end = template.endCard;
  const endNarration = end.narration ? fill(end.narration, values) : '';
  const endSubtitle = end.subtitle ? fill(end.subtitle, values) : '';
  scenes.push({
    layout: 'end-card',
    title: fill(end.title, values),
    ...(endSubtitle ? { subtitle: endSubtitle } : {}),
    ...(endNarration ? { narration: endNarration } : {}),
    visual: paletteVisual(end.palette, palette),
    durationSec: end.durationSec,
  });
  return scenes;
}

/** The template's palette with the brand colours over it: brand colours win. */
function brandedPalette(template: Template, options: BriefOptions): Palette {
  const brandColors = options.brand?.colors ?? {};
  return {
    ...template.palette,
    ...(brandColors.primary ? { primary: brandColors.primary } : {}),
    ...(brandColors.secondary ? { secondary: brandColors.secondary } : {}),
    ...(brandColors.text ? { text: brandColors.text } : {}),
  };
}

/**
 * The template's look as brief options, under the brief's own: `design` (motion, text animation,
 * the title position of `ratio`, palette, background; the brief's design fields win), captions
 * and music (the brief's fields win), and the transition when neither the brief nor its preset
 * names one.
 */
function lookOptions(template: Template, palette: Palette, ratio: AspectRatio, options: BriefOptions): Pick<Brief, 'design' | 'captions' | 'music'> {
  const preset = options.preset ? PRESETS[options.preset].options : {};
  const own = (options.design ?? (preset as BriefOptions).design ?? {}) as Design;
  const design: Design = {
    template: template.name,
    motion: template.motion.style,
    ...(template.motion.textAnimation ? { textAnimation: template.motion.textAnimation } : {}),
    titlePosition: template.ratios[ratio].titlePosition,
    palette,
    background: template.background,
    ...own,
  };
  const music = options.music === false ? false : options.music ?? (preset.music as BriefOptions['music']);
  const captions = options.captions ?? (preset.captions as BriefOptions['captions']);
  return {
    design,
    // The template's music style belongs to its mood: a brief that picks its own mood loses it.
    music: music === false ? false : { mood: template.music.mood, ...(template.music.style && !music?.mood ? { style: template.music.style } : {}), ...music },
    captions: captions === false ? false : { style: template.captionStyle, ...captions },
  };
}

/** Whether the brief (or its preset) sets `key`. */
function gives(options: BriefOptions, key: keyof BriefOptions): boolean {
  const preset = options.preset ? PRESETS[options.preset].options : {};
  return options[key] !== undefined || (preset as BriefOptions)[key] !== undefined;
}

/**
 * Expands template `name` with `merge` into a v1 brief; `options` are the brief's own options,
 * which win over the template's (so do its preset's).
 */
export function expandTemplate(name: TemplateName | string, merge: MergeInput = {}, options: BriefOptions = {}): Brief {
  const template = getTemplate(name);
  if (options.design?.template !== undefined && options.design.template !== template.name) {
    throw new AppError('invalid_brief', `invalid brief: design.template: a "${template.name}" brief has that template's look: remove design.template`, {
      details: [{ path: 'design.template', message: `a "${template.name}" brief has that template's look: remove design.template, or use it with a prompt, script or scenes` }],
    });
  }
  const values = mergeValues(template, merge);
  const preset = options.preset ? PRESETS[options.preset].options : {};
  const ratio = options.aspectRatio ?? preset.aspectRatio ?? template.defaultRatio;
  // Brand colours override the palette; the palette fills the brand colours the brief leaves out.
  const palette = brandedPalette(template, options);
  const scenes = writeScenes(template, palette, values);
  // The template's transitions in turn, unless the brief (or its preset) names one for all scenes.
  if (!gives(options, 'transition')) {
    scenes.forEach((scene, i) => {
      if (i > 0) scene.transition = template.transitions[(i - 1) % template.transitions.length];
    });
  }

  const logo = template.endCard.logoField ? values.get(template.endCard.logoField) : undefined;
  const brand = {
    ...options.brand,
    colors: { primary: palette.primary, secondary: palette.secondary, text: palette.text },
    ...(options.brand?.logo === undefined && typeof logo === 'string' ? { logo } : {}),
  };
  const title = fill(template.videoTitle, values);
  return parseBrief({
    ...options,
    scenes,
    ...(gives(options, 'title') || !title ? {} : { title }),
    ...(gives(options, 'aspectRatio') ? {} : { aspectRatio: template.defaultRatio }),
    ...lookOptions(template, palette, ratio, options),
    brand,
  });
}

/** Whether the brief's narration is English, the language of the templates' keywords. */
function english(options: BriefOptions): boolean {
  const preset = options.preset ? PRESETS[options.preset].options : {};
  return /^en(?:-|$)/i.test(options.language ?? (preset as BriefOptions).language ?? 'en');
}

/**
 * The template whose look a brief without a template takes: the one `design.template` names, or,
 * for an English prompt with no `design`, the best match of its words; undefined for none.
 */
export function lookTemplate(brief: Brief): Template | undefined {
  if (brief.template !== undefined) return undefined;
  if (brief.design?.template) return getTemplate(brief.design.template);
  const preset = brief.preset ? PRESETS[brief.preset].options : {};
  if (brief.prompt === undefined || brief.design !== undefined || (preset as BriefOptions).design !== undefined || !english(brief)) return undefined;
  const pick = pickTemplate(brief.prompt);
  return pick ? getTemplate(pick.name) : undefined;
}

/**
 * The brief with its template expanded into scenes; a brief without one with the look of the
 * template it names in `design.template` or its prompt calls for (not its scenes); otherwise as it is.
 */
export function expandBriefTemplate(brief: Brief): Brief {
  if (brief.template !== undefined) {
    const { template, merge, prompt: _p, script: _s, scenes: _c, ...options } = brief;
    return expandTemplate(template, merge ?? {}, options);
  }
  const look = lookTemplate(brief);
  if (!look) return brief;
  const preset = brief.preset ? PRESETS[brief.preset].options : {};
  const ratio = brief.aspectRatio ?? preset.aspectRatio ?? '16:9';
  return parseBrief({
    ...brief,
    ...lookOptions(look, brandedPalette(look, brief), ratio, brief),
    ...(gives(brief, 'transition') ? {} : { transition: look.transitions[0] }),
  });
}

/** A template brief's media merge values: the field, its value and its kind, for the checks at submit. */
export function mergeMedia(brief: Brief): { path: string; src: string; kind: 'image' | 'video' }[] {
  if (brief.template === undefined) return [];
  const template = getTemplate(brief.template);
  const media: { path: string; src: string; kind: 'image' | 'video' }[] = [];
  for (const [name, field] of Object.entries(template.fields)) {
    if (field.type !== 'image' && field.type !== 'video') continue;
    const value = brief.merge?.[name] ?? field.default;
    if (typeof value === 'string' && value.trim() !== '') media.push({ path: `merge.${name}`, src: value.trim(), kind: field.type });
  }
  return media;
}

/**
 * The template brief's media merge fields whose file is missing, on `merge.<field>` with the fix:
 * `problemOf` says what is wrong with a local path (undefined when it is usable). URLs are left to
 * the download checks, which name them the same way.
 */
export function mergeMediaProblems(brief: Brief, problemOf: (src: string) => string | undefined): ErrorDetail[] {
  return mergeMedia(brief).flatMap(({ path, src, kind }) => {
    if (HTTP_URL.test(src)) return [];
    const problem = problemOf(src);
    if (!problem) return [];
    const name = path.slice('merge.'.length);
    const field = getTemplate(brief.template!).fields[name];
    const fix = `give the ${kind} "${name}" (${field?.description ?? kind}) as an existing file or an http(s) URL${field?.required ? '' : ', or leave it out'}`;
    return [{ path, message: `${problem}; ${fix}` }];
  });
}

/**
 * For renders from files (the CLI): the template brief's media merge fields that name no file
 * relative to `baseDir`, as one 422 asset_not_found on `merge.<field>`, before anything is expanded.
 */
export function assertMergeMedia(brief: Brief, baseDir: string): void {
  const problems = mergeMediaProblems(brief, (src) => {
    const full = isAbsolute(src) ? src : resolve(baseDir, src);
    return existsSync(full) && statSync(full).isFile() ? undefined : `file not found: ${full}`;
  });
  if (problems[0]) throw new AppError('asset_not_found', `${problems[0].path}: ${problems[0].message}`, { details: problems });
}
