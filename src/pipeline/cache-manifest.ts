/**
 * A stage cache unit's manifest (`manifest.json`, written last in the unit's temp directory): the
 * unit's value with its paths stored relative to the unit and its named references by name, and the
 * size and SHA-256 of every file. See cache.ts.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync, type Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { hashFile } from '../lib/file-hash.js';

export const MANIFEST = 'manifest.json';
export const FORMAT = 2;

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: typeof FORMAT;
  stage: string;
  key: string;
  createdAt: string;
  value: unknown;
  /** Where in `value` a string is a path relative to the unit directory. */
  paths: (string | number)[][];
  /** Where in `value` a string is a named reference, and its name. */
  refs: { at: (string | number)[]; name: string }[];
  files: ManifestFile[];
}

/** What identifies a unit's files as this process hashed them: the manifest, each file's inode, size and mtime. */
export function signatureOf(dir: string, manifestText: string, files: readonly ManifestFile[]): string | undefined {
  const parts = [manifestText];
  for (const file of files) {
    const stat = statOrUndefined(join(dir, file.path));
    if (!stat) return undefined;
    parts.push(`${file.path}:${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}`);
  }
  // Hashed: the process keeps one per unit it has checked, and a manifest can be large (a storyboard).
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/** The manifest of a produced unit: its value with paths made relative, and every file's digest. */
export async function seal(tmp: string, stage: string, key: string, value: unknown, refs: Record<string, string>): Promise<Manifest> {
  const byString = new Map(Object.entries(refs).map(([name, s]) => [s, name]));
  const paths: Manifest['paths'] = [];
  const refAt: Manifest['refs'] = [];
  const walk = (v: unknown, at: (string | number)[]): unknown => {
    if (typeof v === 'string') {
      if (v === tmp || v.startsWith(tmp + sep)) {
        paths.push(at);
        return relative(tmp, v) || '.';
      }
      const name = byString.get(v);
      if (name !== undefined) {
        refAt.push({ at, name });
        return name;
      }
      return v;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...at, i]));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, walk(x, [...at, k])]));
    return v;
  };
  const stored = walk(value === undefined ? null : JSON.parse(JSON.stringify(value)), []);
  const files: ManifestFile[] = [];
  for (const entry of readdirSync(tmp, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = relative(tmp, join(entry.parentPath, entry.name));
    if (path === MANIFEST) continue;
    files.push({ path, ...(await hashFile(join(tmp, path))) });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { format: FORMAT, stage, key, createdAt: new Date().toISOString(), value: stored, paths, refs: refAt, files };
}

/** The value as this call sees it: relative paths resolved in `dir`, references by this call's strings. */
export function unseal(manifest: Manifest, dir: string, refs: Record<string, string>): unknown {
  const value = structuredClone(manifest.value);
  const put = (at: (string | number)[], f: (s: string) => string): unknown => {
    if (at.length === 0) return f(value as string);
    let parent = value as Record<string | number, unknown>;
    for (const step of at.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
    const last = at[at.length - 1] as string | number;
    parent[last] = f(parent[last] as string);
    return value;
  };
  let result = value;
  for (const at of manifest.paths) result = put(at, (s) => (s === '.' ? dir : join(dir, s)));
  for (const r of manifest.refs) result = put(r.at, () => refs[r.name] as string);
  return result;
}


function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
