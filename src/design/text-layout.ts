/**
 * Lays out on-screen text with the real font: HarfBuzz shapes every candidate line (kerning,
 * ligatures, Arabic joining), UAX #14 gives the break opportunities (between CJK characters, never
 * before 。、，), lines are balanced rather than filled greedily, and the size shrinks before the
 * text overflows. The result is a list of lines in logical order with their measured widths and
 * their x offsets inside the box, for a drawer to place; nothing here renders.
 *
 * Overflow policy: when the text cannot be set in `maxLines` even at `minSizePx`, it is laid out at
 * `minSizePx`, words wider than the box are split between graphemes, lines are filled greedily, and
 * when more than `maxLines` remain the last kept line ends with an ellipsis ("…") trimmed to fit.
 * `overflow` is then true (and `truncated` says whether text was dropped). Every returned line is
 * at most `maxWidth` wide, always.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as hb from 'harfbuzzjs';
import LineBreaker from 'linebreak';
import { AppError } from '../contract/errors.js';

const bidiFactory: typeof import('bidi-js').default = createRequire(import.meta.url)('bidi-js');
const bidi = bidiFactory();

export interface FontRef {
  /** Path of a .ttf/.otf file, or of a .ttc collection together with `faceIndex`. */
  file: string;
  /** Face inside a collection (.ttc); 0 for single fonts. */
  faceIndex?: number;
}

export type TextAlign = 'center' | 'start' | 'end';
export type TextDirection = 'ltr' | 'rtl';

export interface TextLayoutOptions {
  font: FontRef;
  /** Width of the box the lines must fit in, in pixels (e.g. the frame minus its safe area). */
  maxWidth: number;
  maxLines: number;
  /** Preferred size in pixels. */
  sizePx: number;
  /** Smallest size the text may shrink to before it overflows; defaults to `sizePx` (no shrinking). */
  minSizePx?: number;
  /** Line pitch as a multiple of the size; default 1.2. */
  lineHeight?: number;
  align: TextAlign;
  /** Paragraph direction; 'auto' (the default) takes it from the first strong character. */
  direction?: 'auto' | TextDirection;
}

export interface LaidOutLine {
  /** The line's text in logical order (a drawer reorders RTL runs itself). */
  text: string;
  /** Advance width in pixels. */
  width: number;
  /** Left edge of the line inside the box, in pixels from the box's left edge. */
  x: number;
}

export interface TextLayout {
  sizePx: number;
  lines: LaidOutLine[];
  /** Width of the widest line. */
  width: number;
  /** lines × sizePx × lineHeight. */
  height: number;
  lineHeight: number;
  direction: TextDirection;
  /** The text did not fit in maxLines at minSizePx: words were split or the text truncated. */
  overflow: boolean;
  /** Text was dropped and the last line ends with an ellipsis. */
  truncated: boolean;
}

interface LoadedFont {
  font: hb.Font;
  upem: number;
  /** Advance widths in font units by text; cleared when it grows large. */
  widths: Map<string, number>;
}

const fonts = new Map<string, LoadedFont>();
const WIDTH_CACHE_LIMIT = 20_000;
const ELLIPSIS = '…';

function loadFont(ref: FontRef): LoadedFont {
  const faceIndex = ref.faceIndex ?? 0;
  const key = `${ref.file}#${faceIndex}`;
  const cached = fonts.get(key);
  if (cached) return cached;
  let data: Buffer;
  try {
    data = readFileSync(ref.file);
  } catch (cause) {
    throw new AppError('asset_not_found', `font file ${ref.file} cannot be read`, {
      cause,
      details: [{ path: 'font.file', message: 'give the path of an installed .ttf/.otf/.ttc file (see src/media/fonts.ts for the packaged ones)' }],
    });
  }
  const face = new hb.Face(new hb.Blob(data), faceIndex);
  if (!(face.upem > 0)) {
    throw new AppError('asset_unreadable', `${ref.file} has no usable font face at index ${faceIndex}`, {
      details: [{ path: 'font.faceIndex', message: 'use the index of a face inside the collection (0 for a single font)' }],
    });
  }
  const loaded: LoadedFont = { font: new hb.Font(face), upem: face.upem, widths: new Map() };
  fonts.set(key, loaded);
  return loaded;
}

