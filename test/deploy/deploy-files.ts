/**
 * What the deploy tests share: paths in the repository, strict YAML parsing, the names of
 * src/config/env.ts's variables, and the real `aiprod` command line (read from its own --help,
 * so a flag a deploy file passes must exist in the CLI as it is).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { envSchema } from '../../src/config/env.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const repoPath = (...parts: string[]): string => join(repoRoot, ...parts);
export const readText = (...parts: string[]): string => readFileSync(repoPath(...parts), 'utf8');

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export function obj(v: unknown, what: string): Obj {
  assert.ok(isObj(v), `${what}: expected a mapping, got ${JSON.stringify(v)}`);
  return v;
}
export function arr(v: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(v), `${what}: expected a list, got ${JSON.stringify(v)}`);
  return v;
}
export function str(v: unknown, what: string): string {
  assert.equal(typeof v, 'string', `${what}: expected a string, got ${JSON.stringify(v)}`);
  return v as string;
}

/** One YAML document; duplicate keys and syntax errors throw (Compose and kubectl refuse them too). `<<` merges as Compose does. */
export function readYaml(...parts: string[]): unknown {
  return parse(readText(...parts), { merge: true, uniqueKeys: true });
}

/** Every document of a multi-document YAML file, each checked for errors. */
export function readYamlDocuments(...parts: string[]): unknown[] {
  const docs = parseAllDocuments(readText(...parts), { merge: true, uniqueKeys: true });
  assert.ok(Array.isArray(docs), `${parts.join('/')}: not a YAML stream`);
  return docs.map((doc, i) => {
    assert.deepEqual(doc.errors.map((e) => e.message), [], `${parts.join('/')} document ${i + 1}`);
    return doc.toJS() as unknown;
  });
}

/** Every variable AIPROD reads, from the zod schema itself. */
export const ENV_NAMES: ReadonlySet<string> = new Set(Object.keys(envSchema.shape));

/** The package's version: the image tag the deploy files run. */
export const packageVersion = (JSON.parse(readText('package.json')) as { version: string }).version;

const run = promisify(execFile);
const helpCache = new Map<string, Promise<string>>();

/** `aiprod [command] --help`, run through the package's own bin. */
function help(command?: string): Promise<string> {
  const key = command ?? '';
  let text = helpCache.get(key);
  if (!text) {
    const args = [repoPath('bin', 'aiprod.js'), ...(command ? [command] : []), '--help'];
    text = run(process.execPath, args, { cwd: repoRoot, timeout: 60_000 }).then((r) => r.stdout);
    helpCache.set(key, text);
  }
  return text;
}

/** Long options a command's help lists (`--no-migrate`, `--role` …). */
function optionsIn(text: string): Set<string> {
  const section = text.split(/^Options:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return new Set([...section.matchAll(/^ {2}(?:-[a-zA-Z], )?(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1] ?? ''));
}

/**
 * Fails unless `argv` (what follows `aiprod`) is a command the CLI has, with only options that
 * command has.
 */
export async function assertRealCommandLine(argv: readonly string[], where: string): Promise<void> {
  const [command, ...rest] = argv;
  assert.ok(command && !command.startsWith('-'), `${where}: no aiprod command in ${JSON.stringify(argv)}`);
  const top = await help();
  const commands = new Set([...(top.split(/^Commands:$/m)[1] ?? '').matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]));
  assert.ok(commands.has(command), `${where}: "aiprod ${command}" is not a command (commands: ${[...commands].join(', ')})`);
  const options = optionsIn(await help(command));
  for (const arg of rest.filter((a) => a.startsWith('--'))) {
    const flag = arg.split('=')[0] ?? arg;
    assert.ok(options.has(flag), `${where}: "aiprod ${command}" has no option ${flag} (it has ${[...options].join(', ')})`);
  }
}

/** Parses KEY=VALUE lines of an env file (comments and blank lines skipped). */
export function parseEnvFile(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) entries.set(match[1] ?? '', match[2] ?? '');
  }
  return entries;
}

/** Kubernetes quantities as numbers: CPU in cores, memory in bytes. */
export function quantity(value: unknown, what: string): number {
  const text = String(value);
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text);
  assert.ok(match, `${what}: ${text} is not a quantity`);
  const units: Record<string, number> = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(match[1]) * (match[2] ? (units[match[2]] ?? 1) : 1);
}

/** deploy/Dockerfile's instructions, continuation lines joined, comments dropped. */
export function dockerfile(): { op: string; args: string }[] {
  const lines = readText('deploy', 'Dockerfile').split('\n').filter((l) => !/^\s*#/.test(l));
  return lines
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => ({ op: (l.split(/\s/)[0] ?? '').toUpperCase(), args: l.slice(l.indexOf(' ') + 1).trim() }));
}

/** The variables the image sets (ENV), e.g. AIPROD_DATA_DIR. */
export function dockerfileEnv(): Map<string, string> {
  const env = new Map<string, string>();
  for (const i of dockerfile().filter((x) => x.op === 'ENV')) {
    for (const pair of i.args.split(/\s+/)) env.set(pair.split('=')[0] ?? '', pair.split('=').slice(1).join('='));
  }
  return env;
}
