/**
 * Gradient backgrounds drawn as PNG in-process. Drawing once and panning the image costs far less
 * per frame than FFmpeg's animated `gradients` source (measured 3× slower at 1080p), and works on
 * builds that lack that filter.
 */
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encodes 8-bit RGB rows as a PNG. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0; // filter: none
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 6 })), chunk('IEND', Buffer.alloc(0))]);
}

function parseHex(hex: string): [number, number, number] {
  const h = hex.replace('#', '');
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as [number, number, number];
}

export interface GradientSpec {
  width: number;
  height: number;
  colors: string[];
  /** Direction of the colour axis in degrees (0 = left to right). */
  angleDeg: number;
  /** 0..1: darkening towards the corners, which keeps white text readable. */
  vignette: number;
}

/** A linear multi-stop gradient with a soft vignette, as PNG bytes. */
export function gradientPng(spec: GradientSpec): Buffer {
  const { width, height, colors, angleDeg, vignette } = spec;
  const stops = colors.map(parseHex);
  const dx = Math.cos((angleDeg * Math.PI) / 180);
  const dy = Math.sin((angleDeg * Math.PI) / 180);
  const span = Math.abs(dx) * width + Math.abs(dy) * height;
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const along = ((x - width / 2) * dx + (y - height / 2) * dy) / span + 0.5;
      const pos = Math.min(0.9999, Math.max(0, along)) * (stops.length - 1);
      const i = Math.floor(pos);
      const f = pos - i;
      const a = stops[i] as [number, number, number];
      const b = stops[i + 1] ?? a;
      const nx = (x / width - 0.5) * 2;
      const ny = (y / height - 0.5) * 2;
      const shade = 1 - vignette * Math.min(1, (nx * nx + ny * ny) / 2);
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) rgb[o + c] = Math.round(((a[c] as number) * (1 - f) + (b[c] as number) * f) * shade);
    }
  }
  return encodePng(width, height, rgb);
}

export function writeGradientPng(path: string, spec: GradientSpec): void {
  writeFileSync(path, gradientPng(spec));
}