/** Splits text into runs of one bidi embedding level, so each run is shaped in its own direction. */
function bidiRuns(text: string, base: TextDirection): { start: number; end: number; rtl: boolean }[] {
  const { levels } = bidi.getEmbeddingLevels(text, base);
  const runs: { start: number; end: number; rtl: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const rtl = (levels[i] & 1) === 1;
    const last = runs[runs.length - 1];
    if (last && last.rtl === rtl) last.end = i + 1;
    else runs.push({ start: i, end: i + 1, rtl });
  }
  return runs;
}

function widthUnits(loaded: LoadedFont, text: string, base: TextDirection): number {
  const key = `${base}\u0000${text}`;
  const known = loaded.widths.get(key);
  if (known !== undefined) return known;
  let total = 0;
  for (const run of bidiRuns(text, base)) {
    const buffer = new hb.Buffer();
    buffer.addText(text.slice(run.start, run.end));
    buffer.guessSegmentProperties();
    buffer.setDirection(run.rtl ? hb.Direction.RTL : hb.Direction.LTR);
    hb.shape(loaded.font, buffer);
    for (const p of buffer.getGlyphPositions()) total += p.xAdvance;
  }
  if (loaded.widths.size >= WIDTH_CACHE_LIMIT) loaded.widths.clear();
  loaded.widths.set(key, total);
  return total;
}

/** The paragraph direction of `text`: that of its first strong character, LTR when it has none. */
export function detectDirection(text: string): TextDirection {
  const para = bidi.getEmbeddingLevels(text, 'auto').paragraphs[0];
  return para && para.level % 2 === 1 ? 'rtl' : 'ltr';
}

/** Advance width of `text` set in `font` at `sizePx`, shaped by HarfBuzz. */
export function measureText(text: string, font: FontRef, sizePx: number, direction: TextDirection = detectDirection(text)): number {
  const loaded = loadFont(font);
  return (widthUnits(loaded, text, direction) * sizePx) / loaded.upem;
}

interface Segment {
  text: string;
  /** A newline follows: the line must end here. */
  hardBreak: boolean;
}

/** Collapses spaces, keeps newlines as hard breaks. */
function normalize(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ *\n+ */g, '\n')
    .trim();
}

/** Pieces of text between UAX #14 break opportunities, each with its trailing space. */
function segmentsOf(text: string): Segment[] {
  const breaker = new LineBreaker(text);
  const segments: Segment[] = [];
  let last = 0;
  for (let brk = breaker.nextBreak(); brk; brk = breaker.nextBreak()) {
    if (brk.position <= last) continue;
    const piece = text.slice(last, brk.position);
    segments.push({ text: piece.replace(/\n$/, ''), hardBreak: piece.endsWith('\n') });
    last = brk.position;
  }
  return segments;
}

const lineText = (segments: Segment[], from: number, to: number): string =>
  segments
    .slice(from, to)
    .map((s) => s.text)
    .join('')
    .trim();

/** Line breaks as a list of segment indexes where each line begins, plus the total. */
type Breaks = number[];

interface Fitter {
  segments: Segment[];
  /** Width in font units of segments [from, to) set as one line. */
  width(from: number, to: number): number;
}

function makeFitter(loaded: LoadedFont, segments: Segment[], direction: TextDirection): Fitter {
  const n = segments.length;
  const memo = new Map<number, number>();
  return {
    segments,
    width(from, to) {
      const key = from * (n + 1) + to;
      let w = memo.get(key);
      if (w === undefined) {
        w = widthUnits(loaded, lineText(segments, from, to), direction);
        memo.set(key, w);
      }
      return w;
    },
  };
}

