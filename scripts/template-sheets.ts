/**
 * `npm run docs:templates`: renders every template with its sample values in each of the four
 * ratios as a preview (`preview: true`, through the same steps as `aiprod render --template`),
 * keeps each render's contact sheet small (cells 240 px on their long side, JPEG quality 7) as
 * docs/templates/<name>-<ratio>.jpg, and rewrites the per-template part of docs/templates.md
 * (between its templates markers) with each template's look, merge fields and sheets.
 *
 * Media fields have no usable samples in a checkout, so the sheets show the example media:
 * image fields examples/assets/fractal.jpg, video fields examples/assets/cells.mp4, the end card's
 * logo field examples/assets/logo.png.
 *
 *   npm run docs:templates                       # all templates (32 preview renders)
 *   npm run docs:templates -- --only top-list    # one template
 *   npm run docs:templates -- --docs-only        # only docs/templates.md, from the images there
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadEnv } from '../src/config/env.js';
import { ASPECT_RATIOS, type AspectRatio } from '../src/contract/brief.js';
import { parseBrief, resolveBrief } from '../src/contract/resolve.js';
import { assertMergeMedia, expandBriefTemplate, type MergeInput } from '../src/design/templates/merge.js';
import { templateSamples, templates } from '../src/design/templates/registry.js';
import type { Template } from '../src/design/templates/template.schema.js';
import { createPipelineDeps } from '../src/main/container.js';
import { renderBrief } from '../src/pipeline/run.js';

const ROOT = join(import.meta.dirname, '..');
const DOC = join(ROOT, 'docs', 'templates.md');
const IMAGES = join(ROOT, 'docs', 'templates');
const BEGIN = '<!-- templates:begin (npm run docs:templates writes this part) -->';
const END = '<!-- templates:end -->';
/**
 * The sheets stay small, a few tens of KB each, committed with the docs: the render's cells (320 px
 * on the long side) at 3/4 — 240 px, so a 16:9 row of four scenes is 960 × 135, not a strip.
 */
const SHEET_SCALE = 0.75;
const SHEET_QUALITY = 7;

const EXAMPLE_MEDIA = { image: 'examples/assets/fractal.jpg', video: 'examples/assets/cells.mp4', logo: 'examples/assets/logo.png' } as const;

/** The template's samples, with the example media in its media fields. */
function sheetMerge(template: Template): MergeInput {
  const merge: MergeInput = { ...templateSamples(template) };
  for (const [name, field] of Object.entries(template.fields)) {
    if (name === template.endCard.logoField) merge[name] = EXAMPLE_MEDIA.logo;
    else if (field.type === 'image' || field.type === 'video') merge[name] = EXAMPLE_MEDIA[field.type];
  }
  return merge;
}

const imageName = (template: Template, ratio: AspectRatio): string => `${template.name}-${ratio.replace(':', 'x')}.jpg`;

/** Renders one template in one ratio and writes its small contact sheet; returns the QA verdict. */
async function renderSheet(template: Template, ratio: AspectRatio, deps: Awaited<ReturnType<typeof createPipelineDeps>>): Promise<{ passed: boolean; seconds: number; failed: string[] }> {
  const source = parseBrief({ template: template.name, merge: sheetMerge(template), aspectRatio: ratio, preview: true });
  assertMergeMedia(source, ROOT);
  const brief = resolveBrief(expandBriefTemplate(source));
  const result = await renderBrief(brief, deps, { baseDir: ROOT });
  const sheet = result.state.outputs?.find((file) => file.name === 'contact-sheet.jpg');
  if (!sheet) throw new Error(`${template.name} ${ratio}: the render wrote no contact sheet`);
  const out = join(IMAGES, imageName(template, ratio));
  await deps.media.ffmpeg(['-y', '-v', 'error', '-i', sheet.path, '-vf', `scale=trunc(iw*${SHEET_SCALE}/2)*2:-2:flags=lanczos`, '-q:v', String(SHEET_QUALITY), out]);
  const qa = result.state.qa;
  return { passed: qa?.passed === true, seconds: result.state.timeline?.totalSec ?? 0, failed: (qa?.checks ?? []).filter((c) => !c.passed).map((c) => c.name) };
}

