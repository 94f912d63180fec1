/**
 * The text of a scene as layers — titles, lower thirds, list items, counters, quotes, end cards —
 * and the burned-in captions of a segment. Laid out with the real font (design/text-layout.ts)
 * inside the ratio's safe area and above the caption band; coloured to stay readable over the
 * scene's backdrop (design/contrast.ts), with a scrim when no colour is; animated by drawtext
 * expressions (media/args/segment.ts). The layers are plain data that go into the segment's cache
 * key, and every one is also returned as a DesignElement for the qa checks.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SceneLayout, TextAnimation } from '../../contract/brief.js';
import { AppError } from '../../contract/errors.js';
import type { ResolvedBrief } from '../../contract/resolve.js';
import type { StoryboardScene } from '../../contract/storyboard.js';
import { blend, relativeLuminance, textContrast, WCAG_AA_TEXT } from '../../design/contrast.js';
import type { DesignElement, DesignElementKind } from '../../design/record.js';
import { detectDirection, layoutText, measureText, type TextLayout } from '../../design/text-layout.js';
import { ffColor } from '../../media/args/escape.js';
import type { TextLayer } from '../../media/args/segment.js';
import { fontFor } from '../../media/fonts.js';
import type { WordTiming } from '../../providers/tts/tts.port.js';
import type { CaptionCue } from '../captions.js';
import { resolveAsset } from '../preflight.js';
import type { SceneSlot } from '../timeline.js';
import { captionStyle, safeArea, titleStyle, type SafeArea } from './layout.js';
import type { SegmentCut } from './segments.js';

/** A text layer before its text file exists: what goes into the cache key. */
export type TextSpec = Omit<TextLayer, 'textFile'> & { text: string; counter?: CounterSpec };

/** A number counting from → to (eased out) in a drawtext expansion. */
export interface CounterSpec {
  from: number;
  to: number;
  decimals: number;
  prefix: string;
  suffix: string;
  /** Scene-local start and length of the count. */
  startSec: number;
  sec: number;
}

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/u;
const r3 = (n: number): number => Math.round(n * 1000) / 1000;
/** Drawtext draws a line's glyphs in about this many sizes of height (ascent + descent of the fonts used). */
const LINE_BOX = 1.2;

/**
 * A line's y as drawtext wants it: drawtext puts the baseline at y plus the ascent of the glyphs
 * being drawn, so a word without ascenders ("every") would sit higher than its line. Given as the
 * baseline less `ascent`, every layer of a line shares one baseline, placed this far (in sizes)
 * below the line's top.
 */
const BASELINE = 0.95;
export const lineY = (top: number, sizePx: number): string => `${top + Math.round(sizePx * BASELINE)}-ascent`;

/** A light outline around dark text, a dark one around light text. */
const outlineFor = (color: string): string => (relativeLuminance(color) < 0.3 ? '#ffffff' : '#000000');

/** How much slower (> 1) or faster (< 1) than the smooth default each motion style moves text. */
export const MOTION_PACE: Record<ResolvedBrief['design']['motion'], number> = { calm: 1.4, smooth: 1, energetic: 0.8, punchy: 0.65 };

function font(text: string, weight: 'regular' | 'bold', brief: ResolvedBrief, baseDir: string): string {
  const brandFont = brief.brand?.font ? resolveAsset(baseDir, brief.brand.font) : undefined;
  const choice = fontFor(text, weight, brandFont);
  if (!choice) throw new AppError('internal', 'no font found: install fonts-dejavu-core (and fonts-noto-core, fonts-noto-cjk for other scripts)');
  return choice.path;
}

/** A text colour and, when no colour reads over the backdrop on its own, the box behind it. */
export interface Ink {
  color: string;
  box?: { color: string; opacity: number };
}

/**
 * The first of (the brand's or palette's text colour, white, near-black) that reaches 4.5:1 over
 * every backdrop colour; else white or near-black over a dark scrim (a box), as dense as it needs
 * to be. With no backdrop known (a photograph, a video) no colour is sure to read: a scrim.
 */
