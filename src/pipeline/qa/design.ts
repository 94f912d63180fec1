/**
 * Quality gates over the design record (state.design, design.json): what the visualize stage
 * placed on the frame, checked without decoding a frame.
 *
 * - text_contrast (hard): every text element whose colour AIPROD chose reaches WCAG AA (4.5:1)
 *   over every backdrop colour recorded under it, seen through its box. A thick outline in a
 *   contrasting colour counts too: it is what the glyphs are read against.
 * - text_contrast_brief (warning): the same for text drawn in a colour the brief itself named (a
 *   brand or palette colour, including a template's palette). A brand colour that cannot reach
 *   4.5:1 is reported, but does not make the brief impossible to render.
 * - safe_area (hard): every text element, icon and logo lies inside the safe area; an image may
 *   bleed off the frame (an edge at or past the frame's edge is a choice), but an edge between the
 *   frame's edge and the safe margin is a misplacement.
 * - caption_overlap (hard): no caption shares pixels with another text element while both are on
 *   screen. Captions are not compared with each other: a highlighted word is drawn over its line.
 *
 * A failure names the scene, the element and its text, so a person can fix the brief or the layout.
 */
import { blend, contrastRatio, parseHex, textContrast, toHex, WCAG_AA_TEXT } from '../../design/contrast.js';
import { overlapArea } from '../../design/geometry.js';
import type { DesignElement, DesignRecord } from '../../design/record.js';
import type { QaCheck } from './checks.js';

export const DESIGN_LIMITS = {
  contrast: WCAG_AA_TEXT,
  /** Time two elements must share on screen to count as overlapping (a touching end and start do not). */
  overlapSec: 0.001,
  /** An outline this wide (and at least this share of the line's height) is what the text is read against. */
  outlineMinPx: 2,
  outlineMinShare: 0.05,
};

export interface DesignGateOptions {
  /** Colours the brief named ("#rrggbb" or "#rgb"): brand colours and the design palette. */
  briefColors: readonly string[];
}

/** Words on the frame: icons, images and the logo are graphics (an icon records its name as `text`, and keeps 3:1 on its disc, WCAG's non-text contrast). */
export const isText = (e: DesignElement): boolean => e.text !== undefined && e.kind !== 'icon' && e.kind !== 'image' && e.kind !== 'logo';

const clip = (text: string): string => (text.length > 40 ? `${text.slice(0, 39)}…` : text);
/** "scene s2 caption "Come early"": enough for a person to find the element. */
export function describeElement(e: DesignElement): string {
  return `scene ${e.sceneId} ${e.kind}${e.text !== undefined ? ` "${clip(e.text.replace(/\s+/g, ' ').trim())}"` : ''}`;
}

const normal = (hex: string): string | undefined => {
  try {
    return toHex(parseHex(hex));
  } catch {
    return undefined;
  }
};

export interface ContrastMeasure {
  element: DesignElement;
  /** The worst ratio the text meets (NaN when the record has no colour for it). */
  ratio: number;
  /** The colour it meets that ratio against, as seen (through the box, or the outline). */
  against?: string;
}

/** The worst contrast of one text element, and the colour behind it that gives it. */
export function measureContrast(e: DesignElement): ContrastMeasure {
  const color = e.color === undefined ? undefined : normal(e.color);
  if (!color) return { element: e, ratio: Number.NaN };
  const behind = e.backdrop && e.backdrop.length > 0 ? e.backdrop : ['#000000', '#ffffff'];
  // The ratio is the number the layout code reads (design/contrast.ts), so the two never disagree;
  // the loop only finds which colour behind the text gives it, for the report.
  let against = '';
  let lowest = Number.POSITIVE_INFINITY;
  for (const c of behind) {
    const seen = e.box ? blend(e.box.color, e.box.opacity, c) : toHex(parseHex(c));
    const ratio = contrastRatio(color, seen);
    if (ratio < lowest) [lowest, against] = [ratio, seen];
  }
  let worst = { ratio: textContrast({ color, backdrop: behind, ...(e.box ? { box: e.box } : {}) }), against };
  const outline = e.outline;
  if (outline && outline.px >= Math.max(DESIGN_LIMITS.outlineMinPx, e.rect.height * DESIGN_LIMITS.outlineMinShare)) {
    const ratio = contrastRatio(color, outline.color);
    if (ratio > worst.ratio) worst = { ratio, against: `${normal(outline.color) ?? outline.color} outline` };
  }
  return { element: e, ratio: worst.ratio, against: worst.against };
}

export interface SafeAreaMiss {
  element: DesignElement;
  /** How far past the margin, per side, in pixels (only the sides it crosses). */
  sides: { side: 'left' | 'right' | 'top' | 'bottom'; px: number }[];
}

/** Where an element crosses the safe margins; empty `sides` when it is inside. */
export function safeAreaMiss(e: DesignElement, record: Pick<DesignRecord, 'width' | 'height' | 'safe'>): SafeAreaMiss {
  const { rect } = e;
  const { width, height, safe } = record;
  const over = {
    left: safe.left - rect.x,
    right: rect.x + rect.width - (width - safe.right),
    top: safe.top - rect.y,
    bottom: rect.y + rect.height - (height - safe.bottom),
  };
  // An image edge at or past the frame's edge bleeds off it on purpose; that side is not judged.
  const bleeds = e.kind === 'image' ? { left: rect.x <= 0, right: rect.x + rect.width >= width, top: rect.y <= 0, bottom: rect.y + rect.height >= height } : undefined;
  const sides = (['left', 'right', 'top', 'bottom'] as const)
    .filter((side) => over[side] > 1e-6 && !bleeds?.[side])
    .map((side) => ({ side, px: over[side] }));
  return { element: e, sides };
}

