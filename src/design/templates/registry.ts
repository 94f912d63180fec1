/**
 * The design templates: every JSON file in ./data, validated by templateSchema when first asked
 * for. A file that does not validate stops the program with the file and the field to fix.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { AppError } from '../../contract/errors.js';
import { TEMPLATE_NAMES, type TemplateName } from '../../contract/brief.js';
import { templateSchema, type FieldType, type Template } from './template.schema.js';

const DATA_DIR = new URL('./data/', import.meta.url);

/** Validates one template's data; `source` names it in the error (a file name). */
export function parseTemplate(data: unknown, source: string): Template {
  const result = templateSchema.safeParse(data);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
  throw new AppError('internal', `template ${source} is invalid: ${details[0]?.path}: ${details[0]?.message}`, { details });
}

/** Reads and validates every template file in `dir`; the file is named after its template. */
export function loadTemplates(dir: URL = DATA_DIR): Map<TemplateName, Template> {
  const templates = new Map<TemplateName, Template>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
    } catch (error) {
      throw new AppError('internal', `template ${file} is not valid JSON: ${(error as Error).message}`);
    }
    const template = parseTemplate(data, file);
    if (`${template.name}.json` !== file) throw new AppError('internal', `template ${file} is named "${template.name}": name the file ${template.name}.json`);
    templates.set(template.name, template);
  }
  const missing = TEMPLATE_NAMES.filter((name) => !templates.has(name));
  if (missing[0]) throw new AppError('internal', `no template file for ${missing.join(', ')} (TEMPLATE_NAMES in contract/brief.ts)`);
  return templates;
}

let cached: Map<TemplateName, Template> | undefined;

/** All templates, in TEMPLATE_NAMES order (loaded once). */
export function templates(): Template[] {
  cached ??= loadTemplates();
  return TEMPLATE_NAMES.map((name) => cached!.get(name)!);
}

/** One template by name, or a not_found error listing the names. */
export function getTemplate(name: string): Template {
  const found = templates().find((t) => t.name === name);
  if (!found) throw new AppError('not_found', `no template ${name}`, { details: [{ path: 'name', message: `use one of ${TEMPLATE_NAMES.join(', ')}` }] });
  return found;
}

/** What the catalog shows of a template: no scene skeletons, the rest as data. */
export function templateSummary(template: Template): {
  name: string;
  title: string;
  description: string;
  ratios: string[];
  defaultRatio: string;
  fields: { name: string; type: FieldType; required: boolean; description: string; sample: string | number | string[]; default?: string | number | string[]; maxLength?: number; maxItems?: number }[];
} {
  return {
    name: template.name,
    title: template.title,
    description: template.description,
    ratios: Object.keys(template.ratios),
    defaultRatio: template.defaultRatio,
    fields: Object.entries(template.fields).map(([name, f]) => ({
      name,
      type: f.type,
      required: f.required,
      description: f.description,
      sample: f.sample,
      ...(f.default !== undefined ? { default: f.default } : {}),
      ...(f.maxLength !== undefined ? { maxLength: f.maxLength } : {}),
      ...(f.maxItems !== undefined ? { maxItems: f.maxItems } : {}),
    })),
  };
}

/**
 * The template's sample values as a merge, for `aiprod render --template`: every field but media
 * (image, video), whose samples name files a checkout does not have; give those with --set.
 */
export function templateSamples(template: Template): Record<string, string | number | string[]> {
  return Object.fromEntries(Object.entries(template.fields).filter(([, f]) => f.type !== 'image' && f.type !== 'video').map(([name, f]) => [name, f.sample]));
}
