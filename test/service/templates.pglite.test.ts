/**
 * Design templates over the API (PGlite, with a worker): the catalog routes, and briefs with
 * template + merge on POST /v1/estimate and /v1/productions (merge errors are 400 on merge.<field>,
 * a media field naming no file 422 on merge.<field>); the worker plans a template production into
 * the template's scenes, and a prompt with no template into scenes with the look its words call for.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TEMPLATE_NAMES } from '../../src/contract/brief.js';
import { isFinal } from '../../src/contract/production.js';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
before(async () => {
  svc = await startTestService();
});
after(async () => {
  await svc?.stop();
});

type Field = { name: string; type: string; required: boolean; sample: unknown };

test('GET /v1/templates lists every template with its ratios and merge fields', async () => {
  const res = await svc.app!.inject({ url: '/v1/templates', headers: svc.auth });
  assert.equal(res.statusCode, 200, res.body);
  const data = res.json().data as { name: string; ratios: string[]; fields: Field[] }[];
  assert.deepEqual(data.map((t) => t.name), [...TEMPLATE_NAMES]);
  for (const t of data) {
    assert.deepEqual(t.ratios, ['16:9', '9:16', '1:1', '4:5']);
    assert.ok(t.fields.length > 0 && t.fields.every((f) => f.sample !== undefined && f.type.length > 0), t.name);
  }
});

test('GET /v1/templates/:name gives one template, 404 naming the known ones', async () => {
  const one = await svc.app!.inject({ url: '/v1/templates/top-list', headers: svc.auth });
  assert.equal(one.statusCode, 200, one.body);
  const items = (one.json().fields as Field[]).find((f) => f.name === 'items');
  assert.equal(items?.type, 'list');
  assert.equal(items?.required, true);
  const missing = await svc.app!.inject({ url: '/v1/templates/nope', headers: svc.auth });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error.code, 'not_found');
  assert.match(missing.json().error.details[0].message, /product-launch, explainer, top-list/);
});

test('POST /v1/estimate prices a template brief from its expanded scenes', async () => {
  const payload = { template: 'top-list', merge: { heading: 'Top 3 teas', items: ['Sencha', 'Assam', 'Oolong'] }, resolution: '720p' };
  const res = await svc.app!.inject({ method: 'POST', url: '/v1/estimate', headers: svc.auth, payload });
  assert.equal(res.statusCode, 200, res.body);
  const e = res.json();
  assert.equal(e.scenes, 6, 'intro, three items, the list recap, end card');
  assert.deepEqual([e.width, e.height], [720, 1280], 'the template\'s 9:16');
  const bad = await svc.app!.inject({ method: 'POST', url: '/v1/estimate', headers: svc.auth, payload: { template: 'top-list', merge: { heading: 'Top', item: 'x' } } });
  assert.equal(bad.statusCode, 400, bad.body);
  assert.equal(bad.json().error.code, 'invalid_brief');
  assert.deepEqual((bad.json().error.details as { path: string }[]).map((d) => d.path), ['merge.item', 'merge.items']);
});

test('POST /v1/productions accepts template + merge (the worker plans its scenes), and refuses it mixed with a prompt', async () => {
  const payload = { template: 'social-hook', merge: { hook: 'Stop scrolling.', payoff: 'This tea brews in one minute.' }, brand: { colors: { primary: '#112233' } }, review: true };
  const res = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload });
  assert.equal(res.statusCode, 202, res.body);
  const id = res.json().id as string;
  const planned = await svc.waitFor(id, (p) => p.status === 'awaiting_review' || isFinal(p.status));
  assert.equal(planned.status, 'awaiting_review', JSON.stringify(planned.error));
  const board = (await svc.app!.inject({ url: `/v1/productions/${id}/storyboard`, headers: svc.auth })).json().storyboard;
  const scenes = board.scenes as { title?: string; transition?: string; visual?: { colors?: string[] } }[];
  assert.deepEqual(scenes.map((s) => s.title), ['Stop scrolling.', 'This tea brews in one minute.', 'Follow for more']);
  assert.deepEqual(scenes.map((s) => s.transition), [undefined, 'zoom-in', 'pixelize']);
  assert.deepEqual(scenes[2]?.visual?.colors, ['#112233', '#8b5cf6'], 'the brand colour over the palette on the end card');
  const mixed = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: { ...payload, prompt: 'an ad' } });
  assert.equal(mixed.statusCode, 400, mixed.body);
  assert.equal(mixed.json().error.details[0].path, 'prompt');
  const missing = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: { template: 'social-hook', merge: { hook: 'Hi' } } });
  assert.equal(missing.statusCode, 400, missing.body);
  assert.deepEqual(missing.json().error.details, [{ path: 'merge.payoff', message: 'required: give the text "payoff" (The answer or the twist), e.g. "Water just off the boil, 15 grams per cup, and a 4-minute steep."' }]);
  // In a batch, the detail names the item too.
  await assert.rejects(svc.productions.validate({ template: 'social-hook', merge: { hook: 'Hi' } }, 'productions.1.'), (error: { details: { path: string }[] }) => {
    assert.deepEqual(error.details.map((d) => d.path), ['productions.1.merge.payoff']);
    return true;
  });
});

test('a template media field naming no file is refused at submit on merge.<field>, with the fix', async () => {
  const merge = { product: 'Nimbus', tagline: 'Sun power', image: 'products/nimbus.jpg' };
  const res = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: { template: 'product-launch', merge } });
  assert.equal(res.statusCode, 422, res.body);
  const error = res.json().error as { code: string; details: { path: string; message: string }[] };
  assert.equal(error.code, 'asset_not_found');
  assert.deepEqual(error.details.map((d) => d.path), ['merge.image']);
  assert.match(error.details[0]!.message, /file not found in the server's assets directory: products\/nimbus\.jpg; give the image "image" \(Product picture.*\) as an existing file or an http\(s\) URL, or leave it out/);
  // The estimate checks the same, and so does a batch item (named with its index).
  const estimate = await svc.app!.inject({ method: 'POST', url: '/v1/estimate', headers: svc.auth, payload: { template: 'product-launch', merge } });
  assert.equal(estimate.statusCode, 422, estimate.body);
  assert.equal(estimate.json().error.details[0].path, 'merge.image');
  await assert.rejects(svc.productions.validate({ template: 'product-launch', merge }, 'productions.2.'), (e: { details: { path: string }[] }) => {
    assert.deepEqual(e.details.map((d) => d.path), ['productions.2.merge.image']);
    return true;
  });
  // A file that is there is accepted: the image becomes a layered picture of the scenes that show it.
  mkdirSync(join(svc.dataDir, 'assets', 'products'), { recursive: true });
  copyFileSync(new URL('../../examples/assets/fractal.jpg', import.meta.url), join(svc.dataDir, 'assets', 'products', 'nimbus.jpg'));
  const ok = await svc.app!.inject({ method: 'POST', url: '/v1/estimate', headers: svc.auth, payload: { template: 'product-launch', merge } });
  assert.equal(ok.statusCode, 200, ok.body);
});

test('a prompt with no template is planned with the look its words call for, said in the storyboard notes', async () => {
  const res = await svc.app!.inject({ method: 'POST', url: '/v1/productions', headers: svc.auth, payload: { prompt: 'Breaking news: the city council votes to close the old bridge', review: true } });
  assert.equal(res.statusCode, 202, res.body);
  const id = res.json().id as string;
  const planned = await svc.waitFor(id, (p) => p.status === 'awaiting_review' || isFinal(p.status));
  assert.equal(planned.status, 'awaiting_review', JSON.stringify(planned.error));
  const board = (await svc.app!.inject({ url: `/v1/productions/${id}/storyboard`, headers: svc.auth })).json().storyboard as { notes: string[]; scenes: unknown[] };
  assert.ok(board.notes.some((n) => /^look: the "news-update" template's .*the prompt's words call for it: breaking, news, council, vote, city$/.test(n)), JSON.stringify(board.notes));
  assert.ok(board.scenes.length >= 4, 'the planner wrote the scenes, not the template');
});
