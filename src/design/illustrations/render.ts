/**
 * SVG to PNG with resvg (@resvg/resvg-js, a Rust renderer shipped as a prebuilt Node addon): icons,
 * designed backgrounds and image frames are drawn as SVG and rendered once per scene, then moved
 * by FFmpeg. System fonts are not loaded — nothing drawn here has text — which keeps a render
 * at a few milliseconds.
 */
import { Resvg } from '@resvg/resvg-js';

export interface RenderedPng {
  png: Buffer;
  width: number;
  height: number;
}

/** Renders `svg` to `widthPx` wide (its height follows the SVG's aspect), with alpha. */
export function renderSvg(svg: string, widthPx: number): RenderedPng {
  const resvg = new Resvg(svg, { fitTo: { mode: 'width', value: Math.max(1, Math.round(widthPx)) }, font: { loadSystemFonts: false }, logLevel: 'off' });
  const image = resvg.render();
  return { png: image.asPng(), width: image.width, height: image.height };
}

/** Escapes a value for an SVG attribute. */
export function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
