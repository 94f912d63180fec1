/**
 * The SVG of a scene's illustration and of its framed images, rendered once per scene with resvg
 * (render.ts). An icon sits on a soft disc of its own colour; an image gets rounded corners, a
 * thin light border and a drop shadow, which is why the rendered picture is larger than its cell
 * by `framePad` on each side.
 */
import { iconSvg } from './icons.js';
import { attr } from './render.js';

const n1 = (v: number): string => String(Math.round(v * 10) / 10);

/**
 * An icon drawn `sizePx` square in `color`: the outline icon in the middle 60 %, over a disc (the
 * palette's plate) that keeps it visible on any part of the background, inside a faint ring. Strokes are thinner the larger the icon (Tabler's 2 units of 24
 * read heavy at 200 px and more).
 */
export function illustrationSvg(name: string, sizePx: number, color: string, plate: { color: string; opacity: number }): string {
  const strokeWidth = sizePx >= 160 ? 1.5 : sizePx >= 80 ? 1.75 : 2;
  const inner = Math.round(sizePx * 0.6);
  const icon = iconSvg(name, { color, strokeWidth, sizePx: inner })
    .replace(/<svg/, `<svg x="${Math.round((sizePx - inner) / 2)}" y="${Math.round((sizePx - inner) / 2)}"`)
    .replace(/class="[^"]*"/, '');
  const r = sizePx / 2;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${sizePx}" height="${sizePx}" viewBox="0 0 ${sizePx} ${sizePx}">` +
    `<circle cx="${n1(r)}" cy="${n1(r)}" r="${n1(r * 0.98)}" fill="${attr(plate.color)}" fill-opacity="${plate.opacity}"/>` +
    `<circle cx="${n1(r)}" cy="${n1(r)}" r="${n1(r * 0.95)}" fill="none" stroke="${attr(color)}" stroke-opacity="0.35" stroke-width="${n1(Math.max(1, sizePx * 0.012))}"/>` +
    `${icon}</svg>`
  );
}

/** How far a framed image's shadow reaches past its cell, in pixels. */
export function framePad(width: number, height: number): number {
  return Math.max(4, Math.round(Math.min(width, height) * 0.06));
}

/** A PNG (base64) in rounded corners with a light border and a soft shadow, `framePad` larger on each side. */
export function framedImageSvg(pngBase64: string, width: number, height: number): string {
  const pad = framePad(width, height);
  const radius = Math.round(Math.min(width, height) * 0.05);
  const border = Math.max(2, Math.round(Math.min(width, height) * 0.012));
  const W = width + 2 * pad;
  const H = height + 2 * pad;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">` +
    `<defs><filter id="shadow" x="-20%" y="-20%" width="140%" height="140%"><feGaussianBlur stdDeviation="${n1(pad / 3)}"/></filter>` +
    `<clipPath id="corners"><rect x="${pad}" y="${pad}" width="${width}" height="${height}" rx="${radius}"/></clipPath></defs>` +
    `<rect x="${pad}" y="${n1(pad * 1.3)}" width="${width}" height="${height}" rx="${radius}" fill="#000" fill-opacity="0.5" filter="url(#shadow)"/>` +
    `<image x="${pad}" y="${pad}" width="${width}" height="${height}" preserveAspectRatio="none" clip-path="url(#corners)" xlink:href="data:image/png;base64,${pngBase64}"/>` +
    `<rect x="${pad}" y="${pad}" width="${width}" height="${height}" rx="${radius}" fill="none" stroke="#ffffff" stroke-opacity="0.85" stroke-width="${border}"/>` +
    `</svg>`
  );
}
