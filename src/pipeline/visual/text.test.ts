import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ASPECT_RATIOS, TITLE_POSITIONS } from '../../contract/brief.js';
import { parseBrief, resolveBrief, type ResolvedBrief } from '../../contract/resolve.js';
import { contrastRatio, textContrast } from '../../design/contrast.js';
import { insideSafeArea, overlapArea } from '../../design/geometry.js';
import type { DesignElement } from '../../design/record.js';
import type { WordTiming } from '../../providers/tts/tts.port.js';
import { buildCaptions } from '../captions.js';
import type { SceneSlot, Timeline } from '../timeline.js';
import { captionElements, captionSpecs, counterExpansion, inkFor, itemTimes, sceneText, textFrame, type SceneTextInput } from './text.js';

function brief(extra: Record<string, unknown> = {}): ResolvedBrief {
  return resolveBrief(parseBrief({ scenes: [{ narration: 'Hello there.', title: 'Hello' }], resolution: '720p', ...extra }));
}

/** Word timings as a speech engine would give them: one word every 0.4 s. */
function words(text: string): WordTiming[] {
  const out: WordTiming[] = [];
  for (const m of text.matchAll(/\S+/gu)) {
    const word = m[0].replace(/[.,!?;:]+$/u, '');
    const i = out.length;
    out.push({ text: word, charStart: m.index ?? 0, charEnd: (m.index ?? 0) + word.length, startSec: i * 0.4, endSec: i * 0.4 + 0.35 });
  }
  return out;
}

/** An element's contrast as the qa stage judges it. */
const contrast = (e: DesignElement): number => textContrast({ color: e.color ?? '', ...(e.backdrop ? { backdrop: e.backdrop } : {}), ...(e.box ? { box: e.box } : {}) });

const slot: SceneSlot = { id: 's1', index: 0, startSec: 10, durationSec: 6, speechStartSec: 10.35, speechDurationSec: 4 };
const input = (scene: SceneTextInput['scene'], backdrop: string[] = ['#0f172a', '#1e3a8a'], w: WordTiming[] = []): SceneTextInput => ({ scene, slot, words: w, backdrop, transitionOutSec: 0.4 });

test('titles sit inside the safe area and above the caption band for every ratio and position', () => {
  for (const aspectRatio of ASPECT_RATIOS) {
    for (const titlePosition of TITLE_POSITIONS) {
      const b = brief({ aspectRatio, design: { titlePosition }, captions: { style: 'boxed' } });
      const frame = textFrame(b);
      const { elements, layers } = sceneText(input({ id: 's1', title: 'A much longer title that has to wrap over several lines' }), b, '.');
      assert.ok(elements.length > 0 && layers.length === elements.length);
      const bandTop = b.height - frame.safe.bottom - frame.captionBandPx;
      for (const e of elements) {
        assert.ok(insideSafeArea(e.rect, b, frame.safe), `${aspectRatio} ${titlePosition}: ${JSON.stringify(e.rect)} outside ${JSON.stringify(frame.safe)}`);
        assert.ok(e.rect.y + e.rect.height <= bandTop, `${aspectRatio} ${titlePosition}: title reaches into the caption band`);
        assert.ok(contrast(e) >= 4.5, `${aspectRatio}: contrast ${contrast(e)}`);
      }
      const tops = elements.map((e) => e.rect.y);
      if (titlePosition === 'top') assert.equal(Math.min(...tops), frame.safe.top);
      if (titlePosition === 'bottom') assert.equal(Math.max(...elements.map((e) => e.rect.y + e.rect.height)), bandTop);
    }
  }
});

test('a title fades out before the scene\'s outgoing transition, and its times are video seconds', () => {
  const b = brief({ design: { motion: 'calm', textAnimation: 'slide-up' } });
  const { layers, elements } = sceneText(input({ id: 's1', title: 'Calm' }), b, '.');
  const [layer] = layers;
  assert.ok(layer && layer.fadeOutSec && layer.fadeOutSec > 0);
  assert.ok(layer.toSec <= slot.durationSec - 0.2, `${layer.toSec}`);
  assert.equal(layer.enter?.kind, 'slide-up');
  assert.equal(elements[0]?.toSec, Math.round((slot.startSec + layer.toSec) * 1000) / 1000);
  // calm moves slower than punchy.
  const punchy = sceneText(input({ id: 's1', title: 'Calm', textAnimation: 'slide-up' }), brief({ design: { motion: 'punchy' } }), '.').layers[0];
  assert.ok(punchy?.enter && layer.enter && punchy.enter.sec < layer.enter.sec);
});

