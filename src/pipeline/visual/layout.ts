/**
 * Where text goes: safe areas per aspect ratio (vertical video keeps clear of the platform's
 * buttons and captions at the bottom), font sizes from the frame's short side, and line wrapping.
 */
import type { AspectRatio } from '../../contract/brief.js';

export interface SafeArea {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const MARGINS: Record<AspectRatio, { x: number; top: number; bottom: number }> = {
  '16:9': { x: 0.06, top: 0.08, bottom: 0.1 },
  '9:16': { x: 0.07, top: 0.12, bottom: 0.22 },
  '1:1': { x: 0.06, top: 0.08, bottom: 0.12 },
  '4:5': { x: 0.06, top: 0.08, bottom: 0.14 },
};

export function safeArea(width: number, height: number, aspectRatio: AspectRatio): SafeArea {
  const m = MARGINS[aspectRatio];
  return {
    left: Math.round(width * m.x),
    right: Math.round(width * m.x),
    top: Math.round(height * m.top),
    bottom: Math.round(height * m.bottom),
  };
}

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/u;

/** Wraps text to lines of at most `maxChars` (characters for CJK, which has no spaces). */
export function wrapText(text: string, maxChars: number, maxLines = Infinity): string[] {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean.length === 0) return [];
  const lines: string[] = [];
  if (CJK.test(clean) && !clean.includes(' ')) {
    for (let i = 0; i < clean.length; i += maxChars) lines.push(clean.slice(i, i + maxChars));
  } else {
    let line = '';
    for (const word of clean.split(' ')) {
      if (line.length > 0 && line.length + 1 + word.length > maxChars) {
        lines.push(line);
        line = word;
      } else {
        line = line.length > 0 ? `${line} ${word}` : word;
      }
    }
    if (line) lines.push(line);
  }
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = `${kept[maxLines - 1]}…`;
    return kept;
  }
  return lines;
}

export interface TextStyle {
  fontSize: number;
  maxCharsPerLine: number;
}

/** Average glyph width relative to the font size, for wrapping without measuring. */
const GLYPH_WIDTH = { latin: 0.6, cjk: 1.0 };

function style(size: number, usableWidth: number, text: string): TextStyle {
  const glyph = CJK.test(text) ? GLYPH_WIDTH.cjk : GLYPH_WIDTH.latin;
  return { fontSize: size, maxCharsPerLine: Math.max(6, Math.floor(usableWidth / (size * glyph))) };
}

export function titleStyle(width: number, height: number, safe: SafeArea, text: string): TextStyle {
  const short = Math.min(width, height);
  const factor = text.length <= 24 ? 0.085 : text.length <= 60 ? 0.068 : 0.052;
  return style(Math.round(short * factor), width - safe.left - safe.right, text);
}

export function captionStyle(width: number, height: number, safe: SafeArea, text: string, minimal: boolean): TextStyle {
  const short = Math.min(width, height);
  const factor = (width < height ? 0.058 : 0.048) * (minimal ? 0.85 : 1);
  return style(Math.round(short * factor), width - safe.left - safe.right, text);
}
