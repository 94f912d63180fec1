/**
 * Designed backgrounds for scenes with no picture, drawn as SVG from the scene's palette and the
 * seed, rendered once (resvg; the clouds apart, at a quarter of the size: withClouds) and moved by
 * the segment's Ken Burns crop. Each style has texture
 * everywhere — soft clouds, shapes, a pattern or particles — so the moving crop changes every
 * frame: a smooth gradient alone slides by too little to count as motion.
 *
 * - gradient: the base gradient with soft clouds of light (turbulence) and a vignette;
 * - shapes: large soft circles and rings in the decor colours;
 * - pattern: a grid of dots or diagonal lines;
 * - particles: many small glowing dots of different sizes (bokeh).
 */
import type { BackgroundStyle } from '../../contract/brief.js';
import { blend } from '../contrast.js';
import { createRandom, type Random } from '../../lib/random.js';
import type { ScenePalette } from './palette.js';

export interface BackgroundSpec {
  width: number;
  height: number;
  style: BackgroundStyle;
  palette: ScenePalette;
  seed: number;
  /** 0..1: darkening towards the corners, which keeps white text readable. */
  vignette?: number;
}

export interface DrawnBackground {
  /** The background, with the clouds as an `<image>` of CLOUDS_HREF until withClouds fills it in. */
  svg: string;
  /** The clouds of light on their own, drawn at CLOUD_SCALE of the background's size. */
  clouds: { svg: string; width: number; height: number };
  /**
   * The colours as drawn where text may sit: the base colours and each decor colour at its
   * strongest opacity over each of them (the vignette only darkens, and is left out).
   */
  colors: string[];
}

/** The most any decoration covers the base: soft enough that text contrast barely moves. */
const MAX_OPACITY: Record<BackgroundStyle, number> = { gradient: 0.14, shapes: 0.2, pattern: 0.16, particles: 0.45 };

const n1 = (v: number): string => String(Math.round(v * 10) / 10);
const n3 = (v: number): string => String(Math.round(v * 1000) / 1000);

export function backgroundSvg(spec: BackgroundSpec): DrawnBackground {
  const { width: w, height: h, style, palette } = spec;
  const random = createRandom(spec.seed);
  const angle = random.int(0, 359);
  const rad = (angle * Math.PI) / 180;
  const [x1, y1, x2, y2] = [0.5 - Math.cos(rad) / 2, 0.5 - Math.sin(rad) / 2, 0.5 + Math.cos(rad) / 2, 0.5 + Math.sin(rad) / 2];
  const stops = palette.base.map((c, i) => `<stop offset="${n3(i / Math.max(1, palette.base.length - 1))}" stop-color="${c}"/>`).join('');
  const vignette = spec.vignette ?? 0.35;
  const defs = [
    `<linearGradient id="base" x1="${n3(x1)}" y1="${n3(y1)}" x2="${n3(x2)}" y2="${n3(y2)}">${stops}</linearGradient>`,
    `<radialGradient id="vignette" cx="0.5" cy="0.5" r="0.75"><stop offset="0.45" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="${n3(vignette)}"/></radialGradient>`,
    `<filter id="soft" x="-50%" y="-50%" width="200%" height="200%"><feGaussianBlur stdDeviation="${n1(Math.min(w, h) * 0.02)}"/></filter>`,
    `<filter id="glow" x="-50%" y="-50%" width="200%" height="200%"><feGaussianBlur stdDeviation="${n1(Math.min(w, h) * 0.004)}"/></filter>`,
  ];
  const body: string[] = [];
  const max = MAX_OPACITY[style];
  let cloudLayer: DrawnBackground['clouds'] | undefined;
  const clouds = (opacity: number): void => {
    // Fractal noise as soft clouds of light: texture everywhere, so no crop of the image is flat.
    // Turbulence is most of a background's drawing time (0.36 of 0.47 s for a gradient), and
    // clouds this soft lose nothing drawn at a quarter of the size and scaled up (withClouds).
    const cw = Math.max(1, Math.round(w * CLOUD_SCALE));
    const ch = Math.max(1, Math.round(h * CLOUD_SCALE));
    cloudLayer = {
      width: cw,
      height: ch,
      svg:
        `<svg xmlns="http://www.w3.org/2000/svg" width="${cw}" height="${ch}" viewBox="0 0 ${cw} ${ch}"><defs>` +
        `<filter id="clouds" x="0" y="0" width="100%" height="100%"><feTurbulence type="fractalNoise" baseFrequency="${n3(3 / Math.max(cw, ch))}" numOctaves="3" seed="${random.int(1, 9999)}"/>` +
        `<feColorMatrix type="matrix" values="0 0 0 0 1  0 0 0 0 1  0 0 0 0 1  ${n3(opacity * 2.5)} 0 0 0 ${n3(-opacity * 0.9)}"/></filter>` +
        `</defs><rect width="${cw}" height="${ch}" filter="url(#clouds)"/></svg>`,
    };
    body.push(`<image href="${CLOUDS_HREF}" width="${w}" height="${h}" preserveAspectRatio="none"/>`);
  };
  switch (style) {
    case 'gradient':
      clouds(max);
      break;
    case 'shapes':
      clouds(max * 0.5);
      body.push(...shapes(random, w, h, palette.decor, max));
      break;
    case 'pattern':
      clouds(max * 0.4);
      body.push(...pattern(random, w, h, palette.decor, max, defs));
      break;
    case 'particles':
      clouds(max * 0.3);
      body.push(...particles(random, w, h, palette.decor, max));
      break;
  }
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">` +
    `<defs>${defs.join('')}</defs><rect width="${w}" height="${h}" fill="url(#base)"/>${body.join('')}` +
    `<rect width="${w}" height="${h}" fill="url(#vignette)"/></svg>`;
  const light = style === 'gradient' ? ['#ffffff'] : palette.decor;
  const colors = [...new Set([...palette.base, ...palette.base.flatMap((b) => light.map((c) => blend(c, max, b)))])];
  if (!cloudLayer) throw new Error(`background style ${style} drew no clouds`);
  return { svg, colors, clouds: cloudLayer };
}