export function inkFor(backdrop: readonly string[], preferred: string | undefined, scrim?: { color: string; opacity: number }): Ink {
  const candidates = [...(preferred ? [preferred] : []), '#ffffff', '#111111'];
  if (!scrim) {
    for (const color of candidates) if (textContrast({ color, backdrop }) >= WCAG_AA_TEXT) return { color };
  }
  const boxes = scrim ? [scrim, { ...scrim, opacity: Math.max(scrim.opacity, 0.8) }, { ...scrim, opacity: 0.95 }] : [0.6, 0.75, 0.9].map((opacity) => ({ color: '#000000', opacity }));
  for (const box of boxes) {
    for (const color of candidates) if (textContrast({ color, backdrop, box }) >= WCAG_AA_TEXT) return { color, box };
  }
  // A mid-tone bar (a purple accent, say) that neither white nor near-black reads on: the bar is
  // shaded towards black (or tinted towards white) just enough, keeping its hue.
  const last = boxes[boxes.length - 1] as { color: string; opacity: number };
  for (let t = 0.1; t <= 0.9; t += 0.1) {
    for (const [toward, ink] of [['#000000', '#ffffff'], ['#ffffff', '#111111']] as const) {
      const box = { color: blend(toward, t, last.color), opacity: last.opacity };
      if (textContrast({ color: ink, backdrop, box }) >= WCAG_AA_TEXT) return { color: ink, box };
    }
  }
  return { color: '#ffffff', box: { color: '#000000', opacity: 0.95 } };
}

const boxColor = (box: { color: string; opacity: number }): string => `${ffColor(box.color)}@${box.opacity}`;

/** The space text may use: the safe area, less the band the burned-in captions keep for themselves. */
export interface TextFrame {
  width: number;
  height: number;
  safe: SafeArea;
  /** Pixels above the safe area's bottom edge reserved for captions (0 without burned-in captions). */
  captionBandPx: number;
}

export function textFrame(brief: ResolvedBrief): TextFrame {
  const safe = safeArea(brief.width, brief.height, brief.aspectRatio);
  let band = 0;
  if (brief.captions !== false && brief.captions.burnIn) {
    const size = captionStyle(brief.width, brief.height, brief.captions.style === 'minimal').fontSize;
    const boxed = brief.captions.style === 'boxed';
    // Two lines at the caption pitch, the margin of a box (any style gets one over a picture whose
    // colours are not known, and the word style's highlight box is smaller), and a gap of half a line above.
    band = Math.round(size * (boxed ? 1.6 : 1.25) + size * LINE_BOX + 2 * Math.round(size * 0.35) + size * 0.6);
  }
  return { width: brief.width, height: brief.height, safe, captionBandPx: band };
}

/** The margin of the word style's highlight box, kept free around a caption's lines. */
const highlightMargin = (sizePx: number): number => Math.round(sizePx * 0.18);

/** One piece of a scene's text: laid out as a block of lines, stacked with the others. */
interface Block {
  kind: DesignElementKind;
  text: string;
  weight: 'regular' | 'bold';
  sizePx: number;
  maxLines: number;
  align: 'center' | 'start';
  /** Scene-local second it starts entering. */
  fromSec: number;
  animation: TextAnimation;
  /** A bar behind the text (a lower third): its colour; the text colour is chosen against it. */
  bar?: string;
  counter?: Omit<CounterSpec, 'startSec'>;
  /** Extra space above this block, in sizes of the block. */
  gapAbove?: number;
}

interface PlacedLine {
  block: Block;
  layout: TextLayout;
  fontFile: string;
  ink: Ink;
  boxPx: number;
  text: string;
  x: number;
  y: number;
  width: number;
}

export interface SceneTextInput {
  scene: Pick<StoryboardScene, 'id' | 'title'> & { layout?: SceneLayout; subtitle?: string; textAnimation?: TextAnimation; items?: string[]; counter?: { to: number; from?: number; decimals?: number; prefix?: string; suffix?: string } };
  slot: SceneSlot;
  /** The scene's narration word timings (list items are timed by them). */
  words?: readonly WordTiming[];
  /** Colours the text sits on (looks.ts). */
  backdrop: readonly string[];
  /** Whether a transition follows the scene (the text is gone before it starts). */
  transitionOutSec: number;
}