/** A merge field's sample as the table shows it. */
const shown = (value: unknown): string => JSON.stringify(value).replace(/\|/g, '\\|');

/** The per-template part of docs/templates.md. */
function templatesMarkdown(all: readonly Template[]): string {
  const parts: string[] = [];
  for (const t of all) {
    const layouts = [...new Set(t.scenes.map((s) => s.layout ?? 'title'))].join(', ');
    parts.push(`### ${t.name}\n`);
    parts.push(`${t.description}\n`);
    parts.push(
      `Default ratio ${t.defaultRatio}; motion ${t.motion.style}${t.motion.textAnimation ? ` (text ${t.motion.textAnimation})` : ''}; background ${t.background}; ` +
        `layouts ${layouts}, end-card; captions ${t.captionStyle}; music ${t.music.mood}; transitions ${t.transitions.join(', ')}.\n`,
    );
    parts.push('| Field | Type | Required | Description | Sample |\n|---|---|---|---|---|');
    for (const [name, f] of Object.entries(t.fields)) {
      const limits = [f.maxLength !== undefined ? `≤ ${f.maxLength} chars` : '', f.maxItems !== undefined ? `≤ ${f.maxItems} items` : ''].filter(Boolean).join(', ');
      const description = `${f.description}${limits ? ` (${limits})` : ''}.${f.default !== undefined ? ` Default: ${shown(f.default)}.` : ''}`;
      parts.push(`| \`${name}\` | ${f.type} | ${f.required ? 'yes' : 'no'} | ${description} | ${shown(f.sample)} |`);
    }
    const sheets = ASPECT_RATIOS.filter((ratio) => existsSync(join(IMAGES, imageName(t, ratio))));
    if (sheets.length > 0) {
      parts.push('');
      parts.push(sheets.map((ratio) => `![${t.name} ${ratio}](templates/${imageName(t, ratio)})`).join(' '));
      parts.push(`\n<sub>Contact sheets (${sheets.join(', ')}): the samples, rendered with \`preview: true\`, one frame per scene.</sub>`);
    }
    parts.push('');
  }
  return parts.join('\n');
}

function writeDocs(): void {
  const text = readFileSync(DOC, 'utf8');
  const from = text.indexOf(BEGIN);
  const to = text.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${relative(ROOT, DOC)} has no "${BEGIN}" … "${END}" markers`);
  writeFileSync(DOC, `${text.slice(0, from + BEGIN.length)}\n\n${templatesMarkdown(templates())}\n${text.slice(to)}`);
  console.log(`${relative(ROOT, DOC)}: the templates updated`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  if (!args.includes('--docs-only')) {
    const chosen = templates().filter((t) => only === undefined || t.name === only);
    if (chosen.length === 0) throw new Error(`no template ${only}`);
    mkdirSync(IMAGES, { recursive: true });
    // One cache for all renders: the voice and the music of a template are made once for its four ratios.
    const cacheDir = join(tmpdir(), 'aiprod-template-sheets-cache');
    const deps = await createPipelineDeps(loadEnv(process.env), { cacheDir });
    const failures: string[] = [];
    for (const template of chosen) {
      for (const ratio of ASPECT_RATIOS) {
        const started = performance.now();
        const { passed, seconds, failed } = await renderSheet(template, ratio, deps);
        const size = statSync(join(IMAGES, imageName(template, ratio))).size;
        const took = ((performance.now() - started) / 1000).toFixed(1);
        console.log(`${template.name} ${ratio}: ${seconds.toFixed(1)} s of video in ${took} s, sheet ${(size / 1024).toFixed(0)} KB, qa ${passed ? 'passed' : `FAILED (${failed.join(', ')})`}`);
        if (!passed) failures.push(`${template.name} ${ratio}: ${failed.join(', ')}`);
      }
    }
    if (!process.env.AIPROD_KEEP_SHEET_CACHE) rmSync(cacheDir, { recursive: true, force: true });
    if (failures.length > 0) console.warn(`qa failed for:\n  ${failures.join('\n  ')}`);
  }
  writeDocs();
}

await main();
