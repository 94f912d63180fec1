/**
 * Every design template rendered as a preview in two ratios (together all four ratios, each
 * twice), from its samples with the example media in its media fields: the picture has the
 * ratio's preview size, the video lasts its timeline, there is sound, and qa.json passes with no
 * check failed. The renders share one cache, so a template's voice and music are made once.
 * Also: the CLI refuses a template media field naming no file on merge.<field>.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { AspectRatio, TemplateName } from '../../src/contract/brief.js';
import { PREVIEW_SHORT_SIDE, frameSize, parseBrief } from '../../src/contract/resolve.js';
import { expandBriefTemplate, type MergeInput } from '../../src/design/templates/merge.js';
import { getTemplate, templateSamples, templates } from '../../src/design/templates/registry.js';
import { file, render, runCli, tempDir } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const cacheDir = tempDir('templates-cache');

/** Two ratios per template, chosen so that each ratio is rendered by four templates. */
const RATIOS: Record<TemplateName, [AspectRatio, AspectRatio]> = {
  'product-launch': ['16:9', '1:1'],
  explainer: ['9:16', '4:5'],
  'top-list': ['9:16', '1:1'],
  testimonial: ['4:5', '16:9'],
  'event-promo': ['1:1', '9:16'],
  'news-update': ['16:9', '4:5'],
  'tutorial-steps': ['4:5', '1:1'],
  'social-hook': ['9:16', '16:9'],
};

/** The samples with the example media in the media fields; lists cut to three items to keep the renders short. */
function merge(name: TemplateName): MergeInput {
  const template = getTemplate(name);
  const values: MergeInput = { ...templateSamples(template) };
  for (const [field, spec] of Object.entries(template.fields)) {
    if (field === template.endCard.logoField) values[field] = 'examples/assets/logo.png';
    else if (spec.type === 'image') values[field] = 'examples/assets/fractal.jpg';
    else if (spec.type === 'video') values[field] = 'examples/assets/cells.mp4';
    else if (spec.type === 'list' && Array.isArray(values[field])) values[field] = (values[field] as string[]).slice(0, 3);
  }
  return values;
}

test('every template has two ratios here, and every ratio four templates', () => {
  assert.deepEqual(Object.keys(RATIOS).sort(), templates().map((t) => t.name).sort());
  const counts = new Map<string, number>();
  for (const pair of Object.values(RATIOS)) for (const ratio of pair) counts.set(ratio, (counts.get(ratio) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(counts), { '16:9': 4, '1:1': 4, '9:16': 4, '4:5': 4 });
});

for (const template of templates()) {
  test(`${template.name} renders in ${RATIOS[template.name].join(' and ')}: size, duration, sound, qa`, async () => {
    for (const ratio of RATIOS[template.name]) {
      const brief = expandBriefTemplate(parseBrief({ template: template.name, merge: merge(template.name), aspectRatio: ratio, preview: true }));
      const { result, delivered, deps } = await render(brief, { cacheDir, baseDir: ROOT });
      const probe = await deps.media.probe(file(delivered, 'video.mp4'));
      const size = frameSize(ratio, PREVIEW_SHORT_SIDE);
      assert.deepEqual([probe.video?.width, probe.video?.height], [size.width, size.height], `${template.name} ${ratio}`);
      const timeline = result.state.timeline!.totalSec;
      assert.ok(Math.abs(probe.durationSec - timeline) < 0.15, `${template.name} ${ratio}: ${probe.durationSec} s, timeline ${timeline} s`);
      assert.equal(probe.audio?.codecType, 'audio', `${template.name} ${ratio} has sound`);
      assert.ok((probe.audio?.channels ?? 0) > 0);
      const qa = JSON.parse(readFileSync(file(delivered, 'qa.json'), 'utf8')) as { passed: boolean; checks: { name: string; passed: boolean }[] };
      assert.deepEqual(qa.checks.filter((c) => !c.passed), [], `${template.name} ${ratio}: failed qa checks`);
      assert.equal(qa.passed, true, `${template.name} ${ratio}`);
      // The storyboard is the template's: its scenes with their layouts, the end card last.
      const scenes = result.state.storyboard!.scenes;
      assert.equal(scenes.length, brief.scenes!.length);
      assert.equal(scenes.at(-1)?.layout, 'end-card');
      assert.ok(existsSync(file(delivered, 'contact-sheet.jpg')));
    }
  });
}

test('the CLI refuses a template media field naming no file on merge.<field>, and writes nothing', async () => {
  const out = join(tempDir('cli-template-media'), 'out');
  const r = await runCli(['render', '--template', 'product-launch', '--set', 'image=no/such/picture.jpg', '--preview', '--out', out]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error \[asset_not_found\]: merge\.image: file not found: \S+no\/such\/picture\.jpg; give the image "image" \(Product picture/m);
  assert.equal(existsSync(out), false);
});
