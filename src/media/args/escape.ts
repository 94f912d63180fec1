/**
 * Filter-graph values. A path inside -filter_complex passes two levels of FFmpeg escaping; rather
 * than escape everything, AIPROD keeps the paths it writes free of special characters and quotes
 * them, and refuses the rare path that still cannot be quoted safely.
 */

const UNSAFE = /['\\\n\r]/;

/** A single-quoted filter option value; throws for a value containing ' \ or a newline. */
export function filterValue(value: string): string {
  if (UNSAFE.test(value)) {
    throw new Error(`cannot use ${JSON.stringify(value)} in an FFmpeg filter graph: remove quotes, backslashes and newlines from the path`);
  }
  return `'${value}'`;
}

/** 0xRRGGBB from #rgb or #rrggbb, the colour syntax every FFmpeg build accepts. */
export function ffColor(hex: string): string {
  const h = hex.replace('#', '');
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h;
  return `0x${full.toLowerCase()}`;
}