export interface SceneText {
  layers: TextSpec[];
  elements: DesignElement[];
}

/**
 * A scene's text: its layout's blocks (title; lower third; list; counter; quote; end card),
 * measured, stacked and placed per the design's title position inside the safe area and above the
 * caption band, each line (or word) a layer that enters with the scene's animation and fades out
 * before the scene's outgoing transition.
 */
export function sceneText(input: SceneTextInput, brief: ResolvedBrief, baseDir: string): SceneText {
  const { scene, slot } = input;
  const frame = textFrame(brief);
  const pace = MOTION_PACE[brief.design.motion];
  const animation = scene.textAnimation ?? brief.design.textAnimation;
  const layout = scene.layout ?? 'title';
  const short = Math.min(brief.width, brief.height);
  const start = r3(0.2 * pace);
  const stagger = 0.18 * pace;
  const blocks: Block[] = [];
  const title = scene.title?.trim();
  const subtitle = scene.subtitle?.trim();
  const accent = brief.brand?.colors.primary ?? brief.design.palette?.accent ?? '#2563eb';
  let anchor: 'top' | 'center' | 'lower-third' | 'bottom' = brief.design.titlePosition;
  switch (layout) {
    case 'lower-third':
      anchor = 'bottom';
      if (title) blocks.push({ kind: 'lower-third', text: title, weight: 'bold', sizePx: Math.round(short * 0.06), maxLines: 2, align: 'start', fromSec: start, animation: animation === 'none' ? 'none' : 'slide-left', bar: accent });
      if (subtitle) blocks.push({ kind: 'subtitle', text: subtitle, weight: 'regular', sizePx: Math.round(short * 0.04), maxLines: 2, align: 'start', fromSec: r3(start + stagger), animation: animation === 'none' ? 'none' : 'slide-left', bar: '#111111', gapAbove: 0.5 });
      break;
    case 'list': {
      anchor = 'top';
      if (title) blocks.push({ kind: 'title', text: title, weight: 'bold', sizePx: Math.round(short * 0.065), maxLines: 2, align: 'start', fromSec: start, animation });
      const times = itemTimes(scene.items ?? [], input.words ?? [], slot, start + stagger);
      (scene.items ?? []).forEach((item, i) => {
        blocks.push({ kind: 'item', text: `• ${item}`, weight: 'regular', sizePx: Math.round(short * 0.048), maxLines: 2, align: 'start', fromSec: times[i] as number, animation: animation === 'none' || animation === 'fade' ? animation : 'slide-left', gapAbove: i === 0 ? 0.6 : 0.35 });
      });
      break;
    }
    case 'counter': {
      anchor = 'center';
      const c = scene.counter;
      if (c) {
        const counter = { from: c.from ?? 0, to: c.to, decimals: c.decimals ?? 0, prefix: c.prefix ?? '', suffix: c.suffix ?? '', sec: r3(Math.min(1.5, 1.1 * pace)) };
        blocks.push({ kind: 'counter', text: counterText(counter, counter.to), weight: 'bold', sizePx: Math.round(short * 0.17), maxLines: 1, align: 'center', fromSec: start, animation: animation === 'none' ? 'none' : 'fade', counter });
      }
      if (title) blocks.push({ kind: 'title', text: title, weight: 'bold', sizePx: Math.round(short * 0.055), maxLines: 3, align: 'center', fromSec: r3(start + stagger), animation, gapAbove: 0.4 });
      break;
    }
    case 'quote':
      anchor = 'center';
      if (title) blocks.push({ kind: 'quote', text: `“${title.replace(/^["“](.*)["”]$/su, '$1')}”`, weight: 'bold', sizePx: Math.round(short * (title.length > 90 ? 0.05 : 0.064)), maxLines: 6, align: 'center', fromSec: start, animation });
      if (subtitle) blocks.push({ kind: 'subtitle', text: `— ${subtitle}`, weight: 'regular', sizePx: Math.round(short * 0.042), maxLines: 2, align: 'center', fromSec: r3(start + 2 * stagger), animation: animation === 'none' ? 'none' : 'fade', gapAbove: 0.8 });
      break;
    case 'end-card':
      anchor = 'center';
      if (title) blocks.push({ kind: 'end-card', text: title, weight: 'bold', sizePx: Math.round(short * 0.1), maxLines: 3, align: 'center', fromSec: start, animation });
      if (subtitle) blocks.push({ kind: 'subtitle', text: subtitle, weight: 'regular', sizePx: Math.round(short * 0.048), maxLines: 2, align: 'center', fromSec: r3(start + 2 * stagger), animation: animation === 'none' ? 'none' : 'fade', gapAbove: 0.6 });
      break;
    case 'title':
      if (title) blocks.push({ kind: 'title', text: title, weight: 'bold', sizePx: titleStyle(brief.width, brief.height, title).fontSize, maxLines: 4, align: 'center', fromSec: start, animation });
      break;
  }
  if (blocks.length === 0) return { layers: [], elements: [] };
  // Gone before the outgoing transition starts, after a fade; in a scene too short for that, a
  // moment after the last block has entered, and still before the scene ends.
  const toSec = r3(Math.min(slot.durationSec, Math.max(slot.durationSec - input.transitionOutSec / 2 - 0.05, Math.max(...blocks.map((b) => b.fromSec)) + 0.8 * pace + 0.4)));
  const fadeOutSec = r3(Math.min(0.35 * pace, toSec / 4));
  const lines = place(blocks, frame, anchor, input.backdrop, brief, baseDir);
  const layers: TextSpec[] = [];
  const elements: DesignElement[] = [];
  let wordIndex = 0;
  for (const line of lines) {
    const { block, ink } = line;
    const size = line.layout.sizePx;
    const common = {
      fontFile: line.fontFile,
      fontSize: size,
      color: ffColor(ink.color),
      toSec,
      fadeOutSec,
      box: ink.box !== undefined,
      ...(ink.box ? { boxColor: boxColor(ink.box), boxPx: line.boxPx } : {}),
      borderPx: ink.box ? 0 : Math.max(2, Math.round(size / 16)),
      ...(ink.box ? {} : { borderColor: `${ffColor(outlineFor(ink.color))}@0.85` }),
    };
    // A list item enters quicker than a title: it often arrives late in its scene, with the narration.
    const enterSec = r3((block.kind === 'item' ? 0.35 : 0.6) * pace);
    const record = (text: string, x: number, width: number, fromSec: number): void => {
      elements.push({
        kind: block.kind,
        sceneId: scene.id,
        text,
        rect: grow({ x, y: line.y, width, height: Math.round(size * LINE_BOX) }, ink.box ? line.boxPx : 0),
        fromSec: r3(slot.startSec + fromSec),
        toSec: r3(slot.startSec + toSec),
        color: ink.color,
        ...(ink.box ? { box: ink.box } : {}),
        ...(ink.box ? {} : { outline: { color: outlineFor(ink.color), px: common.borderPx } }),
        backdrop: [...input.backdrop],
      });
    };
    const rtlOrCjk = line.layout.direction === 'rtl' || CJK.test(line.text);
    const perWord = (block.animation === 'words' || block.animation === 'typewriter') && !rtlOrCjk && !block.counter && !ink.box;
    if (perWord) {
      // Each word its own layer at the line's left edge plus the measured width of the words before it.
      const step = block.animation === 'words' ? 0.12 * pace : 0.09 * pace;
      for (const { word, offset } of wordsOf(line.text)) {
        const x = line.x + Math.round(measureText(line.text.slice(0, offset), { file: line.fontFile }, size));
        const fromSec = r3(block.fromSec + wordIndex++ * step);
        layers.push({
          ...common,
          text: word,
          x: String(x),
          y: lineY(line.y, size),
          fromSec,
          fadeInSec: block.animation === 'words' ? r3(0.25 * pace) : 0,
          ...(block.animation === 'words' ? { enter: { kind: 'slide-up' as const, sec: r3(0.35 * pace), px: Math.round(size * 0.3) } } : {}),
        });
        record(word, x, Math.round(measureText(word, { file: line.fontFile }, size)), fromSec);
      }
      continue;
    }
    // Words and typewriter fall back to a fade for right-to-left and CJK lines (and boxed text):
    // drawtext cannot place a word inside a reordered or unspaced line reliably.
    const kind = block.animation === 'words' || block.animation === 'typewriter' ? 'fade' : block.animation;
    const enter =
      kind === 'slide-up' ? { kind: 'slide-up' as const, sec: enterSec, px: Math.round(size * 0.6) }
      : kind === 'slide-left' ? { kind: 'slide-left' as const, sec: enterSec, px: Math.round(Math.min(frame.width * 0.12, size * 2.5)) }
      : kind === 'scale' ? { kind: 'scale' as const, sec: enterSec, px: 35 }
      : undefined;
    const centre = line.x + line.width / 2;
    const counter = block.counter ? { ...block.counter, startSec: block.fromSec } : undefined;
    layers.push({
      ...common,
      text: line.text,
      ...(counter ? { counter, expand: true } : {}),
      // A scaled or counting line keeps its middle in place while its width changes.
      x: kind === 'scale' || counter ? `${Math.round(centre)}-text_w/2` : String(line.x),
      y: lineY(line.y, size),
      fromSec: block.fromSec,
      fadeInSec: kind === 'none' ? 0 : r3((kind === 'fade' ? 0.5 : 0.35) * pace),
      ...(enter ? { enter } : {}),
    });
    record(line.text, line.x, line.width, block.fromSec);
  }
  return { layers, elements };
}