/** Lines [from, to) may not run over a hard break. */
function crossesHardBreak(segments: Segment[], from: number, to: number): boolean {
  for (let k = from; k < to - 1; k++) if (segments[k].hardBreak) return true;
  return false;
}

/** Fewest lines at the given width limit (in font units), filling greedily; Infinity if a piece is too wide. */
function minLineCount(fit: Fitter, limit: number): number {
  const n = fit.segments.length;
  let count = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    if (fit.width(i, j) > limit) return Infinity;
    while (j < n && !fit.segments[j - 1].hardBreak && fit.width(i, j + 1) <= limit) j++;
    count++;
    i = j;
  }
  return count;
}

/**
 * Exactly `lineCount` lines, each within `limit`, as even as possible: the sum of squared line
 * widths is minimal (for a fixed total that is the most even split), and a last line holding a
 * single piece of a longer text (an orphan) is taken only when no other split fits.
 */
function balancedBreaks(fit: Fitter, lineCount: number, limit: number): Breaks | undefined {
  const segs = fit.segments;
  const n = segs.length;
  // cost[l][j]: best cost of segments [0, j) in l lines; from[l][j]: where the l-th line begins.
  const cost: number[][] = Array.from({ length: lineCount + 1 }, () => new Array<number>(n + 1).fill(Infinity));
  const from: number[][] = Array.from({ length: lineCount + 1 }, () => new Array<number>(n + 1).fill(-1));
  cost[0][0] = 0;
  for (let l = 1; l <= lineCount; l++) {
    for (let j = l; j <= n; j++) {
      if (l === lineCount && j !== n) continue;
      for (let i = j - 1; i >= l - 1; i--) {
        if (crossesHardBreak(segs, i, j)) break;
        const w = fit.width(i, j);
        if (w > limit) break;
        if (cost[l - 1][i] === Infinity) continue;
        const orphan = l === lineCount && j - i === 1 && n > lineCount && n > 1;
        const c = cost[l - 1][i] + w * w + (orphan ? ORPHAN_PENALTY : 0);
        if (c < cost[l][j]) {
          cost[l][j] = c;
          from[l][j] = i;
        }
      }
    }
  }
  if (cost[lineCount][n] === Infinity) return undefined;
  const starts: number[] = [];
  for (let l = lineCount, j = n; l > 0; l--) {
    const i = from[l][j];
    starts.unshift(i);
    j = i;
  }
  return starts;
}

/** Larger than any sum of squared widths a caption can reach, so an orphan loses to every other fit. */
const ORPHAN_PENALTY = 1e30;

/** Sizes to try, largest first: whole pixels from sizePx down to minSizePx. */
function candidateSizes(sizePx: number, minSizePx: number): number[] {
  const sizes = [sizePx];
  for (let s = Math.ceil(sizePx) - 1; s > minSizePx; s--) sizes.push(s);
  if (minSizePx < sizePx) sizes.push(minSizePx);
  return sizes;
}

function graphemes(text: string): string[] {
  return [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].map((g) => g.segment);
}

/** Splits every segment wider than `limit` between graphemes, so that each piece fits alone. */
function splitWide(loaded: LoadedFont, segments: Segment[], limit: number, direction: TextDirection): Segment[] {
  const out: Segment[] = [];
  for (const seg of segments) {
    if (widthUnits(loaded, seg.text.trim(), direction) <= limit) {
      out.push(seg);
      continue;
    }
    let piece = '';
    for (const g of graphemes(seg.text)) {
      if (piece && widthUnits(loaded, (piece + g).trim(), direction) > limit) {
        out.push({ text: piece, hardBreak: false });
        piece = '';
      }
      piece += g;
    }
    out.push({ text: piece, hardBreak: seg.hardBreak });
  }
  return out;
}

function greedyBreaks(fit: Fitter, limit: number): Breaks {
  const n = fit.segments.length;
  const starts: number[] = [];
  for (let i = 0; i < n; ) {
    starts.push(i);
    let j = i + 1;
    while (j < n && !fit.segments[j - 1].hardBreak && fit.width(i, j + 1) <= limit) j++;
    i = j;
  }
  return starts;
}