function shapes(random: Random, w: number, h: number, colors: string[], max: number): string[] {
  const out: string[] = [];
  const short = Math.min(w, h);
  const count = random.int(5, 8);
  for (let i = 0; i < count; i++) {
    const color = random.pick(colors);
    const cx = random.next() * w;
    const cy = random.next() * h;
    const r = short * (0.12 + random.next() * 0.3);
    const opacity = max * (0.45 + random.next() * 0.55);
    if (i % 3 === 2) {
      // A ring: a crisp edge that the moving crop shows sliding by.
      out.push(`<circle cx="${n1(cx)}" cy="${n1(cy)}" r="${n1(r)}" fill="none" stroke="${color}" stroke-width="${n1(short * 0.012)}" stroke-opacity="${n3(opacity)}"/>`);
    } else {
      out.push(`<circle cx="${n1(cx)}" cy="${n1(cy)}" r="${n1(r)}" fill="${color}" fill-opacity="${n3(opacity)}"${i % 2 === 0 ? ' filter="url(#soft)"' : ''}/>`);
    }
  }
  // A few small dots scattered between the shapes.
  for (let i = 0; i < 14; i++) {
    out.push(`<circle cx="${n1(random.next() * w)}" cy="${n1(random.next() * h)}" r="${n1(short * (0.004 + random.next() * 0.008))}" fill="${random.pick(colors)}" fill-opacity="${n3(max * 1.2)}"/>`);
  }
  return out;
}

function pattern(random: Random, w: number, h: number, colors: string[], max: number, defs: string[]): string[] {
  const short = Math.min(w, h);
  const step = n1(short * (0.035 + random.next() * 0.02));
  const color = random.pick(colors);
  if (random.next() < 0.5) {
    defs.push(`<pattern id="pat" width="${step}" height="${step}" patternUnits="userSpaceOnUse"><circle cx="${n1(Number(step) / 2)}" cy="${n1(Number(step) / 2)}" r="${n1(short * 0.0045)}" fill="${color}"/></pattern>`);
  } else {
    defs.push(
      `<pattern id="pat" width="${step}" height="${step}" patternUnits="userSpaceOnUse" patternTransform="rotate(${random.pick([30, 45, -45, 60])})">` +
        `<rect width="${n1(short * 0.004)}" height="${step}" fill="${color}"/></pattern>`,
    );
  }
  // The pattern fades out towards a corner: texture without the look of wallpaper.
  defs.push(
    `<linearGradient id="patfade" x1="${random.pick([0, 1])}" y1="0" x2="${random.pick([0, 1]) === 0 ? 1 : 0}" y2="1"><stop offset="0" stop-color="#fff" stop-opacity="1"/><stop offset="1" stop-color="#fff" stop-opacity="0.35"/></linearGradient>` +
      `<mask id="patmask"><rect width="${w}" height="${h}" fill="url(#patfade)"/></mask>`,
  );
  return [
    `<rect width="${w}" height="${h}" fill="url(#pat)" opacity="${n3(max)}" mask="url(#patmask)"/>`,
    ...shapes(random, w, h, colors, max * 0.5).slice(0, 3),
  ];
}

function particles(random: Random, w: number, h: number, colors: string[], max: number): string[] {
  const out: string[] = [];
  const short = Math.min(w, h);
  const count = random.int(70, 110);
  for (let i = 0; i < count; i++) {
    const big = random.next() < 0.15;
    const r = short * (big ? 0.02 + random.next() * 0.03 : 0.002 + random.next() * 0.006);
    const opacity = max * (big ? 0.25 + random.next() * 0.25 : 0.4 + random.next() * 0.6);
    out.push(`<circle cx="${n1(random.next() * w)}" cy="${n1(random.next() * h)}" r="${n1(r)}" fill="${random.pick(colors)}" fill-opacity="${n3(opacity)}"${big ? ' filter="url(#soft)"' : ' filter="url(#glow)"'}/>`);
  }
  return out;
}

/** The clouds are drawn at this share of the background's width and height. */
export const CLOUD_SCALE = 0.25;

/** Where the background's SVG places the clouds, until withClouds puts them in. */
export const CLOUDS_HREF = 'clouds.png';

/** The background's SVG with its clouds drawn (`render`: renderSvgAsync, or renderSvg) and inlined as a PNG. */
export async function withClouds(art: DrawnBackground, render: (svg: string, widthPx: number) => { png: Buffer } | Promise<{ png: Buffer }>): Promise<string> {
  return inlineClouds(art, (await render(art.clouds.svg, art.clouds.width)).png);
}

/** withClouds, synchronously (tests, scripts). */
export function withCloudsSync(art: DrawnBackground, render: (svg: string, widthPx: number) => { png: Buffer }): string {
  return inlineClouds(art, render(art.clouds.svg, art.clouds.width).png);
}

function inlineClouds(art: DrawnBackground, png: Buffer): string {
  return art.svg.replace(`href="${CLOUDS_HREF}"`, `href="data:image/png;base64,${png.toString('base64')}"`);
}
