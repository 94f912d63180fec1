/**
 * Finds ffmpeg and ffprobe: FFMPEG_PATH/FFPROBE_PATH, else the system binaries on PATH (Debian's
 * build, with xfade and gradients), else the static npm builds shipped in node_modules.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import type { Env } from '../config/env.js';

export interface MediaBinaries {
  ffmpeg: string;
  ffprobe: string;
  /** Where each came from, for `aiprod doctor`. */
  source: { ffmpeg: BinarySource; ffprobe: BinarySource };
}

export type BinarySource = 'env' | 'path' | 'npm' | 'missing';

function onPath(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function fromNpm(pkg: '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe'): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const found = (require(pkg) as { path?: string }).path;
    return found && existsSync(found) ? found : undefined;
  } catch {
    return undefined;
  }
}

function resolveOne(
  explicit: string | undefined,
  name: 'ffmpeg' | 'ffprobe',
  pathVar: string | undefined,
): { path: string; source: BinarySource } {
  if (explicit) return { path: explicit, source: 'env' };
  const system = onPath(name, pathVar);
  if (system) return { path: system, source: 'path' };
  const npm = fromNpm(name === 'ffmpeg' ? '@ffmpeg-installer/ffmpeg' : '@ffprobe-installer/ffprobe');
  if (npm) return { path: npm, source: 'npm' };
  return { path: name, source: 'missing' };
}

/** Resolves both binaries; `pathVar` is the PATH to search (passed in so env.ts stays the only reader). */
export function resolveBinaries(env: Pick<Env, 'FFMPEG_PATH' | 'FFPROBE_PATH'>, pathVar: string | undefined): MediaBinaries {
  const ffmpeg = resolveOne(env.FFMPEG_PATH, 'ffmpeg', pathVar);
  const ffprobe = resolveOne(env.FFPROBE_PATH, 'ffprobe', pathVar);
  return { ffmpeg: ffmpeg.path, ffprobe: ffprobe.path, source: { ffmpeg: ffmpeg.source, ffprobe: ffprobe.source } };
}