test('the words animation gives each word a layer at its measured offset, one after the other; RTL and CJK fall back to whole lines', () => {
  const b = brief({ design: { textAnimation: 'words' } });
  const { layers } = sceneText(input({ id: 's1', title: 'Fresh bread daily' }), b, '.');
  assert.deepEqual(layers.map((l) => l.text), ['Fresh', 'bread', 'daily']);
  const xs = layers.map((l) => Number(l.x));
  assert.ok(xs[0]! < xs[1]! && xs[1]! < xs[2]!, xs.join(','));
  assert.ok(layers[0]!.fromSec < layers[1]!.fromSec && layers[1]!.fromSec < layers[2]!.fromSec);
  const typed = sceneText(input({ id: 's1', title: 'Fresh bread daily', textAnimation: 'typewriter' }), b, '.').layers;
  assert.equal(typed.length, 3);
  assert.ok(typed.every((l) => l.fadeInSec === 0 && !l.enter));
  for (const title of ['مرحبا بكم في المخبز', '毎朝焼きたてのパン']) {
    const { layers: lines } = sceneText(input({ id: 's1', title }), b, '.');
    assert.equal(lines.length, 1, title);
    assert.equal(lines[0]?.text, title);
  }
});

test('text over a light backdrop is dark, over an unknown one it gets a scrim, and both reach 4.5:1', () => {
  assert.equal(inkFor(['#f8fafc', '#e2e8f0'], undefined).color, '#111111');
  assert.equal(inkFor(['#0f172a'], '#fde68a').color, '#fde68a');
  const unknown = inkFor([], undefined);
  assert.ok(unknown.box, 'a photograph gets a scrim');
  assert.ok(textContrast({ color: unknown.color, backdrop: [], box: unknown.box }) >= 4.5);
  const mid = inkFor(['#777777'], undefined);
  assert.ok(textContrast({ color: mid.color, backdrop: ['#777777'], ...(mid.box ? { box: mid.box } : {}) }) >= 4.5);
});

test('a mid-tone bar neither white nor near-black reads on is shaded until one does, keeping its hue', () => {
  // #a252eb (a purple accent) gives white 4.3:1 and #111111 4.4:1.
  for (const bar of ['#a252eb', '#e0218a', '#7f7f7f']) {
    const ink = inkFor(['#0f172a', '#f8fafc'], undefined, { color: bar, opacity: 0.92 });
    assert.ok(ink.box, bar);
    assert.ok(textContrast({ color: ink.color, backdrop: ['#0f172a', '#f8fafc'], box: ink.box }) >= 4.5, `${bar}: ${JSON.stringify(ink)}`);
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(ink.box!.color.slice(i, i + 2), 16)) as [number, number, number];
    const [r0, g0, b0] = [1, 3, 5].map((i) => parseInt(bar.slice(i, i + 2), 16)) as [number, number, number];
    // Shaded, not replaced: the channels keep their order (a purple stays purple).
    assert.deepEqual([r > g, g > b, r > b], [r0 > g0, g0 > b0, r0 > b0], `${bar} became ${ink.box.color}`);
  }
});

test('list items appear when the narration speaks them; unmatched ones are spread over the speech', () => {
  const text = 'First we knead the dough, then it rests, and at dawn the ovens bake it.';
  const w = words(text);
  const speechLocal = slot.speechStartSec - slot.startSec;
  const times = itemTimes(['Knead', 'Rest overnight', 'Ovens at dawn'], w, slot, 0.2);
  const at = (word: string): number => Math.round((speechLocal + w.find((x) => x.text === word)!.startSec) * 1000) / 1000;
  // "Rest overnight" matches no spoken word ("rests" is not "rest"): spread evenly, 1 of 3 over the 4 s of speech.
  assert.deepEqual(times, [at('knead'), Math.round((speechLocal + 4 / 3) * 1000) / 1000, at('dawn')]);
  const unmatched = itemTimes(['Alpha', 'Beta', 'Gamma', 'Delta'], w, slot, 0.2);
  assert.deepEqual(unmatched, [0.35, 1.35, 2.35, 3.35]);
  const { layers, elements } = sceneText(input({ id: 's1', title: 'Steps', layout: 'list', items: ['Knead', 'Rest overnight', 'Ovens at dawn'] }, undefined, w), brief(), '.');
  const items = elements.filter((e) => e.kind === 'item');
  assert.deepEqual(items.map((e) => e.fromSec), times.map((t) => Math.round((slot.startSec + t) * 1000) / 1000));
  assert.deepEqual(layers.filter((l) => l.text.startsWith('•')).map((l) => l.fromSec), times);
});

