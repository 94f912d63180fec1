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
import { assertMergeMedia, expandBriefTemplate, expandTemplate, mergeMedia, mergeMediaProblems, parseAmount, type MergeInput } from './merge.js';
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

test('a template expands into scenes with its fields filled, layouts, transitions from its set and an end card', () => {
  const merge: MergeInput = { ...templateSamples(getTemplate('product-launch')), image: 'https://example.com/nimbus.jpg', logo: 'assets/logo.png' };
  const brief = expandTemplate('product-launch', merge);
  const scenes = brief.scenes!;
  assert.equal(scenes[0]?.title, 'Nimbus Backpack');
  assert.equal(scenes[0]?.subtitle, 'The backpack that charges your phone with sunlight');
  assert.equal(scenes[0]?.narration, 'Meet Nimbus Backpack. The backpack that charges your phone with sunlight.');
  // The product picture is a split image beside the title, and a picture-in-picture by the price.
  assert.deepEqual(scenes[0]?.images, [{ src: 'https://example.com/nimbus.jpg', position: 'right' }]);
  assert.deepEqual(scenes[0]?.visual, { type: 'gradient', colors: ['#0f172a', '#6366f1'] });
  assert.equal(scenes[2]?.layout, 'counter');
  assert.deepEqual(scenes[2]?.counter, { to: 129, prefix: '$' }, 'the price "$129" counts up to 129 after a "$"');
  assert.deepEqual(scenes[2]?.images, [{ src: 'https://example.com/nimbus.jpg', position: 'pip' }]);
  for (const scene of scenes) assert.doesNotMatch(JSON.stringify(scene), /\{\{/);
  assert.deepEqual(scenes.map((s) => s.transition), [undefined, 'slide-left', 'circle-open', 'wipe-up']);
  const end = scenes.at(-1)!;
  assert.equal(end.layout, 'end-card');
  assert.equal(end.title, 'Order today at nimbus.example');
  assert.equal(end.subtitle, 'Nimbus Backpack');
  assert.equal(end.durationSec, 3);
  assert.equal(brief.brand?.logo, 'assets/logo.png');
  assert.equal(brief.title, 'Introducing Nimbus Backpack');
  assert.deepEqual(brief.music, { mood: 'uplifting', style: 'modern electronic pop, driving beat' });
  assert.deepEqual(brief.captions, { style: 'bold' });
  assert.equal(brief.brand?.colors?.primary, '#6366f1');
  // Optional scenes drop out when their field is empty, and so do images of an empty image field.
  const bare = expandTemplate('product-launch', { product: 'Nimbus', tagline: 'Sun power' });
  assert.equal(bare.scenes!.length, 3);
  assert.equal(bare.scenes![0]?.images, undefined);
  assert.equal(bare.scenes!.at(-1)?.title, 'Available now', 'the default call to action');
  // A price that is no amount is shown as it is, as a title.
  const free = expandTemplate('product-launch', { product: 'Nimbus', tagline: 'Sun power', price: 'Free for a month' });
  assert.equal(free.scenes![2]?.layout, undefined);
  assert.equal(free.scenes![2]?.counter, undefined);
  assert.equal(free.scenes![2]?.title, 'Launch price');
});

test('an amount written as text parses into a counter, or not at all', () => {
  assert.deepEqual(parseAmount('$129'), { to: 129, decimals: 0, prefix: '$', suffix: '' });
  assert.deepEqual(parseAmount('49.99 €'), { to: 49.99, decimals: 2, prefix: '', suffix: ' €' });
  assert.deepEqual(parseAmount('1,200 users'), { to: 1200, decimals: 0, prefix: '', suffix: ' users' });
  assert.equal(parseAmount('Free'), undefined);
  assert.equal(parseAmount('2 for 1'), undefined);
});

test('every template ends with an end card and resolves, in every ratio', () => {
  for (const t of templates()) {
    for (const ratio of ASPECT_RATIOS) {
      const brief = expandBriefTemplate(parseBrief({ template: t.name, merge: templateSamples(t), aspectRatio: ratio }));
      assert.equal(brief.scenes!.at(-1)?.layout, 'end-card', t.name);
      assert.ok(brief.scenes!.slice(0, -1).every((s) => s.layout !== 'end-card'), t.name);
      const resolved = resolveBrief(brief);
      assert.equal(resolved.design.template, t.name);
      assert.equal(resolved.design.titlePosition, t.ratios[ratio].titlePosition, `${t.name} ${ratio}`);
    }
  }
});

test('templates use layouts: lists from list fields, counters from numbers, quotes, lower thirds', () => {
  const layouts = (name: string, merge: MergeInput = templateSamples(getTemplate(name))): (string | undefined)[] => expandTemplate(name, merge).scenes!.map((s) => s.layout);
  assert.ok(layouts('top-list').includes('list'));
  assert.ok(layouts('tutorial-steps').includes('list'));
  assert.deepEqual(layouts('testimonial').slice(0, 2), ['quote', 'lower-third']);
  assert.ok(layouts('news-update').filter((l) => l === 'lower-third').length >= 2);
  assert.ok(layouts('event-promo').includes('counter'));
  assert.ok(layouts('product-launch').includes('counter'));
  // A number field feeds the counter: decimals as written.
  const event = expandTemplate('event-promo', { ...templateSamples(getTemplate('event-promo')), days: '12.5' });
  assert.deepEqual(event.scenes!.find((s) => s.layout === 'counter')?.counter, { to: 12.5, decimals: 1 });
  assert.equal(event.scenes!.find((s) => s.layout === 'counter')?.narration, 'Only 12.5 days to go.');
  const quote = expandTemplate('testimonial', { quote: 'Great.', person: 'Ana', brand: 'Ledgerly' });
  assert.equal(quote.scenes![0]?.subtitle, 'Ana', 'an empty role leaves no dangling comma');
  assert.equal(quote.scenes![1]?.narration, 'That\'s Ana.');
  const social = resolveBrief(expandTemplate('social-hook', templateSamples(getTemplate('social-hook'))));
  assert.equal(social.design.motion, 'punchy');
  assert.equal(social.captions && social.captions.style, 'word');
  assert.equal(resolveBrief(expandTemplate('explainer', templateSamples(getTemplate('explainer')))).design.motion, 'calm');
});

test('a list scene shows its field\'s items, a scene per group, the narration speaking each group', () => {
  const steps = ['Boil water', 'Add the leaves', 'Wait three minutes', 'Pour', 'Add milk'];
  const scenes = expandTemplate('tutorial-steps', { goal: 'make tea', steps }).scenes!;
  const lists = scenes.filter((s) => s.layout === 'list');
  assert.deepEqual(lists.map((s) => s.items), [steps.slice(0, 3), steps.slice(3)]);
  assert.equal(lists[0]?.narration, 'Boil water. Add the leaves. Wait three minutes.');
  assert.equal(lists[1]?.narration, 'Pour. Add milk.');
  // A list given as lines reads the same as an array; transitions cycle through the set.
  const fromLines = expandTemplate('tutorial-steps', { goal: 'make tea', steps: steps.join('\n\n') });
  assert.deepEqual(fromLines.scenes, scenes);
  assert.deepEqual(scenes.slice(1).map((s) => s.transition), ['slide-left', 'smooth-left', 'slide-left']);
  // top-list: a scene per item (repeat), numbered, then the whole list as a recap whose
  // narration (no {{list}} in it) is spoken once, not per group.
  const items = Array.from({ length: 7 }, (_, i) => `Tip ${i + 1}`);
  const top = expandTemplate('top-list', { heading: 'Top 7', items }).scenes!;
  assert.deepEqual(top.filter((s) => s.subtitle?.startsWith('Number')).map((s) => s.title), items);
  const recap = top.filter((s) => s.layout === 'list');
  assert.deepEqual(recap.map((s) => s.items), [items.slice(0, 5).map((t, i) => `${i + 1}. ${t}`), ['6. Tip 6', '7. Tip 7']]);
  assert.deepEqual(recap.map((s) => s.narration), ['That\'s the list.', undefined]);
});

test('the brief\'s design wins over the template\'s, brand colours over its palette', () => {
  const merge = templateSamples(getTemplate('news-update'));
  const own = resolveBrief(expandBriefTemplate(parseBrief({ template: 'news-update', merge, design: { motion: 'calm', background: 'particles' }, aspectRatio: '9:16' })));
  assert.equal(own.design.motion, 'calm');
  assert.equal(own.design.background, 'particles');
  assert.equal(own.design.titlePosition, 'bottom', 'the template\'s title position for 9:16');
  assert.equal(own.design.textAnimation, 'slide-left', 'the template\'s text animation stays');
  const branded = resolveBrief(expandBriefTemplate(parseBrief({ template: 'news-update', merge, brand: { colors: { primary: '#123456', text: '#fafafa' } } })));
  assert.deepEqual(branded.design.palette, { background: '#0b1220', primary: '#123456', secondary: '#1d4ed8', accent: '#e5e7eb', text: '#fafafa' });
  const palette = { background: '#000000', primary: '#111111', secondary: '#222222', accent: '#333333', text: '#ffffff' };
  assert.deepEqual(resolveBrief(expandBriefTemplate(parseBrief({ template: 'news-update', merge, design: { palette } }))).design.palette, palette);
  assert.deepEqual(
    detailsOf(() => expandBriefTemplate(parseBrief({ template: 'news-update', merge, design: { template: 'explainer' } }))).map((d) => d.path),
    ['design.template'],
  );
});

test('media merge fields that name no file are reported on merge.<field>; URLs are left to the download', () => {
  const base = mkdtempSync(join(tmpdir(), 'merge-media-'));
  writeFileSync(join(base, 'logo.png'), 'png');
  const brief = parseBrief({ template: 'event-promo', merge: { ...templateSamples(getTemplate('event-promo')), image: 'missing.jpg', video: 'https://example.com/a.mp4', logo: 'logo.png' } });
  assert.deepEqual(mergeMedia(brief).map((m) => [m.path, m.kind]), [['merge.image', 'image'], ['merge.video', 'video'], ['merge.logo', 'image']]);
  const problems = mergeMediaProblems(brief, (src) => (src === 'missing.jpg' ? 'file not found' : undefined));
  assert.deepEqual(problems.map((p) => p.path), ['merge.image']);
  assert.match(problems[0]!.message, /file not found; give the image "image" \(Event picture.*\) as an existing file or an http\(s\) URL, or leave it out/);
  try {
    assertMergeMedia(brief, base);
    assert.fail('expected asset_not_found');
  } catch (error) {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, 'asset_not_found');
    assert.deepEqual(error.details.map((d) => d.path), ['merge.image']);
    assert.ok(error.message.startsWith(`merge.image: file not found: ${join(base, 'missing.jpg')};`), error.message);
  }
  assert.doesNotThrow(() => assertMergeMedia(parseBrief({ template: 'event-promo', merge: { ...templateSamples(getTemplate('event-promo')), logo: 'logo.png' } }), base));
  assert.deepEqual(mergeMedia(parseBrief({ prompt: 'an ad for tea' })), []);
});

test('the scene design fields of a template are checked, naming the field', () => {
  const good = getTemplate('top-list');
  type Loose = { scenes: Record<string, unknown>[]; fields: Record<string, Record<string, unknown>> };
  const broken = (edit: (t: Loose) => unknown): unknown => {
    const copy = structuredClone(good) as unknown as Loose;
    edit(copy);
    return copy;
  };
  assert.throws(() => parseTemplate(broken((t) => (t.scenes[2]!.items = { field: 'heading' })), 'x.json'), /scenes\.2\.items\.field: "heading" is a text field; use a list field/);
  assert.throws(() => parseTemplate(broken((t) => delete t.scenes[2]!.items), 'x.json'), /scenes\.2\.items: a list scene takes its items from a list field/);
  assert.throws(() => parseTemplate(broken((t) => (t.scenes[0]!.subtitle = '{{nope}}')), 'x.json'), /scenes\.0\.subtitle: \{\{nope\}\} is not a field/);
  assert.throws(() => parseTemplate(broken((t) => (t.scenes[0]!.title = '{{list}}')), 'x.json'), /scenes\.0\.title: \{\{list\}\} is not a field/);
  assert.throws(() => parseTemplate(broken((t) => (t.scenes[0]!.layout = 'counter')), 'x.json'), /scenes\.0\.counter: a counter scene counts a field/);
  assert.throws(() => parseTemplate(broken((t) => Object.assign(t.scenes[0]!, { layout: 'counter', counter: { field: 'items' } })), 'x.json'), /scenes\.0\.counter\.field: "items" is a list field; use a number or text field/);
  assert.throws(() => parseTemplate(broken((t) => (t.scenes[0]!.images = [{ field: 'background' }])), 'x.json'), /scenes\.0\.images\.0\.field: "background" is a color field; use a image field/);
  assert.throws(() => parseTemplate(broken((t) => (t.scenes[0]!.layout = 'end-card')), 'x.json'), /scenes\.0\.layout: the end card is the template's "endCard"/);
  assert.throws(() => parseTemplate(broken((t) => (t.fields.items!.maxLength = 119)), 'x.json'), /scenes\.2\.items\.text: an item can be 123 characters once filled, at most 120: lower the maxLength of "items" to 116/);
  // A title that could be filled past what a brief scene takes is found in every place it is used.
  assert.throws(
    () => parseTemplate(broken((t) => (t.fields.heading!.maxLength = 250)), 'x.json'),
    (error: AppError) => {
      const long = error.details.filter((d) => /can be 250 characters once filled, at most 200/.test(d.message)).map((d) => d.path);
      assert.deepEqual(long.sort(), ['endCard.subtitle', 'scenes.0.title', 'scenes.2.title']);
      return true;
    },
  );
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
