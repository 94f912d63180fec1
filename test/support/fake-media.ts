/**
 * Real media for the picture vendors' fakes, made with FFmpeg once per process and shape: a still
 * (PNG or JPEG, 1024×576 for 16:9, turned or squared for other shapes) and a 3 s H.264 clip made
 * with `testsrc2` (1280×720 for 16:9). Small and fast: a few hundred kilobytes in all.
 *
 * @example
 *   const png = await fakeImage('png', 1024, 576); // → Buffer of a real PNG
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from '../../src/config/env.js';
import { createMediaTools } from '../../src/main/container.js';

let tools: Awaited<ReturnType<typeof createMediaTools>> | undefined;
let dir: string | undefined;
const made = new Map<string, Promise<Buffer>>();

async function make(name: string, args: (path: string) => string[]): Promise<Buffer> {
  let pending = made.get(name);
  if (!pending) {
    pending = (async () => {
      tools ??= await createMediaTools(loadEnv({}));
      dir ??= await mkdtemp(join(tmpdir(), 'aiprod-fake-media-'));
      const path = join(dir, name);
      await tools.ffmpeg(['-y', '-v', 'error', ...args(path)]);
      return readFile(path);
    })();
    made.set(name, pending);
  }
  return pending;
}

/** A still of the given size. */
export function fakeImage(format: 'png' | 'jpg', width: number, height: number): Promise<Buffer> {
  return make(`still-${width}x${height}.${format}`, (path) => ['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=1`, '-frames:v', '1', path]);
}

/** A 3 s silent H.264 clip of the given (even) size. */
export function fakeClip(width: number, height: number): Promise<Buffer> {
  return make(`clip-${width}x${height}.mp4`, (path) => [
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=24:duration=3`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', path,
  ]);
}

/** Sizes the fakes serve per shape: a still based on 1024×576, a clip on 1280×720. */
export function stillSize(widthOverHeight: number): { width: number; height: number } {
  if (widthOverHeight > 1.05) return { width: 1024, height: 576 };
  if (widthOverHeight < 0.95) return { width: 576, height: 1024 };
  return { width: 768, height: 768 };
}

export function clipSize(widthOverHeight: number): { width: number; height: number } {
  if (widthOverHeight > 1.05) return { width: 1280, height: 720 };
  if (widthOverHeight < 0.95) return { width: 720, height: 1280 };
  return { width: 720, height: 720 };
}
