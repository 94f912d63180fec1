import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chooseIcon, iconExists, iconPackageDir, iconSvg, stem, words } from './icons.js';

const entries = JSON.parse(readFileSync(join(iconPackageDir(), 'icons.json'), 'utf8')) as Record<string, { tags: string[] }>;
/** Whether an icon's name or tags say one of these words. */
const about = (name: string | undefined, ...wanted: string[]): boolean =>
  name !== undefined && wanted.some((w) => name.split('-').includes(w) || (entries[name]?.tags ?? []).map(String).includes(w));

test('stemming meets plurals and verb forms, and leaves short words alone', () => {
  assert.equal(stem('launches'), stem('launch'));
  assert.equal(stem('launched'), stem('launching'));
  assert.equal(stem('prices'), stem('price'));
  assert.equal(stem('priced'), stem('price'));
  assert.equal(stem('news'), 'news');
  assert.equal(stem('bus'), 'bus');
  assert.deepEqual(words('The rocket, and THE launch!'), ['rocket', 'launch']);
});

test('typical scene words pick fitting icons', () => {
  assert.equal(chooseIcon({ keywords: ['rocket', 'launch'] }, 1), 'rocket');
  assert.equal(chooseIcon({ title: 'We launch next week', narration: 'Our product launches on Monday.' }, 1), 'rocket');
  const money = chooseIcon({ keywords: ['money', 'price'] }, 1);
  assert.ok(about(money, 'money') && about(money, 'price'), String(money));
  const calendar = chooseIcon({ keywords: ['calendar', 'event'] }, 1);
  assert.ok(calendar?.startsWith('calendar') && about(calendar, 'event'), String(calendar));
  const growth = chooseIcon({ keywords: ['chart', 'growth'] }, 1);
  assert.ok(about(growth, 'chart') && about(growth, 'growth'), String(growth));
  assert.equal(chooseIcon({ title: 'Bakery', narration: 'Fresh bread, every morning.' }, 1), 'bread');
});

test('words that agree beat a single rare tag, and weak words draw nothing', () => {
  const fair = chooseIcon({ title: 'Fair price', narration: 'Pay less for more.' }, 1);
  assert.ok(about(fair, 'price', 'money', 'pay', 'payment'), String(fair));
  assert.equal(chooseIcon({ narration: 'Come early, it goes fast.' }, 1), undefined);
  assert.equal(chooseIcon({ title: 'La ville', narration: 'Bienvenue dans notre ville.' }, 1), undefined);
  assert.equal(chooseIcon({}, 1), undefined);
});

test('the choice is repeatable, never a disabled or brand icon', () => {
  const scene = { title: 'Music', narration: 'Listen to the sound of summer.' };
  assert.equal(chooseIcon(scene, 7), chooseIcon(scene, 7));
  for (const scene of [{ keywords: ['github'] }, { keywords: ['music', 'off'] }, { keywords: ['wifi'] }]) {
    const name = chooseIcon(scene, 2);
    assert.ok(name === undefined || (!name.endsWith('-off') && !name.startsWith('brand-')), String(name));
  }
});

test('an icon is coloured and sized as asked; unknown names are refused', () => {
  assert.ok(iconExists('rocket'));
  assert.ok(!iconExists('no-such-icon-here'));
  const svg = iconSvg('rocket', { color: '#ff0066', strokeWidth: 1.5, sizePx: 120 });
  assert.match(svg, /width="120"/);
  assert.match(svg, /stroke="#ff0066"/);
  assert.match(svg, /stroke-width="1.5"/);
  assert.throws(() => iconSvg('../../etc/passwd', { color: '#fff', strokeWidth: 2, sizePx: 10 }));
});
