/**
 * Error text as a tenant may see it: without the server's file-system layout. A render's errors
 * name files by their absolute paths (useful in the logs and to the CLI, where the user owns the
 * machine); what the service records for a tenant names a file under one of `roots` (the assets
 * directory) by its path relative to that root, and any other absolute path (work and cache
 * directories, FFmpeg's own messages) by its file name alone.
 *
 * @example
 *   publicMessage('cannot read /srv/aiprod/data/assets/img/cat.png: bad', ['/srv/aiprod/data/assets'])
 *   // → 'cannot read img/cat.png: bad'
 */
import { basename, relative, sep } from 'node:path';

/**
 * An absolute POSIX path of at least two segments, not part of a URL or a word (`https://h/a`,
 * `a/b`, `1/2` are left alone). API paths (/v1/…, /pipeline/…) are not file paths.
 */
const ABSOLUTE_PATH = /(?<![\w.:/~-])\/(?!v1\/|pipeline\/)(?:[\w.@+%=~-]+\/)+[\w.@+%=~-]*/g;

export function publicMessage(text: string, roots: readonly string[] = []): string {
  return text.replace(ABSOLUTE_PATH, (path) => {
    for (const root of roots) {
      const trimmed = root.endsWith(sep) ? root.slice(0, -1) : root;
      if (path === trimmed || path === `${trimmed}/`) return '.';
      if (path.startsWith(`${trimmed}/`)) return relative(trimmed, path) || '.';
    }
    return basename(path) || '.';
  });
}
