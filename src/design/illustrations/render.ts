/**
 * SVG to PNG with resvg (@resvg/resvg-js, a Rust renderer shipped as a prebuilt Node addon): icons,
 * designed backgrounds and image frames are drawn as SVG and rendered once per scene, then moved
 * by FFmpeg. System fonts are not loaded — nothing drawn here has text — which keeps a render
 * at a few milliseconds.
 */
import { Resvg, renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';

export interface RenderedPng {
  png: Buffer;
  width: number;
  height: number;
}

/** Renders `svg` to `widthPx` wide (its height follows the SVG's aspect), with alpha. */
export function renderSvg(svg: string, widthPx: number): RenderedPng {
  const image = new Resvg(svg, options(widthPx)).render();
  return { png: image.asPng(), width: image.width, height: image.height };
}

/**
 * renderSvg off the event loop (resvg draws on libuv's thread pool): for the full-frame
 * backgrounds, a few hundred milliseconds each, drawn for several scenes at once.
 */
export async function renderSvgAsync(svg: string, widthPx: number): Promise<RenderedPng> {
  const image = await renderAsync(svg, options(widthPx));
  return { png: image.asPng(), width: image.width, height: image.height };
}

const options = (widthPx: number): ResvgRenderOptions => ({ fitTo: { mode: 'width', value: Math.max(1, Math.round(widthPx)) }, font: { loadSystemFonts: false }, logLevel: 'off' });

/** Escapes a value for an SVG attribute. */
export function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
