/**
 * The brief's field reference as Markdown, generated from the zod schema (via JSON Schema) so the
 * README cannot drift from what the validator accepts; a test compares the two.
 */
import { z } from 'zod';
import { briefSchema } from './brief.js';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

function describeType(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(describeType).join(' \\| ');
  if (s.type === 'array') return `array of ${s.items ? describeType(s.items) : 'any'}${range(s.minItems, s.maxItems, ' items')}`;
  if (s.type === 'object') return 'object';
  if (s.type === 'number' || s.type === 'integer') return `${s.type}${range(s.minimum, s.maximum, '')}`;
  if (s.type === 'string') return `string${range(s.minLength, s.maxLength, ' chars')}`;
  return String(s.type ?? 'any');
}

function range(min: number | undefined, max: number | undefined, unit: string): string {
  if (min === undefined && max === undefined) return '';
  if (min !== undefined && max !== undefined) return ` (${min}–${max}${unit})`;
  return min !== undefined ? ` (≥ ${min}${unit})` : ` (≤ ${max}${unit})`;
}

function rows(s: JsonSchema, path: string, out: string[][]): void {
  const alts = s.anyOf ?? s.oneOf;
  const objects = alts?.filter((a) => a.type === 'object' && a.properties) ?? [];
  out.push([`\`${path}\``, describeType(s), (s.description ?? objects.find((o) => o.description)?.description ?? '').replaceAll('|', '\\|')]);
  if (s.type === 'object' && s.properties) {
    for (const [k, v] of Object.entries(s.properties)) rows(v, `${path}.${k}`, out);
  }
  if (s.type === 'array' && s.items?.type === 'object') rows(s.items, `${path}[]`, out);
  if (s.type === 'array' && s.items && (s.items.anyOf ?? s.items.oneOf)) {
    const itemAlts = (s.items.anyOf ?? s.items.oneOf ?? []).filter((a) => a.properties);
    for (const alt of itemAlts) for (const [k, v] of Object.entries(alt.properties ?? {})) rows(v, `${path}[].${k}`, out);
  }
  for (const alt of alts ?? []) {
    if (alt.type === 'array' && alt.items?.type === 'object') rows(alt.items, `${path}[]`, out);
  }
  for (const alt of objects) {
    const tag = alt.properties?.type?.const;
    for (const [k, v] of Object.entries(alt.properties ?? {})) {
      if (k === 'type' && tag !== undefined) continue;
      rows(v, tag !== undefined ? `${path}{type=${JSON.stringify(tag)}}.${k}` : `${path}.${k}`, out);
    }
  }
}

/** A Markdown table of every brief field: dotted path, accepted values, meaning. */
export function briefReferenceMarkdown(): string {
  const schema = z.toJSONSchema(briefSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: string[][] = [];
  for (const [k, v] of Object.entries(schema.properties ?? {})) rows(v, k, out);
  const dedup = out.filter((r, i) => out.findIndex((o) => o[0] === r[0]) === i);
  return ['| field | accepts | meaning |', '| --- | --- | --- |', ...dedup.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
