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

const CHAR = String.raw`[\w.@+%=~-]`;
/**
 * A directory in a path: a name, or words separated by single spaces (`my data/`) where only the
 * last word may hold a dot, so prose after a file name (`x.wav and 1/2`) is not taken for one.
 */
const DIR = String.raw`(?:[\w@+%=~-]+ )*${CHAR}+\/`;

/**
 * An absolute POSIX path of at least two segments, not part of a URL or a word (`https://h/a`,
 * `a/b`, `1/2` are left alone) unless it follows `file://`. API paths (/v1/…, /pipeline/…) are not
 * file paths.
 */
const ABSOLUTE_PATH = new RegExp(String.raw`(?:file:\/\/(?=\/)|(?<![\w.:/~-]))\/(?!v1\/|pipeline\/)(?:${DIR})+${CHAR}*`, 'g');

/** A quoted absolute path (or file:// URL): everything up to the closing quote is the path, spaces and all. */
const QUOTED_PATH = /(["'])(?:file:\/\/)?(\/(?!v1\/|pipeline\/)[^"'\n]*\/[^"'\n]*)\1/g;

export function publicMessage(text: string, roots: readonly string[] = []): string {
  const shorten = (path: string): string => {
    for (const root of roots) {
      const trimmed = root.endsWith(sep) ? root.slice(0, -1) : root;
      if (path === trimmed || path === `${trimmed}/`) return '.';
      if (path.startsWith(`${trimmed}/`)) return relative(trimmed, path) || '.';
    }
    return basename(path) || '.';
  };
  return text
    .replace(QUOTED_PATH, (_whole, quote: string, path: string) => `${quote}${shorten(path)}${quote}`)
    .replace(ABSOLUTE_PATH, (match) => shorten(match.startsWith('file://') ? match.slice('file://'.length) : match));
}