const grow = (rect: { x: number; y: number; width: number; height: number }, by: number): { x: number; y: number; width: number; height: number } =>
  by === 0 ? rect : { x: rect.x - by, y: rect.y - by, width: rect.width + 2 * by, height: rect.height + 2 * by };

/** The words of a line with their character offsets. */
function wordsOf(text: string): { word: string; offset: number }[] {
  return [...text.matchAll(/\S+/gu)].map((m) => ({ word: m[0], offset: m.index ?? 0 }));
}

/**
 * Lays the blocks out with the real font, stacks them, and places the stack: top, centre (a
 * little above the middle), lower third or bottom of the safe area less the caption band. A stack
 * taller than the space is set smaller (to 55 %) until it fits.
 */
function place(blocks: Block[], frame: TextFrame, anchor: 'top' | 'center' | 'lower-third' | 'bottom', backdrop: readonly string[], brief: ResolvedBrief, baseDir: string): PlacedLine[] {
  const { safe } = frame;
  const left = safe.left;
  const availW = frame.width - safe.left - safe.right;
  const top = safe.top;
  const bottom = frame.height - safe.bottom - frame.captionBandPx;
  const availH = bottom - top;
  const preferred = brief.brand?.colors.text ?? brief.design.palette?.text;
  let scale = 1;
  let laid: { block: Block; layout: TextLayout; fontFile: string; ink: Ink; boxPx: number; gap: number }[] = [];
  let height = 0;
  for (let attempt = 0; attempt < 6; attempt++) {
    laid = blocks.map((block) => {
      const fontFile = font(block.text, block.weight, brief, baseDir);
      const ink = block.bar ? inkFor(backdrop, preferred, { color: block.bar, opacity: 0.92 }) : inkFor(backdrop, preferred);
      const sizePx = Math.max(8, Math.round(block.sizePx * scale));
      const boxPx = ink.box ? Math.round(sizePx * 0.3) : 0;
      const layout = layoutText(block.text, {
        font: { file: fontFile },
        maxWidth: availW - 2 * boxPx,
        maxLines: block.maxLines,
        sizePx,
        minSizePx: Math.round(sizePx * 0.6),
        lineHeight: ink.box ? 1.5 : 1.25,
        align: block.align === 'center' ? 'center' : 'start',
      });
      return { block, layout, fontFile, ink, boxPx, gap: Math.round((block.gapAbove ?? 0) * layout.sizePx) };
    });
    height = laid.reduce((s, l, i) => s + (i > 0 ? l.gap : 0) + blockHeight(l.layout, l.boxPx), 0);
    if (height <= availH || scale < 0.56) break;
    scale *= 0.85;
  }
  let y =
    anchor === 'top' ? top
    : anchor === 'bottom' ? bottom - height
    : anchor === 'lower-third' ? Math.min(bottom - height, Math.round(top + availH * 0.66 - height / 2))
    : Math.round(top + (availH - height) * 0.42);
  y = Math.max(top, y);
  const out: PlacedLine[] = [];
  laid.forEach((l, i) => {
    if (i > 0) y += l.gap;
    const step = Math.round(l.layout.sizePx * l.layout.lineHeight);
    l.layout.lines.forEach((line, j) => {
      const width = Math.round(line.width);
      const rtl = l.layout.direction === 'rtl';
      const x = l.block.align === 'center' ? left + Math.round((availW - width) / 2) : rtl ? left + availW - l.boxPx - width : left + l.boxPx;
      out.push({ block: l.block, layout: l.layout, fontFile: l.fontFile, ink: l.ink, boxPx: l.boxPx, text: line.text, x, y: y + l.boxPx + j * step, width });
    });
    y += blockHeight(l.layout, l.boxPx);
  });
  return out;
}

