/**
 * docs/troubleshooting.md covers every error code the service can send or record, read from the
 * source: the ErrorCode union of src/contract/errors.ts (a type, so its text is parsed), the provider
 * codes of src/providers/provider-error.ts, and any other code a file of src/ raises or writes (the
 * failure codes workers record, such as worker_lost). Each needs a row in the table whose status and
 * retry agree with AppError, and a section; the page may name no code that does not exist.
 *
 * The operations pages beside it (troubleshooting, sla, incident-response) are held to the code too:
 * their curl calls name routes of openapi.json, their `aiprod` commands exist, the variables they
 * name are in src/config/env.ts, their PromQL uses only metrics and labels that docs/metrics.md lists,
 * and the turnaround SQL of sla.md runs on the real schema.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { envSchema } from '../../src/config/env.js';
import { AppError, type ErrorCode } from '../../src/contract/errors.js';
import { openDatabase } from '../../src/db/database.js';
import { productions } from '../../src/db/schema.js';
import { ensureDefaultTenant } from '../../src/services/tenants.service.js';
import { segments, words } from '../support/shell-lines.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const OPS_DOCS = ['docs/troubleshooting.md', 'docs/sla.md', 'docs/incident-response.md'];

/** Every .ts file under `dir`, tests excluded. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

const quoted = (text: string): string[] => [...text.matchAll(/'([a-z_]+)'/g)].map((m) => m[1] as string);

/** The codes of the ErrorCode union, parsed from its declaration. */
function errorCodeUnion(): string[] {
  const text = read('src/contract/errors.ts');
  const union = /export type ErrorCode =([^;]+);/.exec(text)?.[1];
  assert.ok(union, 'src/contract/errors.ts declares `export type ErrorCode = … ;`');
  const codes = quoted(union);
  // The same list keys the default statuses: a check that the union was read whole.
  const statuses = /const DEFAULT_STATUS: Record<ErrorCode, number> = \{([^}]+)\}/.exec(text)?.[1] ?? '';
  assert.deepEqual(new Set([...statuses.matchAll(/^\s*([a-z_]+):/gm)].map((m) => m[1])), new Set(codes), 'DEFAULT_STATUS and ErrorCode list the same codes');
  return codes;
}

/** zod's issue codes (`ctx.addIssue({ code: 'custom', … })`): validation internals, never sent as an error code. */
const ZOD_ISSUE_CODES = new Set(['custom', 'invalid_type', 'too_small', 'too_big', 'invalid_format', 'not_multiple_of', 'unrecognized_keys', 'invalid_union', 'invalid_key', 'invalid_element', 'invalid_value']);

/** Codes the source raises or writes anywhere: AppError/ProviderError/MediaFetchError('…') and `code: '…'`. */
function codesInSource(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sources('src')) {
    for (const m of read(file).matchAll(/\b(?:AppError|ProviderError|MediaFetchError)\(\s*'([a-z_]+)'|\bcode: '([a-z_]+)'/g)) {
      const code = (m[1] ?? m[2]) as string;
      if (!ZOD_ISSUE_CODES.has(code) && !found.has(code)) found.set(code, file);
    }
  }
  return found;
}

function allCodes(): Set<string> {
  const union = errorCodeUnion();
  const provider = /export type ProviderErrorCode = Extract<\s*ErrorCode,([^>]+)>/.exec(read('src/providers/provider-error.ts'))?.[1];
  assert.ok(provider, 'src/providers/provider-error.ts declares ProviderErrorCode');
  const providerCodes = quoted(provider);
  assert.ok(providerCodes.length >= 7, `provider codes: ${providerCodes.join(', ')}`);
  for (const code of providerCodes) assert.ok(union.includes(code), `${code} is an ErrorCode`);
  const raised = codesInSource();
  // Sanity: the scan sees what the sweeper writes into a production's error.
  assert.equal(raised.has('worker_lost') && raised.has('requeue_limit'), true, 'the scan finds the sweeper\'s failure codes');
  return new Set([...union, ...providerCodes, ...raised.keys()]);
}

const page = read('docs/troubleshooting.md');

test('every error code has a row in the table, with the status and retry AppError gives it', () => {
  const rows = new Map([...page.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| (yes|no) \|/gm)].map((m) => [m[1] as string, { status: Number(m[2]), retried: m[3] === 'yes' }]));
  const union = new Set(errorCodeUnion());
  const problems: string[] = [];
  for (const code of allCodes()) {
    const row = rows.get(code);
    if (!row) {
      problems.push(`${code}: no row in the table`);
      continue;
    }
    if (!union.has(code)) continue; // a code outside the union has no AppError defaults to compare with
    const error = new AppError(code as ErrorCode, '');
    if (row.status !== error.status) problems.push(`${code}: the table says ${row.status}, AppError sends ${error.status}`);
    if (row.retried !== error.retryable) problems.push(`${code}: the table says retried ${row.retried ? 'yes' : 'no'}, AppError says ${error.retryable}`);
  }
  assert.deepEqual(problems, []);
});

