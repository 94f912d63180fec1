/**
 * Shell lines of the docs' ```sh blocks, read the way the doc tests need them: split into command
 * segments at unquoted | ; & ( ) (a # comment dropped), and a command into its words (quotes removed,
 * nothing expanded). Shared by test/docs/troubleshooting.test.ts and test/service/api-guide.pglite.test.ts.
 */

/** Splits a shell line at unquoted | ; & ( ) (so && and $( too) and drops a trailing # comment. */
export function segments(line: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = undefined;
      current += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      current += c;
    } else if (c === '#' && (current === '' || /\s$/.test(current))) {
      break;
    } else if ('|;()&'.includes(c)) {
      out.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  out.push(current);
  return out.map((s) => s.replace(/\$$/, '').trim()).filter(Boolean);
}

/** A command's words, quotes removed (no expansion). */
export function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}