/** From the first line's top to the last line's bottom, box margins included. */
function blockHeight(layout: TextLayout, boxPx: number): number {
  const step = Math.round(layout.sizePx * layout.lineHeight);
  return step * (layout.lines.length - 1) + Math.round(layout.sizePx * LINE_BOX) + 2 * boxPx;
}

/** Lower-case letters and digits of a word, for matching list items against the narration. */
const token = (s: string): string => s.toLowerCase().normalize('NFKD').replace(/[^\p{L}\p{N}]/gu, '');

/**
 * Scene-local seconds each list item appears: when the narration first speaks one of its words
 * (a word of three letters or more, after the previous item's), else spread evenly over the
 * narration. Never earlier than `earliest` nor before the item above it.
 */
export function itemTimes(items: readonly string[], words: readonly WordTiming[], slot: Pick<SceneSlot, 'startSec' | 'speechStartSec' | 'speechDurationSec' | 'durationSec'>, earliest: number): number[] {
  const spoken = words.map((w) => token(w.text));
  const speechLocal = slot.speechStartSec - slot.startSec;
  const speechSec = slot.speechDurationSec > 0 ? slot.speechDurationSec : Math.max(1, slot.durationSec - speechLocal - 1);
  let cursor = 0;
  let previous = earliest;
  return items.map((item, i) => {
    const tokens = item.split(/\s+/u).map(token).filter((t) => t.length > 0);
    const wanted = new Set(tokens.some((t) => t.length >= 3) ? tokens.filter((t) => t.length >= 3) : tokens);
    let at: number | undefined;
    for (let j = cursor; j < spoken.length; j++) {
      if (wanted.has(spoken[j] as string)) {
        at = speechLocal + (words[j] as WordTiming).startSec;
        cursor = j + 1;
        break;
      }
    }
    const time = at ?? speechLocal + (speechSec * i) / Math.max(1, items.length);
    previous = r3(Math.max(previous, time));
    return previous;
  });
}