test('a counter counts with an eased eif expression; its prefix and suffix are escaped for drawtext', () => {
  const c = { from: 0, to: 250, decimals: 0, prefix: '$\\', suffix: '% more', startSec: 0.2, sec: 1.2 };
  assert.equal(counterExpansion(c), '$\\\\%{eif:round((0+(250)*(1-pow(1-clip((t-0.2)/1.2,0,1),3)))):d}\\% more');
  assert.ok(counterExpansion(c, -0.25).includes('clip(((t+-0.25)-0.2)/1.2,0,1)'));
  const decimal = counterExpansion({ ...c, prefix: '', suffix: '', to: 4.5, decimals: 1 });
  assert.match(decimal, /^%\{eif:floor\(.*\*10\+0\.5\)\/10:d\}\.%\{eif:mod\(floor\(.*\*10\+0\.5\),10\):d:1\}$/);
  const { layers, elements } = sceneText(input({ id: 's1', title: 'Loaves', layout: 'counter', counter: { to: 250, prefix: '$' } }), brief(), '.');
  const counter = layers.find((l) => l.counter);
  assert.equal(counter?.expand, true);
  assert.equal(counter?.text, '$250');
  assert.match(counter?.x ?? '', /^\d+-text_w\/2$/);
  assert.equal(elements.find((e) => e.kind === 'counter')?.text, '$250');
  assert.ok(layers.filter((l) => !l.counter).every((l) => l.expand === undefined));
});

test('lower third, quote and end card: their parts, low on the frame above the captions or centred', () => {
  const b = brief({ captions: { style: 'bold' } });
  const frame = textFrame(b);
  const lower = sceneText(input({ id: 's1', title: 'Ada Lovelace', subtitle: 'Mathematician', layout: 'lower-third' }), b, '.');
  assert.deepEqual(lower.elements.map((e) => e.kind), ['lower-third', 'subtitle']);
  assert.ok(lower.elements.every((e) => e.box && e.rect.x === frame.safe.left && e.rect.y > b.height / 2));
  assert.ok(lower.layers.every((l) => l.enter?.kind === 'slide-left'));
  const bottom = Math.max(...lower.elements.map((e) => e.rect.y + e.rect.height));
  assert.ok(bottom <= b.height - frame.safe.bottom - frame.captionBandPx);
  const quote = sceneText(input({ id: 's1', title: 'Simplicity is the soul of efficiency.', subtitle: 'Austin Freeman', layout: 'quote' }), b, '.');
  assert.ok(quote.elements[0]?.text?.startsWith('“'));
  assert.equal(quote.elements.at(-1)?.text, '— Austin Freeman');
  const card = sceneText(input({ id: 's1', title: 'Order today', subtitle: 'shop.example', layout: 'end-card' }), b, '.');
  const [cta, sub] = card.elements;
  assert.ok(cta && sub && cta.rect.height > sub.rect.height && sub.rect.y > cta.rect.y);
  assert.ok(Math.abs(cta.rect.x + cta.rect.width / 2 - b.width / 2) <= 1);
});

const captionTimeline = (text: string): { timeline: Timeline; speech: Map<string, { text: string; words: WordTiming[] }> } => ({
  timeline: { fps: 30, transitionSec: 0, totalSec: 10, notes: [], scenes: [{ id: 's1', index: 0, startSec: 0, durationSec: 10, speechStartSec: 0.35, speechDurationSec: 6 }] },
  speech: new Map([['s1', { text, words: words(text) }]]),
});

