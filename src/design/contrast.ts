/**
 * WCAG 2.x contrast: relative luminance of sRGB colours and the ratio between two of them
 * (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio). AA asks 4.5:1 for text.
 *
 *   contrastRatio('#ffffff', '#000000') // 21
 *   textContrast({ color: '#fff', backdrop: ['#f8fafc', '#1e3a8a'], box: { color: '#000', opacity: 0.6 } })
 */
export const WCAG_AA_TEXT = 4.5;

type Rgb = [number, number, number];

export function parseHex(hex: string): Rgb {
  const h = hex.replace(/^#|^0x/i, '');
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h.slice(0, 6);
  if (!/^[0-9a-f]{6}$/i.test(full)) throw new Error(`not a hex colour: ${hex}`);
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as Rgb;
}

export function toHex([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((c) => Math.round(Math.min(255, Math.max(0, c))).toString(16).padStart(2, '0')).join('')}`;
}

/** Relative luminance 0 (black) … 1 (white). */
export function relativeLuminance(hex: string): number {
  const [r, g, b] = parseHex(hex).map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** (L1 + 0.05) / (L2 + 0.05), the lighter over the darker: 1 … 21. */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** `top` at `opacity` over `bottom`, as the eye sees it. */
export function blend(top: string, opacity: number, bottom: string): string {
  const t = parseHex(top);
  const b = parseHex(bottom);
  return toHex([0, 1, 2].map((i) => t[i]! * opacity + b[i]! * (1 - opacity)) as Rgb);
}

/**
 * The worst contrast a text colour meets over its backdrop colours, seen through its box when it
 * has one. With no backdrop known, the box alone (over black and over white) is what is judged.
 */
export function textContrast(text: { color: string; backdrop?: readonly string[]; box?: { color: string; opacity: number } }): number {
  const behind = text.backdrop && text.backdrop.length > 0 ? text.backdrop : ['#000000', '#ffffff'];
  const seen = text.box ? behind.map((c) => blend(text.box!.color, text.box!.opacity, c)) : behind;
  return Math.min(...seen.map((c) => contrastRatio(text.color, c)));
}

/** Of `candidates`, the first that reaches `min` over the backdrop, else the one with the best contrast. */
export function readableColor(candidates: readonly string[], backdrop: readonly string[], min = WCAG_AA_TEXT): string {
  let best = candidates[0] ?? '#ffffff';
  let bestRatio = -1;
  for (const color of candidates) {
    const ratio = textContrast({ color, backdrop });
    if (ratio >= min) return color;
    if (ratio > bestRatio) [best, bestRatio] = [color, ratio];
  }
  return best;
}