/** The counter's text at `value`: prefix, the number with its decimals, suffix. */
export function counterText(c: { decimals: number; prefix: string; suffix: string }, value: number): string {
  return `${c.prefix}${value.toFixed(c.decimals)}${c.suffix}`;
}

/** Drawtext's expansion escapes: a backslash and a percent sign are written as \\ and \%. */
const expansionLiteral = (s: string): string => s.replace(/\\/g, '\\\\').replace(/%/g, '\\%').replace(/\n/g, ' ');

/**
 * The text file of a counter: its prefix and suffix as written, the number an %{eif:…} of the
 * layer's clock `t` (eased out over `sec`). Decimals are drawn as an integer part and a
 * zero-padded fraction, so a count with decimals is shown for non-negative values only (the
 * fraction of a negative value would lose its sign); below zero it counts in whole numbers.
 */
export function counterExpansion(c: CounterSpec, offsetSec = 0): string {
  const t = offsetSec === 0 ? 't' : `(t+${r3(offsetSec)})`;
  const value = `(${c.from}+(${c.to - c.from})*(1-pow(1-clip((${t}-${r3(c.startSec)})/${r3(c.sec)},0,1),3)))`;
  const number =
    c.decimals > 0 && Math.min(c.from, c.to) >= 0
      ? `%{eif:floor(${value}*${10 ** c.decimals}+0.5)/${10 ** c.decimals}:d}.%{eif:mod(floor(${value}*${10 ** c.decimals}+0.5),${10 ** c.decimals}):d:${c.decimals}}`
      : `%{eif:round(${value}):d}`;
  return `${expansionLiteral(c.prefix)}${number}${expansionLiteral(c.suffix)}`;
}

