/**
 * Picks a font file for on-screen text by the script the text is written in. drawtext takes a
 * font file, not a family, so the lookup happens here, over fonts that Debian packages install
 * (fonts-dejavu-core, fonts-noto-core, fonts-noto-cjk). A brand font, when given, wins for Latin.
 */
import { existsSync } from 'node:fs';

export type Script = 'latin' | 'arabic' | 'cjk' | 'hebrew' | 'devanagari';
export type Weight = 'regular' | 'bold';

const CANDIDATES: Record<Script, Record<Weight, string[]>> = {
  latin: {
    bold: ['/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', '/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf'],
    regular: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf'],
  },
  arabic: {
    bold: ['/usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf', '/usr/share/fonts/truetype/noto/NotoNaskhArabic-Bold.ttf'],
    regular: ['/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf', '/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf'],
  },
  cjk: {
    bold: ['/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc', '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc'],
    regular: ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc'],
  },
  hebrew: {
    bold: ['/usr/share/fonts/truetype/noto/NotoSansHebrew-Bold.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'],
    regular: ['/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'],
  },
  devanagari: {
    bold: ['/usr/share/fonts/truetype/noto/NotoSansDevanagari-Bold.ttf'],
    regular: ['/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf'],
  },
};

/** The dominant non-Latin script of a text, else latin. */
export function detectScript(text: string): Script {
  if (/[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]/u.test(text)) return 'cjk';
  if (/[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]/u.test(text)) return 'arabic';
  if (/[\u0590-\u05ff]/u.test(text)) return 'hebrew';
  if (/[\u0900-\u097f]/u.test(text)) return 'devanagari';
  return 'latin';
}

export interface FontChoice {
  path: string;
  script: Script;
}

/** A font file that can draw `text`; undefined when no candidate is installed. */
export function fontFor(text: string, weight: Weight, brandFont?: string, exists = existsSync): FontChoice | undefined {
  const script = detectScript(text);
  if (brandFont && script === 'latin' && exists(brandFont)) return { path: brandFont, script };
  const path = CANDIDATES[script][weight].find((p) => exists(p)) ?? CANDIDATES.latin[weight].find((p) => exists(p));
  return path ? { path, script } : undefined;
}

/** Every candidate and whether it is installed, for `aiprod doctor`. */
export function fontReport(exists = existsSync): { script: Script; weight: Weight; path: string | undefined }[] {
  return (Object.keys(CANDIDATES) as Script[]).flatMap((script) =>
    (['regular', 'bold'] as Weight[]).map((weight) => ({ script, weight, path: CANDIDATES[script][weight].find((p) => exists(p)) })),
  );
}
