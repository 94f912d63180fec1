/**
 * The colours a scene is drawn with: the base of its background, the colours of the shapes,
 * patterns and particles over it, and the accent its icon is drawn in. With a design palette
 * (brief.design.palette or a template's) every scene of a video takes its decoration from the same
 * palette; without one they come from the scene's own gradient or colour.
 */
import type { Palette } from '../../contract/brief.js';
import { blend, contrastRatio, relativeLuminance } from '../contrast.js';

export interface ScenePalette {
  /** The background's base: 2–4 colours blended across the frame. */
  base: string[];
  /** Colours of the soft shapes, pattern and particles (drawn at low opacity). */
  decor: string[];
  /** The icon's colour: the first candidate at least 3:1 against every base colour (WCAG's ratio for graphics), else the best. */
  accent: string;
  /**
   * The disc drawn under the icon: the opposite of the accent (black under a light accent), at the
   * least opacity that brings the accent to 3:1 over every base colour (at least a faint disc).
   */
  plate: { color: string; opacity: number };
}

/** WCAG 2.1 (1.4.11) asks 3:1 for the parts of a graphic one needs to see. */
export const GRAPHIC_CONTRAST = 3;

const normal = (hex: string): string => {
  const h = hex.replace('#', '').toLowerCase();
  return `#${h.length === 3 ? [...h].map((c) => c + c).join('') : h}`;
};

/** Whether white reads better than black over these colours (their mean luminance is low). */
export function isDark(colors: readonly string[]): boolean {
  const worstWhite = Math.min(...colors.map((c) => contrastRatio('#ffffff', c)));
  const worstBlack = Math.min(...colors.map((c) => contrastRatio('#000000', c)));
  return worstWhite >= worstBlack;
}

/**
 * A scene's palette. `colors` are the scene's visual (a colour or a gradient's stops); a single
 * colour becomes a gentle gradient of itself so a flat colour gets depth too.
 */
export function scenePalette(colors: readonly string[], palette?: Palette): ScenePalette {
  const given = colors.map(normal);
  const base = given.length >= 2 ? given : [blend('#ffffff', 0.1, given[0] ?? '#1e293b'), blend('#000000', 0.3, given[0] ?? '#1e293b')];
  const dark = isDark(base);
  const decor = palette
    ? [palette.primary, palette.secondary, palette.accent].map(normal)
    : base.map((c) => (dark ? blend('#ffffff', 0.45, c) : blend('#000000', 0.35, c)));
  const legible = (c: string): boolean => base.every((b) => contrastRatio(c, b) >= GRAPHIC_CONTRAST);
  // A pale tint of the scene's lightest colour on dark backgrounds (a deep shade of the darkest on
  // light ones): related to the scene's colours, yet clearly visible.
  const sorted = [...base].sort((a, b) => relativeLuminance(a) - relativeLuminance(b));
  const tint = dark ? blend('#ffffff', 0.8, sorted[sorted.length - 1]!) : blend('#000000', 0.75, sorted[0]!);
  const candidates = [...(palette ? [normal(palette.accent), normal(palette.text)] : []), tint, dark ? '#ffffff' : '#000000'];
  const worst = (c: string): number => Math.min(...base.map((b) => contrastRatio(c, b)));
  const accent = candidates.find(legible) ?? [...candidates, '#ffffff', '#000000'].reduce((a, b) => (worst(b) > worst(a) ? b : a));
  const plateColor = relativeLuminance(accent) > 0.18 ? '#000000' : '#ffffff';
  let opacity = 0.12;
  while (opacity < 0.6 && !base.every((b) => contrastRatio(accent, blend(plateColor, opacity, b)) >= GRAPHIC_CONTRAST)) opacity += 0.04;
  return { base, decor, accent, plate: { color: plateColor, opacity: Math.round(opacity * 100) / 100 } };
}

/** The duotone of a video without a palette: a deep indigo and a warm amber. */
const DUOTONE_DEFAULT = { dark: '#1e1b4b', light: '#fbbf24' } as const;
/** The least contrast between a duotone's two colours, so the picture keeps its shapes. */
const DUOTONE_CONTRAST = 4.5;

/**
 * A picture's duotone from the video's palette: shadows in its darkest colour, highlights in the
 * lightest of the others (never the text colour, which is meant to read over the picture). Two
 * colours too close to keep the picture's shapes are pulled apart, the dark one toward black and
 * the light one toward white, until they are 4.5:1.
 */
export function duotoneColors(palette?: Palette): { dark: string; light: string } {
  if (!palette) return { ...DUOTONE_DEFAULT };
  const byLuminance = (colors: string[]): string[] => [...colors].sort((a, b) => relativeLuminance(a) - relativeLuminance(b));
  const all = byLuminance([palette.background, palette.primary, palette.secondary, palette.accent].map(normal));
  let dark = all[0] as string;
  let light = all[all.length - 1] as string;
  for (let step = 0.1; contrastRatio(dark, light) < DUOTONE_CONTRAST && step <= 1; step += 0.1) {
    dark = blend('#000000', step, all[0] as string);
    light = blend('#ffffff', step, all[all.length - 1] as string);
  }
  return { dark, light };
}