/**
 * The burned-in captions of a segment: each cue at most two balanced lines on the safe area's
 * bottom edge, readable over its scene's backdrop (or boxed). The `word` style adds, for
 * left-to-right scripts with spaces, one layer per word in the accent colour (or on an accent box
 * when the accent does not read) over the word while it is spoken; right-to-left and CJK cues are
 * drawn as lines only.
 */
export function captionSpecs(cues: readonly CaptionCue[], cut: SegmentCut, fps: number, brief: ResolvedBrief, baseDir: string, backdropOf: (sceneId: string) => readonly string[] = () => []): TextSpec[] {
  const from = cut.startFrame / fps;
  const to = (cut.startFrame + cut.frames) / fps;
  return captionLayers(cues.filter((c) => c.endSec > from && c.startSec < to), brief, baseDir, backdropOf, from).layers;
}

/** Every caption as design elements (video seconds). */
export function captionElements(cues: readonly CaptionCue[], brief: ResolvedBrief, baseDir: string, backdropOf: (sceneId: string) => readonly string[]): DesignElement[] {
  return captionLayers(cues, brief, baseDir, backdropOf, 0).elements;
}

function captionLayers(cues: readonly CaptionCue[], brief: ResolvedBrief, baseDir: string, backdropOf: (sceneId: string) => readonly string[], offsetSec: number): SceneText {
  if (brief.captions === false || !brief.captions.burnIn) return { layers: [], elements: [] };
  const look = brief.captions.style;
  const frame = textFrame(brief);
  const { safe } = frame;
  const availW = brief.width - safe.left - safe.right;
  const preferred = brief.brand?.colors.text ?? brief.design.palette?.text;
  const accent = brief.design.palette?.accent ?? brief.brand?.colors.primary ?? '#facc15';
  const layers: TextSpec[] = [];
  const elements: DesignElement[] = [];
  const local = (sec: number): number => r3(sec - offsetSec);
  for (const cue of cues) {
    const backdrop = backdropOf(cue.sceneId);
    const style = captionStyle(brief.width, brief.height, look === 'minimal');
    const fontFile = font(cue.text, look === 'minimal' ? 'regular' : 'bold', brief, baseDir);
    const ink = look === 'boxed' ? inkFor(backdrop, preferred, { color: '#000000', opacity: 0.6 }) : inkFor(backdrop, preferred);
    const boxPx = ink.box ? Math.round(style.fontSize * 0.35) : 0;
    const margin = Math.max(boxPx, look === 'word' ? highlightMargin(style.fontSize) : 0);
    const layout = layoutText(cue.text, {
      font: { file: fontFile },
      maxWidth: availW - 2 * margin,
      maxLines: 2,
      sizePx: style.fontSize,
      minSizePx: Math.round(style.fontSize * 0.75),
      lineHeight: ink.box ? 1.6 : 1.25,
      align: 'center',
    });
    const size = layout.sizePx;
    const step = Math.round(size * layout.lineHeight);
    const lineH = Math.round(size * LINE_BOX);
    const borderPx = ink.box ? 0 : look === 'bold' || look === 'word' ? Math.max(2, Math.round(size / 12)) : 2;
    const lastTop = brief.height - safe.bottom - margin - lineH;
    const n = layout.lines.length;
    const lines = layout.lines.map((line, i) => {
      const width = Math.round(line.width);
      return { text: line.text, x: safe.left + Math.round((availW - width) / 2), y: lastTop - (n - 1 - i) * step, width };
    });
    const base = {
      fontFile,
      fontSize: size,
      fadeInSec: 0,
      borderPx,
      box: ink.box !== undefined,
      ...(ink.box ? { boxColor: boxColor(ink.box), boxPx } : {}),
    };
    const outline = outlineFor(ink.color);
    for (const line of lines) {
      layers.push({ ...base, text: line.text, color: ffColor(ink.color), ...(borderPx > 0 ? { borderColor: `${ffColor(outline)}@0.85` } : {}), x: String(line.x), y: lineY(line.y, size), fromSec: local(cue.startSec), toSec: local(cue.endSec) });
      elements.push({
        kind: 'caption',
        sceneId: cue.sceneId,
        text: line.text,
        rect: grow({ x: line.x, y: line.y, width: line.width, height: lineH }, boxPx),
        fromSec: cue.startSec,
        toSec: cue.endSec,
        color: ink.color,
        ...(ink.box ? { box: ink.box } : { outline: { color: outline, px: borderPx } }),
        backdrop: [...backdrop],
      });
    }
    if (look !== 'word' || !cue.words || layout.direction === 'rtl' || detectDirection(cue.text) === 'rtl' || CJK.test(cue.text)) continue;
    // The highlight: the accent colour when it reads over what is behind the caption, else the
    // word on an accent box in a colour that reads on it.
    const accentReads = ink.box ? textContrast({ color: accent, backdrop, box: ink.box }) >= WCAG_AA_TEXT : backdrop.length > 0 && textContrast({ color: accent, backdrop }) >= WCAG_AA_TEXT;
    // Over a caption box the highlighted word needs no box of its own (a second one would darken the first).
    const highlight: Ink = accentReads ? { color: accent } : inkFor(backdrop, undefined, { color: accent, opacity: 1 });
    const hlBoxPx = highlight.box ? highlightMargin(size) : 0;
    let lineIndex = 0;
    let cursor = 0;
    for (const word of cue.words) {
      let at = -1;
      while (lineIndex < lines.length) {
        at = (lines[lineIndex] as { text: string }).text.indexOf(word.text, cursor);
        if (at >= 0) break;
        lineIndex++;
        cursor = 0;
      }
      if (at < 0 || word.endSec <= word.startSec) break;
      const line = lines[lineIndex] as (typeof lines)[number];
      cursor = at + word.text.length;
      const x = line.x + Math.round(measureText(line.text.slice(0, at), { file: fontFile }, size));
      const width = Math.round(measureText(word.text, { file: fontFile }, size));
      const fromSec = Math.max(word.startSec, cue.startSec);
      const toSec = Math.min(word.endSec, cue.endSec);
      if (toSec <= fromSec) continue;
      layers.push({
        ...base,
        text: word.text,
        color: ffColor(highlight.color),
        x: String(x),
        y: lineY(line.y, size),
        fromSec: local(fromSec),
        toSec: local(toSec),
        box: highlight.box !== undefined,
        ...(highlight.box ? { boxColor: boxColor(highlight.box), boxPx: hlBoxPx } : {}),
        borderPx: highlight.box || ink.box ? 0 : borderPx,
        ...(highlight.box || ink.box ? {} : { borderColor: `${ffColor(outlineFor(highlight.color))}@0.85` }),
      });
      elements.push({
        kind: 'caption',
        sceneId: cue.sceneId,
        text: word.text,
        rect: grow({ x, y: line.y, width, height: lineH }, hlBoxPx),
        fromSec: r3(fromSec),
        toSec: r3(toSec),
        color: highlight.color,
        ...(highlight.box ? { box: highlight.box } : ink.box ? { box: ink.box } : { outline: { color: outlineFor(highlight.color), px: borderPx } }),
        backdrop: [...backdrop],
      });
    }
  }
  return { layers, elements };
}

export function materialise(spec: TextSpec, dir: string, name: string, offsetSec = 0): TextLayer {
  const textFile = join(dir, `${name}.txt`);
  writeFileSync(textFile, spec.counter ? counterExpansion(spec.counter, offsetSec) : spec.text);
  const { text: _text, counter: _counter, ...layer } = spec;
  return { ...layer, textFile };
}