/** `text` shortened at the end, by graphemes, until it plus an ellipsis fits in `limit`. */
function withEllipsis(loaded: LoadedFont, text: string, limit: number, direction: TextDirection): string {
  const parts = graphemes(text);
  while (parts.length > 0) {
    const candidate = parts.join('').trimEnd() + ELLIPSIS;
    if (widthUnits(loaded, candidate, direction) <= limit) return candidate;
    parts.pop();
  }
  return widthUnits(loaded, ELLIPSIS, direction) <= limit ? ELLIPSIS : '';
}

function invalid(path: string, message: string): AppError {
  return new AppError('invalid_request', `text layout: ${path} ${message}`, { details: [{ path, message }] });
}

/** Lays `text` out in at most `maxLines` lines of at most `maxWidth` pixels; see the file comment. */
export function layoutText(text: string, options: TextLayoutOptions): TextLayout {
  const { font, maxWidth, maxLines, sizePx, align } = options;
  const minSizePx = options.minSizePx ?? sizePx;
  const lineHeight = options.lineHeight ?? 1.2;
  if (!(maxWidth > 0)) throw invalid('maxWidth', 'must be a positive number of pixels');
  if (!(Number.isInteger(maxLines) && maxLines >= 1)) throw invalid('maxLines', 'must be a whole number of at least 1');
  if (!(sizePx > 0)) throw invalid('sizePx', 'must be a positive number of pixels');
  if (!(minSizePx > 0 && minSizePx <= sizePx)) throw invalid('minSizePx', 'must be positive and no larger than sizePx');
  if (!(lineHeight > 0)) throw invalid('lineHeight', 'must be a positive multiple of the size');

  const loaded = loadFont(font);
  const clean = normalize(text);
  const direction: TextDirection = options.direction && options.direction !== 'auto' ? options.direction : detectDirection(clean);
  const finish = (size: number, texts: string[], overflow: boolean, truncated: boolean): TextLayout => {
    const px = (units: number): number => (units * size) / loaded.upem;
    const lines = texts.map((t) => {
      const width = px(widthUnits(loaded, t, direction));
      const slack = maxWidth - width;
      const atLeft = align === 'start' ? direction === 'ltr' : direction === 'rtl';
      const x = align === 'center' ? slack / 2 : atLeft ? 0 : slack;
      return { text: t, width, x };
    });
    return {
      sizePx: size,
      lines,
      width: Math.max(0, ...lines.map((l) => l.width)),
      height: lines.length * size * lineHeight,
      lineHeight,
      direction,
      overflow,
      truncated,
    };
  };
  if (clean === '') return finish(sizePx, [], false, false);

  const segments = segmentsOf(clean);
  const fit = makeFitter(loaded, segments, direction);
  const toTexts = (f: Fitter, starts: Breaks): string[] =>
    starts.map((s, k) => lineText(f.segments, s, starts[k + 1] ?? f.segments.length));

  for (const size of candidateSizes(sizePx, minSizePx)) {
    const limit = (maxWidth * loaded.upem) / size;
    const count = minLineCount(fit, limit);
    if (count > maxLines) continue;
    const starts = balancedBreaks(fit, count, limit);
    if (starts) return finish(size, toTexts(fit, starts), false, false);
  }

  // Overflow at the smallest size: split over-wide words, fill greedily, cut with an ellipsis.
  const limit = (maxWidth * loaded.upem) / minSizePx;
  const forced = makeFitter(loaded, splitWide(loaded, segments, limit, direction), direction);
  const texts = toTexts(forced, greedyBreaks(forced, limit));
  if (texts.length <= maxLines) return finish(minSizePx, texts, true, false);
  const kept = texts.slice(0, maxLines);
  kept[maxLines - 1] = withEllipsis(loaded, kept[maxLines - 1], limit, direction);
  return finish(minSizePx, kept, true, true);
}
