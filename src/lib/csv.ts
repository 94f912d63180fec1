/**
 * CSV as spreadsheets read it (RFC 4180, CRLF line ends), with formula injection defused. Shared
 * by the original API's exports (compat/export.ts) and the /v1 exports (services/exports.service.ts).
 */

/** Nested objects become columns named by their path joined with `_`; arrays stay one cell, as JSON. */
export function flatten(record: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    const name = prefix ? `${prefix}_${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) Object.assign(flat, flatten(value as Record<string, unknown>, name));
    else flat[name] = Array.isArray(value) ? JSON.stringify(value) : value;
  }
  return flat;
}

/**
 * Spreadsheets (Excel, LibreOffice, Sheets) run a cell that starts with = + - @ (and, in some, a
 * tab or carriage return) as a formula, which can exfiltrate data or start programs when the file
 * is opened. Content and metadata here come from API clients, so such a text cell is prefixed with
 * an apostrophe (OWASP's advice), which spreadsheets show as text. Numbers are never text, so a
 * negative cost stays a number.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One field: empty for null, JSON for an object, quoted when it holds a quote, comma or line break. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  // RFC 4180: a field holding a quote, a comma or a line break is quoted, its quotes doubled.
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record, CRLF-terminated. */
export const csvLine = (values: readonly unknown[]): string => `${values.map(csvCell).join(',')}\r\n`;

/** A header of every column any row has (in the order first seen), then one line per row; '' for no rows. */
export function toCsv(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '';
  const flat = rows.map((row) => flatten(row));
  const columns = [...new Set(flat.flatMap((row) => Object.keys(row)))];
  return [csvLine(columns), ...flat.map((row) => csvLine(columns.map((c) => row[c])))].join('');
}
