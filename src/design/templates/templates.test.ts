/** Design templates: every data file validates, bad ones fail, merges expand into scenes or fail naming merge.<field>. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { ASPECT_RATIOS, TEMPLATE_NAMES, TRANSITIONS } from '../../contract/brief.js';
import { AppError } from '../../contract/errors.js';
import { parseBrief, resolveBrief } from '../../contract/resolve.js';
import { expandBriefTemplate, expandTemplate, type MergeInput } from './merge.js';
import { getTemplate, loadTemplates, parseTemplate, templateSamples, templates } from './registry.js';

/** The details of the invalid_brief error `fn` throws. */
function detailsOf(fn: () => unknown): { path?: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof AppError, String(error));
    assert.equal(error.code, 'invalid_brief');
    return error.details;
  }
  assert.fail('expected invalid_brief');
}

test('every template file loads, one per name, designed for all four ratios', () => {
  const all = templates();
  assert.deepEqual(all.map((t) => t.name), [...TEMPLATE_NAMES]);
  assert.ok(all.length >= 8);
  for (const t of all) {
    assert.deepEqual(Object.keys(t.ratios).sort(), [...ASPECT_RATIOS].sort(), t.name);
    assert.ok(t.transitions.every((name) => (TRANSITIONS as readonly string[]).includes(name)));
    assert.ok(Object.values(t.fields).some((f) => f.required), `${t.name} has a required field`);
  }
});

test('a broken template fails to load, naming the field', () => {
  const good = structuredClone(getTemplate('explainer')) as unknown as Record<string, unknown>;
  const unknownPlaceholder = structuredClone(good) as { scenes: { narration?: string }[] };
  unknownPlaceholder.scenes[0]!.narration = 'About {{nothing}}.';
  assert.throws(() => parseTemplate(unknownPlaceholder, 'x.json'), /scenes\.0\.narration: \{\{nothing\}\} is not a field/);
  const missingRatio = structuredClone(good) as { ratios: Record<string, unknown> };
  delete missingRatio.ratios['4:5'];
  assert.throws(() => parseTemplate(missingRatio, 'x.json'), /ratios\.4:5/);
  const badTransition = { ...good, transitions: ['spin'] };
  assert.throws(() => parseTemplate(badTransition, 'x.json'), /transitions\.0/);
  const badRepeat = structuredClone(good) as { scenes: { repeat?: string }[] };
  badRepeat.scenes[0]!.repeat = 'topic';
  assert.throws(() => parseTemplate(badRepeat, 'x.json'), /"topic" is a text field; use a list field/);
  // A directory whose file does not validate (or is misnamed) stops the load.
  const dir = mkdtempSync(join(tmpdir(), 'templates-'));
  writeFileSync(join(dir, 'explainer.json'), JSON.stringify({ ...good, palette: { background: 'blue' } }));
  assert.throws(() => loadTemplates(pathToFileURL(`${dir}/`)), /explainer\.json is invalid: palette/);
  writeFileSync(join(dir, 'explainer.json'), JSON.stringify({ ...good, name: 'top-list' }));
  assert.throws(() => loadTemplates(pathToFileURL(`${dir}/`)), /name the file top-list\.json/);
});

test('merge errors name merge.<field> and say what to give', () => {
  const unknown = detailsOf(() => expandTemplate('product-launch', { product: 'Nimbus', tagline: 'Sun power', colour: '#fff' }));
  assert.equal(unknown[0]?.path, 'merge.colour');
  assert.match(unknown[0]!.message, /no field "colour": use one of product, tagline, benefit, price, image, cta, logo/);

  const missing = detailsOf(() => expandTemplate('product-launch', { product: 'Nimbus' }));
  assert.deepEqual(missing.map((d) => d.path), ['merge.tagline']);
  assert.match(missing[0]!.message, /required/);

  const types = detailsOf(() => expandTemplate('product-launch', { product: 'Nimbus', tagline: 'x', image: 'ftp://host/a.jpg' }));
  assert.equal(types[0]?.path, 'merge.image');
  assert.match(types[0]!.message, /path or an http\(s\) URL/);
  const color = detailsOf(() => expandTemplate('top-list', { heading: 'Top 3', items: ['a'], background: 'red' }));
  assert.equal(color[0]?.path, 'merge.background');
  assert.match(color[0]!.message, /hex colour/);

  const long = detailsOf(() => expandTemplate('product-launch', { product: 'N'.repeat(41), tagline: 'x' }));
  assert.equal(long[0]?.path, 'merge.product');
  assert.match(long[0]!.message, /41 characters, at most 40/);
  const items = detailsOf(() => expandTemplate('top-list', { heading: 'Top', items: Array.from({ length: 11 }, (_, i) => `item ${i}`) }));
  assert.equal(items[0]?.path, 'merge.items');
  assert.match(items[0]!.message, /11 items, at most 10/);
});

