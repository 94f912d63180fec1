/**
 * A brief's media files (scene images and videos, the brand's logo) enter cache keys by their
 * content, never by their path: media linked by URL is downloaded to a new random path on every
 * attempt, and a local file may be replaced under the same name. The digest is the file's SHA-256,
 * computed once per process for a given file (same device, inode, size and mtime).
 *
 * @example
 *   const { keyed, refs } = await mediaIdentity(brief, baseDir);
 *   await cache.memo('plan', { writer, brief: keyed }, produce, { refs });
 */
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { hashFile } from '../lib/file-hash.js';
import { resolveAsset } from './preflight.js';

const known = new Map<string, { stamp: string; name: string }>();

/** `media:<sha256>` of the file at `path`: a name for its content, the same wherever it lies. */
export async function mediaName(path: string): Promise<string> {
  const s = statSync(path);
  const stamp = `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
  const seen = known.get(path);
  if (seen?.stamp === stamp) return seen.name;
  const name = `media:${(await hashFile(path)).sha256}`;
  known.delete(path);
  known.set(path, { stamp, name });
  if (known.size > 1_000) known.delete(known.keys().next().value as string);
  return name;
}

type Scenes = readonly { visual?: { type: string; src?: string } }[];

/** The parts of a brief (as given or resolved) or a storyboard that name media files. */
interface WithMedia {
  scenes?: Scenes;
  source?: { kind: string; scenes?: Scenes };
  brand?: { logo?: string };
}

/**
 * `keyed`: a copy of `doc` with every media path replaced by its content name (a relative path
 * keeps its name beside it), for cache keys.
 * `refs`: content name → the absolute path as `doc` wrote it, for `StageCache.memo`, so a cached
 * value that repeats such a path gives back this attempt's path.
 */
export async function mediaIdentity<T extends WithMedia>(doc: T, baseDir: string): Promise<{ keyed: T; refs: Record<string, string> }> {
  const refs: Record<string, string> = {};
  const names = new Map<string, string>();
  const named = async (src: string): Promise<string> => {
    const content = await mediaName(resolveAsset(baseDir, src));
    if (!isAbsolute(src)) return `${content} ${src}`; // a relative path is stable and stays in the value as written
    let name = names.get(src);
    if (name) return name;
    // Two links to identical bytes stay apart (numbered in order), so each gets its own path back.
    name = content;
    for (let n = 2; refs[name] !== undefined; n++) name = `${content}#${n}`;
    names.set(src, name);
    refs[name] = src;
    return name;
  };
  const keyed = structuredClone(doc) as T;
  for (const scene of [...(keyed.scenes ?? []), ...(keyed.source?.scenes ?? [])]) {
    const visual = scene.visual;
    if ((visual?.type === 'image' || visual?.type === 'video') && visual.src) visual.src = await named(visual.src);
  }
  if (keyed.brand?.logo) keyed.brand.logo = await named(keyed.brand.logo);
  return { keyed, refs };
}