test('every error code has a section, and every section and row names a real code', () => {
  const codes = allCodes();
  const sections = [...page.matchAll(/^### `([a-z_]+)`\s*$/gm)].map((m) => m[1] as string);
  const rows = [...page.matchAll(/^\| `([a-z_]+)` \| \d{3} \|/gm)].map((m) => m[1] as string);
  assert.deepEqual([...codes].filter((c) => !sections.includes(c)), [], 'codes without a "### `code`" section in docs/troubleshooting.md');
  assert.deepEqual(sections.filter((s) => !codes.has(s)), [], 'sections for codes the source does not have');
  assert.deepEqual(rows.filter((r) => !codes.has(r)), [], 'table rows for codes the source does not have');
  assert.equal(new Set(sections).size, sections.length, 'one section per code');
});

test('the operator symptoms are covered, each with commands to run', () => {
  for (const heading of ['The service does not start', 'The database is unavailable', 'FFmpeg is missing or lacks filters', 'Disk space is low', 'Webhooks are disabled or not arriving']) {
    const at = page.indexOf(`### ${heading}`);
    assert.ok(at >= 0, `a "### ${heading}" section`);
    const section = page.slice(at, page.indexOf('\n### ', at + 4) === -1 ? undefined : page.indexOf('\n### ', at + 4));
    assert.match(section, /```(sh|\n)/, `${heading}: shows what to run or what is printed`);
  }
  for (const must of ['aiprod doctor', '/ready', '/v1/system/ready', 'logs']) assert.ok(page.includes(must), `mentions ${must}`);
});

// ---- the operations pages against the code -------------------------------------------------

function fencedBlocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp('^[ \\t]*```' + language + '\\n([\\s\\S]*?)^[ \\t]*```', 'gm'))].map((m) => m[1] as string);
}


/** Each shell command of the ```sh blocks, as words (continuation lines joined). */
function shellCommands(markdown: string): string[][] {
  return fencedBlocks(markdown, 'sh').flatMap((block) => block.replace(/\\\n/g, ' ').split('\n').flatMap((line) => segments(line).map(words)));
}

test('every curl in the operations pages calls a route of openapi.json with its method', () => {
  const openapi = JSON.parse(read('openapi.json')) as { paths: Record<string, Record<string, unknown>> };
  const fits = (path: string, template: string): boolean => {
    const a = path.split('/');
    const b = template.split('/');
    return a.length === b.length && a.every((seg, i) => seg === b[i] || /^\{.+\}$/.test(b[i] as string));
  };
  const problems: string[] = [];
  let checked = 0;
  for (const doc of OPS_DOCS) {
    for (const argv of shellCommands(read(doc))) {
      if (argv[0] !== 'curl') continue;
      const url = argv.find((w) => w.startsWith('$AIPROD_URL'));
      if (!url) {
        problems.push(`${doc}: curl without "$AIPROD_URL…": ${argv.join(' ')}`);
        continue;
      }
      const path = url.slice('$AIPROD_URL'.length).split('?')[0] as string;
      const x = argv.findIndex((w) => w === '-X' || w === '--request');
      const sendsData = argv.some((w) => ['-d', '--data', '--data-binary', '--data-urlencode'].includes(w));
      const method = (x >= 0 ? (argv[x + 1] as string) : sendsData && !argv.includes('-G') ? 'POST' : 'GET').toLowerCase();
      checked++;
      if (!Object.entries(openapi.paths).some(([template, ops]) => fits(path, template) && Object.hasOwn(ops, method))) problems.push(`${doc}: ${method.toUpperCase()} ${path}`);
    }
  }
  assert.ok(checked >= 15, `${checked} curl calls checked`);
  assert.deepEqual(problems, []);
});

test('every `aiprod` command the operations pages run exists', () => {
  const cli = read('src/main/cli.ts') + read('src/main/admin-cli.ts');
  const commands = new Set([...cli.matchAll(/\.command\('([a-z-]+)/g)].map((m) => m[1]));
  const used = OPS_DOCS.flatMap((doc) => shellCommands(read(doc)).flatMap((argv) => {
    const at = argv.indexOf('aiprod');
    return at >= 0 && (at === 0 || argv[at - 1] === 'npx') ? [`${doc}: aiprod ${argv[at + 1] ?? ''}`] : [];
  }));
  // Prose too: `aiprod <command>` in backticks.
  for (const doc of OPS_DOCS) for (const m of read(doc).matchAll(/`(?:npx )?aiprod ([a-z-]+)/g)) used.push(`${doc}: aiprod ${m[1]}`);
  assert.ok(used.length >= 5);
  assert.deepEqual(used.filter((u) => !commands.has(u.split('aiprod ')[1] as string)), []);
});

test('every configuration variable the pages name exists in src/config/env.ts', () => {
  const known = new Set(Object.keys(envSchema.shape));
  const problems: string[] = [];
  for (const doc of [...OPS_DOCS, 'docs/api-guide.md']) {
    // The reader's own variables in the guide's examples; everything else is the service's.
    const readers = new Set(['AIPROD_URL', 'AIPROD_API_KEY', 'AIPROD_WEBHOOK_SECRET']);
    for (const m of read(doc).matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`/g)) {
      const name = m[1] as string;
      if (!known.has(name) && !readers.has(name)) problems.push(`${doc}: ${name}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the PromQL of the pages uses only metrics and labels docs/metrics.md lists', () => {
  const catalogue = read('docs/metrics.md');
  const metrics = new Map<string, { type: string; labels: Set<string> }>();
  for (const m of catalogue.matchAll(/^\| `(aiprod_[a-z0-9_]+)` \| (\w+) \| ([^|]*) \|/gm)) {
    metrics.set(m[1] as string, { type: m[2] as string, labels: new Set([...(m[3] as string).matchAll(/`([a-z_]+)`/g)].map((l) => l[1] as string)) });
  }
  assert.ok(metrics.size >= 20, `${metrics.size} metrics read from docs/metrics.md`);
  const problems: string[] = [];
  let seen = 0;
  for (const doc of OPS_DOCS) {
    for (const block of fencedBlocks(read(doc), 'promql')) {
      const expr = block.replace(/#.*$/gm, '');
      for (const m of expr.matchAll(/\b(aiprod_[a-z0-9_]+)(\{[^}]*\})?/g)) {
        seen++;
        const name = m[1] as string;
        const base = name.replace(/_(bucket|count|sum)$/, '');
        const metric = metrics.get(name) ?? (metrics.get(base)?.type === 'histogram' ? metrics.get(base) : undefined);
        if (!metric) {
          problems.push(`${doc}: ${name} is not in docs/metrics.md`);
          continue;
        }
        for (const label of [...(m[2] ?? '').matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1] as string)) {
          if (!metric.labels.has(label) && !(label === 'le' && name.endsWith('_bucket'))) problems.push(`${doc}: ${name} has no label ${label}`);
        }
      }
    }
  }
  assert.ok(seen >= 15, `${seen} metric references checked`);
  assert.deepEqual(problems, []);
});

test('the turnaround SQL of docs/sla.md runs on the schema and counts what it says', async () => {
  const [query] = fencedBlocks(read('docs/sla.md'), 'sql');
  assert.ok(query, 'docs/sla.md has a ```sql block');
  const dir = mkdtempSync(join(tmpdir(), 'aiprod-sla-'));
  const database = await openDatabase({ dataDir: join(dir, 'pglite') });
  try {
    await database.migrate();
    await ensureDefaultTenant(database.db);
    // Finished now, so always inside the current month; only the time from creation varies.
    const finishedAt = new Date();
    const took = (sec: number): Date => new Date(finishedAt.getTime() - sec * 1000);
    const row = (id: string, fields: Partial<typeof productions.$inferInsert>): typeof productions.$inferInsert => ({ id, tenantId: 'default', status: 'succeeded', brief: { prompt: 'a teaser' }, durationSec: 30, finishedAt, ...fields });
    await database.db.insert(productions).values([
      row('fast', { createdAt: took(60) }), // within 5 minutes
      row('slow', { createdAt: took(600) }), // not
      row('review', { review: true, createdAt: took(900) }), // a person's time: left out
      row('long', { durationSec: 120, createdAt: took(900) }), // not a standard brief
      row('premium', { brief: { prompt: 'a teaser', quality: 'premium' }, createdAt: took(900) }),
      row('failed', { status: 'failed', createdAt: took(900) }),
    ]);
    const { rows } = await database.executeSql(query);
    assert.equal(rows.length, 1, JSON.stringify(rows));
    const result = rows[0] as { tier: string; productions: unknown; within_5_min: unknown; p95_sec: unknown };
    assert.equal(result.tier, 'enterprise');
    assert.equal(Number(result.productions), 2);
    assert.equal(Number(result.within_5_min), 0.5);
    assert.ok(Number(result.p95_sec) > 500, `p95 ${String(result.p95_sec)}`);
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