test('a template expands into scenes with its fields filled, transitions from its set and an end card', () => {
  const merge: MergeInput = { ...templateSamples(getTemplate('product-launch')), image: 'https://example.com/nimbus.jpg', logo: 'assets/logo.png' };
  const brief = expandTemplate('product-launch', merge);
  const scenes = brief.scenes!;
  assert.equal(scenes[0]?.title, 'Nimbus Backpack');
  assert.equal(scenes[0]?.narration, 'Meet Nimbus Backpack. The backpack that charges your phone with sunlight.');
  assert.deepEqual(scenes[0]?.visual, { type: 'image', src: 'https://example.com/nimbus.jpg', motion: 'zoom-in' });
  for (const scene of scenes) assert.doesNotMatch(JSON.stringify(scene), /\{\{/);
  assert.deepEqual(scenes.map((s) => s.transition), [undefined, 'slide-left', 'circle-open', 'wipe-up']);
  const end = scenes.at(-1)!;
  assert.equal(end.title, 'Order today at nimbus.example');
  assert.equal(end.durationSec, 3);
  assert.equal(brief.brand?.logo, 'assets/logo.png');
  assert.equal(brief.title, 'Introducing Nimbus Backpack');
  assert.deepEqual(brief.music, { mood: 'uplifting', style: 'modern electronic pop, driving beat' });
  assert.deepEqual(brief.captions, { style: 'bold' });
  assert.equal(brief.brand?.colors?.primary, '#6366f1');
  // Optional scenes drop out when their field is empty; an empty image field falls back to the palette.
  const bare = expandTemplate('product-launch', { product: 'Nimbus', tagline: 'Sun power' });
  assert.equal(bare.scenes!.length, 3);
  assert.equal(bare.scenes![0]?.visual?.type, 'gradient');
  assert.equal(bare.scenes!.at(-1)?.title, 'Available now', 'the default call to action');
});

test('a list field repeats its scene per item (array or lines), numbered', () => {
  const fromLines = expandTemplate('tutorial-steps', { goal: 'make tea', steps: 'Boil water\nAdd the leaves\n\nWait three minutes' });
  const titles = fromLines.scenes!.map((s) => s.title);
  assert.deepEqual(titles.slice(0, 4), ['How to make tea', 'Step 1', 'Step 2', 'Step 3']);
  assert.equal(fromLines.scenes![3]?.narration, 'Step 3. Wait three minutes.');
  const fromArray = expandTemplate('tutorial-steps', { goal: 'make tea', steps: ['Boil water', 'Add the leaves', 'Wait three minutes'] });
  assert.deepEqual(fromArray.scenes, fromLines.scenes);
  // Transitions cycle through the set.
  assert.deepEqual(fromArray.scenes!.slice(1).map((s) => s.transition), ['slide-left', 'smooth-left', 'slide-left', 'smooth-left']);
});

test('explicit brief options win over the template (brand colours over the palette, preset ratio, transition)', () => {
  const brief = expandBriefTemplate(parseBrief({
    template: 'explainer',
    merge: { topic: 'Tides', question: 'Why do tides happen?', how: 'The moon pulls the sea.' },
    preset: 'social_vertical',
    transition: 'dissolve',
    brand: { colors: { primary: '#123456' } },
    music: { volume: 0.3 },
    captions: { style: 'boxed' },
  }));
  const resolved = resolveBrief(brief);
  assert.equal(resolved.aspectRatio, '9:16', 'the preset\'s ratio, not the template\'s 16:9');
  assert.equal(resolved.transition, 'dissolve');
  assert.ok(brief.scenes!.every((s) => s.transition === undefined));
  assert.equal(resolved.brand?.colors.primary, '#123456');
  assert.deepEqual(brief.scenes![1]?.visual, { type: 'gradient', colors: ['#93c5fd', '#123456'] }, 'the brand colour replaces the palette role');
  assert.deepEqual(resolved.music, { mood: 'calm', volume: 0.3, style: 'soft piano and light strings' });
  assert.equal(resolved.captions && resolved.captions.style, 'boxed');
  assert.equal(resolved.source.kind, 'scenes');
});

test('the brief schema takes template + merge as a source, and refuses mixing it with another', () => {
  assert.equal(parseBrief({ template: 'social-hook', merge: { hook: 'Hi', payoff: 'There' } }).template, 'social-hook');
  assert.throws(() => parseBrief({ template: 'social-hook', prompt: 'an ad' }), /prompt: a "template" writes the scenes from "merge": remove "prompt"/);
  assert.throws(() => parseBrief({ prompt: 'an ad for tea', merge: { a: 'b' } }), /merge: "merge" fills a template's fields: add "template"/);
  assert.throws(() => parseBrief({ template: 'nope' }), /template/);
  assert.throws(() => resolveBrief(parseBrief({ template: 'social-hook' })), /not expanded/);
});

test('docs/templates.md describes every template and its fields', () => {
  const doc = readFileSync(new URL('../../../docs/templates.md', import.meta.url), 'utf8');
  for (const t of templates()) {
    assert.ok(doc.includes(`### ${t.name}\n`), `docs/templates.md lacks ${t.name}`);
    for (const name of Object.keys(t.fields)) assert.ok(doc.includes(`| \`${name}\` |`), `docs/templates.md lacks ${t.name}'s ${name}`);
  }
});