test('word captions: one highlight per spoken word whose window is the word\'s timing, on the word\'s measured place', () => {
  const b = brief({ captions: { style: 'word' } });
  const { timeline, speech } = captionTimeline('Bread every morning, fresh from the oven.');
  const cues = buildCaptions(timeline, speech);
  const backdrop = ['#0f172a', '#1e3a8a'];
  const elements = captionElements(cues, b, '.', () => backdrop);
  const allWords = cues.flatMap((c) => c.words ?? []);
  const highlights = elements.filter((e) => allWords.some((w) => w.text === e.text) && !cues.some((c) => c.text === e.text));
  assert.deepEqual(highlights.map((e) => [e.text, e.fromSec, e.toSec]), allWords.map((w) => [w.text, w.startSec, w.endSec]));
  const w = words('Bread every morning, fresh from the oven.');
  assert.deepEqual(allWords.map((x) => x.startSec), w.map((x) => Math.round((0.35 + x.startSec) * 1000) / 1000));
  for (const e of elements) assert.ok(contrast(e) >= 4.5, JSON.stringify(e));
  // Highlights sit over their line, left to right, inside it.
  const line = elements.find((e) => e.text === cues[0]?.text)!;
  const firstCue = highlights.filter((h) => cues[0]!.words!.some((x) => x.text === h.text && x.startSec === h.fromSec));
  for (let i = 1; i < firstCue.length; i++) assert.ok(firstCue[i]!.rect.x > firstCue[i - 1]!.rect.x);
  assert.ok(firstCue.every((h) => h.rect.x >= line.rect.x - 8 && h.rect.x + h.rect.width <= line.rect.x + line.rect.width + 8));
  // Over a light backdrop the accent does not read: the word goes on an accent box, which stays inside the safe area too.
  const light = captionElements(cues, b, '.', () => ['#f8fafc']);
  assert.ok(light.some((e) => e.box?.color === '#facc15'));
  for (const e of light) {
    assert.ok(insideSafeArea(e.rect, b, textFrame(b).safe), JSON.stringify(e));
    assert.ok(contrast(e) >= 4.5, JSON.stringify(e));
  }
  // Segment layers carry the same windows, shifted to the segment's clock.
  const specs = captionSpecs(cues, { startFrame: 30, frames: 270, scene: { sceneIndex: 0, localStartFrame: 30, frames: 270 } }, 30, b, '.', () => backdrop);
  const bread = specs.find((s) => s.text === 'Bread');
  assert.deepEqual([bread?.fromSec, bread?.toSec], [Math.round((0.35 - 1) * 1000) / 1000, Math.round((0.35 + 0.35 - 1) * 1000) / 1000]);
  assert.ok(contrastRatio(bread!.color.replace('0x', '#'), '#0f172a') >= 4.5);
});

test('word captions fall back to lines for right-to-left and CJK narration; captions never overlap titles', () => {
  const b = brief({ captions: { style: 'word' } });
  for (const text of ['مرحبا بكم في المخبز كل صباح.', 'パン 毎朝 焼きたて です。']) {
    const { timeline, speech } = captionTimeline(text);
    const cues = buildCaptions(timeline, speech);
    const elements = captionElements(cues, b, '.', () => ['#0f172a']);
    assert.ok(elements.length > 0);
    assert.ok(elements.every((e) => cues.some((c) => c.startSec === e.fromSec && c.endSec === e.toSec)), text);
  }
  for (const aspectRatio of ASPECT_RATIOS) {
    const rb = brief({ aspectRatio, captions: { style: 'boxed' }, design: { titlePosition: 'bottom' } });
    const { timeline, speech } = captionTimeline('A caption long enough to need two lines on a vertical frame, surely.');
    const caps = captionElements(buildCaptions(timeline, speech), rb, '.', () => ['#0f172a']);
    const titles = sceneText(input({ id: 's1', title: 'Bottom title over two lines at least here' }), rb, '.').elements;
    for (const c of caps) {
      assert.ok(insideSafeArea(c.rect, rb, textFrame(rb).safe), `${aspectRatio} caption outside the safe area`);
      for (const t of titles) assert.equal(overlapArea(c.rect, t.rect), 0, `${aspectRatio}: caption ${JSON.stringify(c.rect)} under title ${JSON.stringify(t.rect)}`);
    }
  }
});