const ratioText = (r: number): string => (Number.isNaN(r) ? 'no colour recorded' : `${(Math.floor(r * 100) / 100).toFixed(2)}:1`);
const px = (n: number): string => `${Math.ceil(n - 1e-6)} px`;

function contrastCheck(name: string, hard: boolean, measures: ContrastMeasure[], whose: string): QaCheck {
  const failing = measures.filter((m) => Number.isNaN(m.ratio) || m.ratio < DESIGN_LIMITS.contrast).sort((a, b) => (Number.isNaN(a.ratio) ? -1 : Number.isNaN(b.ratio) ? 1 : a.ratio - b.ratio));
  const worst = failing[0] ?? [...measures].sort((a, b) => a.ratio - b.ratio)[0];
  const said = (m: ContrastMeasure): string =>
    `${describeElement(m.element)} ${ratioText(m.ratio)}${m.against ? ` (${normal(m.element.color ?? '') ?? m.element.color} on ${m.against})` : ''}`;
  const measured =
    measures.length === 0
      ? 'no text element'
      : failing.length === 0
        ? `${measures.length} text element(s), worst ${said(worst as ContrastMeasure)}`
        : `${failing.length} of ${measures.length} text element(s) below: ${failing.slice(0, 3).map(said).join('; ')}${failing.length > 3 ? `; and ${failing.length - 3} more` : ''}`;
  return { name, hard, passed: failing.length === 0, expected: `≥ ${DESIGN_LIMITS.contrast}:1 (WCAG AA) for every text element ${whose}`, measured };
}

/** The design gates for one record (see the module comment for what fails and what warns). */
export function evaluateDesign(record: DesignRecord, opts: DesignGateOptions): QaCheck[] {
  const texts = record.elements.filter(isText);
  const brief = new Set(opts.briefColors.map(normal).filter((c): c is string => c !== undefined));
  const measures = texts.map(measureContrast);
  const forced = (m: ContrastMeasure): boolean => m.element.color !== undefined && brief.has(normal(m.element.color) ?? '');
  const checks: QaCheck[] = [
    contrastCheck('text_contrast', true, measures.filter((m) => !forced(m)), 'in colours AIPROD chose'),
    contrastCheck('text_contrast_brief', false, measures.filter(forced), 'in a colour the brief named (a warning: brand colours are kept)'),
  ];

  const placed = record.elements.filter((e) => isText(e) || e.kind === 'icon' || e.kind === 'logo' || e.kind === 'image');
  const misses = placed
    .map((e) => safeAreaMiss(e, record))
    .filter((m) => m.sides.length > 0);
  const missText = (m: SafeAreaMiss): string => `${describeElement(m.element)} ${m.sides.map((s) => `${px(s.px)} past the ${s.side} margin`).join(', ')}`;
  checks.push({
    name: 'safe_area',
    hard: true,
    passed: misses.length === 0,
    expected: `text, icons and logo inside the safe area (margins ${record.safe.left}/${record.safe.right}/${record.safe.top}/${record.safe.bottom} px left/right/top/bottom); images inside or bleeding off the frame`,
    measured:
      misses.length === 0
        ? `${placed.length} element(s) inside`
        : `${misses.length} of ${placed.length} outside: ${misses.slice(0, 3).map(missText).join('; ')}${misses.length > 3 ? `; and ${misses.length - 3} more` : ''}`,
  });

  const captions = texts.filter((e) => e.kind === 'caption');
  const others = texts.filter((e) => e.kind !== 'caption');
  const pairs: { caption: DesignElement; other: DesignElement; sec: number; area: number }[] = [];
  for (const caption of captions) {
    for (const other of others) {
      const sec = Math.min(caption.toSec, other.toSec) - Math.max(caption.fromSec, other.fromSec);
      if (sec <= DESIGN_LIMITS.overlapSec) continue;
      const area = overlapArea(caption.rect, other.rect);
      if (area > 0) pairs.push({ caption, other, sec, area });
    }
  }
  const pairText = (p: (typeof pairs)[number]): string =>
    `${describeElement(p.caption)} over ${describeElement(p.other)} for ${p.sec.toFixed(2)} s from ${Math.max(p.caption.fromSec, p.other.fromSec).toFixed(2)} s (${Math.round(p.area)} px²)`;
  checks.push({
    name: 'caption_overlap',
    hard: true,
    passed: pairs.length === 0,
    expected: 'no caption sharing pixels with another text element while both are on screen',
    measured:
      pairs.length === 0
        ? `${captions.length} caption(s), ${others.length} other text element(s), no overlap`
        : `${pairs.length} overlapping pair(s): ${pairs.slice(0, 3).map(pairText).join('; ')}${pairs.length > 3 ? `; and ${pairs.length - 3} more` : ''}`,
  });
  return checks;
}
