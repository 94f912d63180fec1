import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fontFor } from '../media/fonts.js';
import { isAppError } from '../contract/errors.js';
import { detectDirection, layoutText, measureText, type TextLayout } from './text-layout.js';

const latin = { file: fontFor('Lumina', 'bold')!.path };
const arabic = { file: '/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf' };
// NotoSansCJK-Regular.ttc holds JP, KR, SC, TC, HK faces; index 2 is Simplified Chinese.
const cjk = { file: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', faceIndex: 2 };
const hasArabic = existsSync(arabic.file);
const hasCjk = existsSync(cjk.file);

function assertFits(layout: TextLayout, maxWidth: number): void {
  for (const line of layout.lines) {
    assert.ok(line.width <= maxWidth + 1e-6, `"${line.text}" is ${line.width} px wide, box is ${maxWidth}`);
    assert.ok(line.x >= -1e-6 && line.x + line.width <= maxWidth + 1e-6, `"${line.text}" at x=${line.x} leaves the box`);
  }
}

test('measures with the real font: sane widths, kerning applied, linear in size', () => {
  assert.ok(latin.file.endsWith('DejaVuSans-Bold.ttf'), latin.file);
  const w = measureText('Découvrez Lumina', latin, 64);
  // DejaVu Sans Bold is wide: about 0.65 em per character here.
  assert.ok(w > 600 && w < 720, `width ${w}`);
  const av = measureText('AV', latin, 64);
  const separate = measureText('A', latin, 64) + measureText('V', latin, 64);
  assert.ok(av < separate - 1, `AV ${av} should be kerned below A+V ${separate}`);
  assert.ok(Math.abs(measureText('Lumina', latin, 32) * 2 - measureText('Lumina', latin, 64)) < 1e-9);
  assert.equal(measureText('', latin, 64), 0);
});

test('a missing font file is an AppError naming font.file', () => {
  assert.throws(
    () => measureText('x', { file: '/nonexistent/font.ttf' }, 20),
    (e: unknown) => isAppError(e) && e.code === 'asset_not_found' && e.details[0]?.path === 'font.file',
  );
});

test('balances a two-line title and centres each line on its own width', () => {
  const text = 'Découvrez Lumina, la lampe solaire';
  const maxWidth = 900;
  assert.ok(measureText(text, latin, 64) > maxWidth, 'the title must not fit on one line for this test');
  const layout = layoutText(text, { font: latin, maxWidth, maxLines: 3, sizePx: 64, align: 'center' });
  assert.deepEqual(
    layout.lines.map((l) => l.text),
    ['Découvrez Lumina,', 'la lampe solaire'],
  );
  assert.equal(layout.sizePx, 64);
  assert.equal(layout.overflow, false);
  for (const line of layout.lines) assert.ok(Math.abs(line.x - (maxWidth - line.width) / 2) < 1e-9, `line "${line.text}" not centred`);
  assert.notEqual(layout.lines[0].x, layout.lines[1].x);
  assert.equal(layout.width, Math.max(...layout.lines.map((l) => l.width)));
  assert.ok(Math.abs(layout.height - 2 * 64 * 1.2) < 1e-9);
  assertFits(layout, maxWidth);
});

test('balanced, not greedy: the longest line is no longer than greedy filling gives', () => {
  const text = 'Une lampe solaire qui éclaire les rues, les places et toute la ville.';
  for (let maxWidth = 400; maxWidth <= 1400; maxWidth += 50) {
    const layout = layoutText(text, { font: latin, maxWidth, maxLines: 8, sizePx: 48, align: 'center' });
    const greedy = greedyLines(text, maxWidth, 48);
    assert.equal(layout.lines.length, greedy.length, `fewest lines at ${maxWidth}`);
    const longest = Math.max(...layout.lines.map((l) => l.width));
    const greedyLongest = Math.max(...greedy.map((l) => measureText(l, latin, 48)));
    assert.ok(longest <= greedyLongest + 1e-6, `at ${maxWidth}: ${longest} > greedy ${greedyLongest}`);
    assert.equal(layout.lines.map((l) => l.text).join(' '), text);
    assertFits(layout, maxWidth);
  }
});

/** Word-by-word greedy filling, the behaviour this module replaces. */
function greedyLines(text: string, maxWidth: number, sizePx: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines[lines.length - 1];
    if (last !== undefined && measureText(`${last} ${word}`, latin, sizePx) <= maxWidth) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

test('no orphan: "ville." never sits alone on the last line where greedy filling would leave it', () => {
  const text = 'Une lumière propre et gratuite pour les rues, les places et toute la ville.';
  let greedyOrphans = 0;
  for (let maxWidth = 300; maxWidth <= 2000; maxWidth += 10) {
    const greedy = greedyLines(text, maxWidth, 48);
    if (greedy.length < 2 || greedy[greedy.length - 1] !== 'ville.') continue;
    greedyOrphans++;
    const layout = layoutText(text, { font: latin, maxWidth, maxLines: 10, sizePx: 48, align: 'center' });
    const last = layout.lines[layout.lines.length - 1].text;
    assert.notEqual(last, 'ville.', `orphan at maxWidth ${maxWidth}: ${JSON.stringify(layout.lines.map((l) => l.text))}`);
    assert.ok(last.includes(' '), `last line "${last}" is a single word`);
    assertFits(layout, maxWidth);
  }
  assert.ok(greedyOrphans > 0, 'the sweep must include widths where greedy filling leaves an orphan');
});

test('shrinks to fit before overflowing, and only overflows below minSizePx', () => {
  const text = 'Découvrez Lumina, la lampe solaire qui éclaire toute la ville';
  const options = { font: latin, maxWidth: 600, maxLines: 2, sizePx: 64, minSizePx: 20, align: 'center' as const };
  const layout = layoutText(text, options);
  assert.ok(layout.sizePx < 64 && layout.sizePx >= 20, `size ${layout.sizePx}`);
  assert.equal(layout.overflow, false);
  assert.ok(layout.lines.length <= 2);
  assert.equal(layout.lines.map((l) => l.text).join(' '), text);
  assertFits(layout, 600);
  // One pixel larger would not fit in two lines: it shrank no more than needed.
  const bigger = layoutText(text, { ...options, sizePx: layout.sizePx + 1, minSizePx: layout.sizePx + 1 });
  assert.equal(bigger.overflow, true);

  const tight = layoutText(text, { ...options, maxWidth: 300, minSizePx: 30 });
  assert.equal(tight.sizePx, 30);
  assert.equal(tight.overflow, true);
  assert.equal(tight.truncated, true);
  assert.equal(tight.lines.length, 2);
  assert.ok(tight.lines[1].text.endsWith('…'), tight.lines[1].text);
  assertFits(tight, 300);
});

test('a word wider than the box is split rather than drawn outside it', () => {
  const layout = layoutText('Supercalifragilisticexpialidocious', { font: latin, maxWidth: 200, maxLines: 4, sizePx: 40, minSizePx: 30, align: 'start' });
  assert.equal(layout.overflow, true);
  assert.ok(layout.lines.length > 1);
  assert.equal(layout.lines.map((l) => l.text).join(''), 'Supercalifragilisticexpialidocious');
  assertFits(layout, 200);
});

test('start and end alignment for LTR; newlines are hard breaks', () => {
  const start = layoutText('Lumina\nla lampe', { font: latin, maxWidth: 800, maxLines: 3, sizePx: 40, align: 'start' });
  assert.deepEqual(start.lines.map((l) => l.text), ['Lumina', 'la lampe']);
  assert.ok(start.lines.every((l) => l.x === 0));
  const end = layoutText('Lumina\nla lampe', { font: latin, maxWidth: 800, maxLines: 3, sizePx: 40, align: 'end' });
  for (const l of end.lines) assert.ok(Math.abs(l.x + l.width - 800) < 1e-9);
});

test('CJK breaks between characters and never before 。or ，', { skip: !hasCjk && 'fonts-noto-cjk is not installed' }, () => {
  const text = '你好，世界！欢迎使用我们的新产品。明天见。';
  for (let maxWidth = 150; maxWidth <= 700; maxWidth += 25) {
    const layout = layoutText(text, { font: cjk, maxWidth, maxLines: 20, sizePx: 48, align: 'center' });
    assert.equal(layout.lines.map((l) => l.text).join(''), text, 'no characters lost');
    assert.ok(layout.lines.length > 1);
    for (const line of layout.lines) assert.doesNotMatch(line.text, /^[，。！、]/u, `line "${line.text}" starts with closing punctuation`);
    assertFits(layout, maxWidth);
  }
  // CJK ideographs are one em wide: 15 characters at 48 px measure 15 × 48.
  assert.equal(measureText('欢迎使用我们的新产品明天见世界', cjk, 48), 15 * 48);
  const narrow = layoutText('欢迎使用我们的新产品', { font: cjk, maxWidth: 48 * 5, maxLines: 2, sizePx: 48, align: 'start' });
  assert.deepEqual(narrow.lines.map((l) => l.text), ['欢迎使用我', '们的新产品']);
});

test('Arabic: detected RTL, measured with joining, start aligns right', { skip: !hasArabic && 'fonts-noto-core is not installed' }, () => {
  const text = 'مرحبا بالعالم';
  assert.equal(detectDirection(text), 'rtl');
  assert.equal(detectDirection('Lumina'), 'ltr');
  const joined = measureText('بالعالم', arabic, 64);
  const isolated = [...'بالعالم'].reduce((sum, ch) => sum + measureText(ch, arabic, 64), 0);
  assert.ok(Math.abs(joined - isolated) > 5, `joined ${joined} vs isolated letters ${isolated}`);

  const layout = layoutText(text, { font: arabic, maxWidth: 1000, maxLines: 2, sizePx: 64, align: 'start' });
  assert.equal(layout.direction, 'rtl');
  assert.equal(layout.lines[0].text, text, 'logical order is kept');
  assert.ok(Math.abs(layout.lines[0].x + layout.lines[0].width - 1000) < 1e-9, 'start is the right edge in RTL');
  const end = layoutText(text, { font: arabic, maxWidth: 1000, maxLines: 2, sizePx: 64, align: 'end' });
  assert.equal(end.lines[0].x, 0);
  const forced = layoutText(text, { font: arabic, maxWidth: 1000, maxLines: 2, sizePx: 64, align: 'start', direction: 'ltr' });
  assert.equal(forced.lines[0].x, 0);

  const long = 'مرحبا بالعالم، هذا مصباح شمسي يضيء المدينة كلها';
  const wrapped = layoutText(long, { font: arabic, maxWidth: 500, maxLines: 4, sizePx: 48, align: 'center' });
  assert.ok(wrapped.lines.length > 1);
  assert.equal(wrapped.lines.map((l) => l.text).join(' '), long);
  assertFits(wrapped, 500);
});

test('rejects impossible options with the field named', () => {
  assert.throws(
    () => layoutText('x', { font: latin, maxWidth: 0, maxLines: 2, sizePx: 20, align: 'center' }),
    (e: unknown) => isAppError(e) && e.details[0]?.path === 'maxWidth',
  );
  assert.throws(
    () => layoutText('x', { font: latin, maxWidth: 100, maxLines: 2, sizePx: 20, minSizePx: 30, align: 'center' }),
    (e: unknown) => isAppError(e) && e.details[0]?.path === 'minSizePx',
  );
  const empty = layoutText('   ', { font: latin, maxWidth: 100, maxLines: 2, sizePx: 20, align: 'center' });
  assert.deepEqual(empty.lines, []);
  assert.equal(empty.height, 0);
});
