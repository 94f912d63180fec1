/**
 * The text of a scene as layers: titles (and, as the design grows, lower thirds, list items,
 * counters), and the burned-in captions of a segment. Laid out with the real font
 * (design/text-layout.ts) inside the ratio's safe area; the layers are plain data that go into the
 * segment's cache key, and become drawtext filters in media/args/segment.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../contract/errors.js';
import type { ResolvedBrief } from '../../contract/resolve.js';
import { layoutText } from '../../design/text-layout.js';
import { ffColor } from '../../media/args/escape.js';
import type { TextLayer } from '../../media/args/segment.js';
import { fontFor } from '../../media/fonts.js';
import type { CaptionCue } from '../captions.js';
import { resolveAsset } from '../preflight.js';
import { captionStyle, safeArea, titleStyle } from './layout.js';
import type { SegmentCut } from './segments.js';

/** A text layer before its text file exists: what goes into the cache key. */
export type TextSpec = Omit<TextLayer, 'textFile'> & { text: string };

function font(text: string, weight: 'regular' | 'bold', brief: ResolvedBrief, baseDir: string): string {
  const brandFont = brief.brand?.font ? resolveAsset(baseDir, brief.brand.font) : undefined;
  const choice = fontFor(text, weight, brandFont);
  if (!choice) throw new AppError('internal', 'no font found: install fonts-dejavu-core (and fonts-noto-core, fonts-noto-cjk for other scripts)');
  return choice.path;
}

/**
 * A scene title, laid out with the real font (design/text-layout.ts): balanced lines that fit the
 * safe area, the size lowered (to 60 %) before a long title overflows, each line its own layer
 * centred on its own width, the block a little above the middle of the safe area.
 */
export function titleSpec(title: string, brief: ResolvedBrief, baseDir: string, visibleSec: number): TextSpec[] {
  const safe = safeArea(brief.width, brief.height, brief.aspectRatio);
  const style = titleStyle(brief.width, brief.height, title);
  const fontFile = font(title, 'bold', brief, baseDir);
  const layout = layoutText(title, {
    font: { file: fontFile },
    maxWidth: brief.width - safe.left - safe.right,
    maxLines: 4,
    sizePx: style.fontSize,
    minSizePx: Math.round(style.fontSize * 0.6),
    lineHeight: 1.25,
    align: 'center',
  });
  const step = Math.round(layout.sizePx * layout.lineHeight);
  const block = step * layout.lines.length;
  return layout.lines.map((line, i) => ({
    text: line.text,
    fontFile,
    fontSize: layout.sizePx,
    color: ffColor(brief.brand?.colors.text ?? '#ffffff'),
    x: '(w-text_w)/2',
    y: `${safe.top}+(h-${safe.top + safe.bottom}-${block})*0.42+${i * step}`,
    fromSec: 0.15,
    toSec: visibleSec,
    fadeInSec: 0.5,
    box: false,
    borderPx: Math.max(2, Math.round(layout.sizePx / 16)),
  }));
}

export function captionSpecs(cues: readonly CaptionCue[], cut: SegmentCut, fps: number, brief: ResolvedBrief, baseDir: string): TextSpec[] {
  if (brief.captions === false || !brief.captions.burnIn) return [];
  const { style: captionLook } = brief.captions;
  const from = cut.startFrame / fps;
  const to = (cut.startFrame + cut.frames) / fps;
  const safe = safeArea(brief.width, brief.height, brief.aspectRatio);
  return cues
    .filter((c) => c.endSec > from && c.startSec < to)
    .flatMap((c) => {
      const style = captionStyle(brief.width, brief.height, captionLook === 'minimal');
      const fontFile = font(c.text, captionLook === 'minimal' ? 'regular' : 'bold', brief, baseDir);
      // At most two balanced lines, each its own layer centred on its own width, the last one on the safe area's bottom edge.
      const layout = layoutText(c.text, {
        font: { file: fontFile },
        maxWidth: brief.width - safe.left - safe.right,
        maxLines: 2,
        sizePx: style.fontSize,
        minSizePx: Math.round(style.fontSize * 0.75),
        lineHeight: captionLook === 'boxed' ? 1.6 : 1.25,
        align: 'center',
      });
      const step = Math.round(layout.sizePx * layout.lineHeight);
      return layout.lines.map((line, i) => ({
        text: line.text,
        fontFile,
        fontSize: layout.sizePx,
        color: ffColor(brief.brand?.colors.text ?? '#ffffff'),
        x: '(w-text_w)/2',
        y: `h-${safe.bottom + (layout.lines.length - 1 - i) * step}-text_h`,
        fromSec: Math.round((c.startSec - from) * 1000) / 1000,
        toSec: Math.round((c.endSec - from) * 1000) / 1000,
        fadeInSec: 0,
        box: captionLook === 'boxed',
        borderPx: captionLook === 'bold' ? Math.max(2, Math.round(layout.sizePx / 12)) : captionLook === 'minimal' ? 2 : 0,
      }));
    });
}

export function materialise(spec: TextSpec, dir: string, name: string): TextLayer {
  const textFile = join(dir, `${name}.txt`);
  writeFileSync(textFile, spec.text);
  const { text: _text, ...layer } = spec;
  return { ...layer, textFile };
}

