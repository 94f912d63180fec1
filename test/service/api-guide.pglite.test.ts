/**
 * docs/api-guide.md is run, not only read. Its quick start (the ```js block that begins
 * `// quickstart.mjs`) runs as `node quickstart.mjs`, with AIPROD_URL and AIPROD_API_KEY set as the
 * guide tells readers to, against a service listening on a real port, and must end with a finished MP4
 * on disk. Its webhook receiver (`// receiver.mjs`) must accept the real delivery of that production and
 * refuse forged and stale ones. Every ```js block must parse, and every curl must name a route (and
 * method) of openapi.json.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { signWebhook } from '../../src/webhooks/verify.js';
import { startTestService, type TestService } from './harness.js';
import { pollUntil, probeMedia, ROOT, tempDir } from './processes.js';
import { segments, words } from '../support/shell-lines.js';

const guide = readFileSync(join(ROOT, 'docs/api-guide.md'), 'utf8');

/** The fenced blocks of `markdown` in `language`, in order. */
function fencedBlocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp('^```' + language + '\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1] as string);
}

/** The one ```js block whose first line starts with `// <name>`. */
function script(name: string): string {
  const found = fencedBlocks(guide, 'js').filter((b) => b.startsWith(`// ${name}`));
  assert.equal(found.length, 1, `docs/api-guide.md has one \`\`\`js block starting "// ${name}"`);
  return found[0] as string;
}

interface Run {
  child: ChildProcess;
  stdout(): string;
  output(): string;
  exited: Promise<number | null>;
}

/** `node <file>` in `cwd` with `env` (over a minimal environment: what a reader's shell would have). */
function runNode(file: string, cwd: string, env: Record<string, string>): Run {
  const child = spawn(process.execPath, [file], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, output: () => `--- stdout\n${out}\n--- stderr\n${err.slice(-4000)}`, exited };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let svc: TestService;
let base: string;
let receiver: Run | undefined;
const made: string[] = [];
const scratch = (prefix: string): string => {
  const dir = tempDir(prefix);
  made.push(dir);
  return dir;
};
before(async () => {
  // The receiver listens on loopback, which webhooks may reach only when the operator allows it.
  svc = await startTestService({ env: { WEBHOOK_ALLOW_CIDRS: '127.0.0.1/32' } });
  base = await svc.app!.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  receiver?.child.kill('SIGTERM');
  await svc?.stop();
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

test('the quick start renders a production and downloads its MP4; the receiver verifies its webhook', { timeout: 600_000 }, async () => {
  const dir = scratch('api-guide');
  const headers = { authorization: `Bearer ${svc.key}`, 'content-type': 'application/json' };

  // The guide's receiver, registered as a webhook the way the guide shows.
  const port = await freePort();
  const created = await fetch(`${base}/v1/webhooks`, {
    method: 'POST', headers, body: JSON.stringify({ url: `http://127.0.0.1:${port}/hooks/aiprod`, events: ['production.succeeded', 'production.failed'] }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const { secret } = (await created.json()) as { secret: string };
  writeFileSync(join(dir, 'receiver.mjs'), script('receiver.mjs'));
  receiver = runNode('receiver.mjs', dir, { AIPROD_WEBHOOK_SECRET: secret, PORT: String(port) });
  const hook = receiver;
  await pollUntil('the receiver to listen', () => hook.stdout().includes(`listening on ${port}`), 30_000);

  // Forged, stale and well-signed deliveries, signed as AIPROD signs them (src/webhooks/verify.ts).
  const post = (body: string, signature: string) => fetch(`http://127.0.0.1:${port}/hooks/aiprod`, { method: 'POST', headers: { 'content-type': 'application/json', 'aiprod-signature': signature }, body });
  const body = JSON.stringify({ id: 'evt_test', type: 'production.canceled', time: new Date().toISOString(), data: { production: { id: 'p-test', status: 'canceled', error: null } } });
  assert.equal((await post(body, `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`)).status, 400, 'a forged signature is refused');
  assert.equal((await post(body, signWebhook(body, 'whsec_not-the-secret'))).status, 400, 'another secret is refused');
  assert.equal((await post(body, signWebhook(body, secret, Math.floor(Date.now() / 1000) - 600))).status, 400, 'a stale signature is refused');
  assert.equal((await post(`${body} `, signWebhook(body, secret))).status, 400, 'an altered body is refused');
  assert.equal((await post(body, signWebhook(body, secret))).status, 204, 'a good signature is accepted');
  assert.equal((await post(body, `${signWebhook(body, 'whsec_old')},v1=${signWebhook(body, secret).split('v1=')[1]}`)).status, 204, 'one matching v1 of several is enough');

  // The quick start, as a reader runs it.
  writeFileSync(join(dir, 'quickstart.mjs'), script('quickstart.mjs'));
  const run = runNode('quickstart.mjs', dir, { AIPROD_URL: base, AIPROD_API_KEY: svc.key });
  const code = await run.exited;
  assert.equal(code, 0, run.output());
  const id = /^created (\S+) \(queued\)$/m.exec(run.stdout())?.[1];
  assert.ok(id, run.output());
  assert.match(run.stdout(), /^succeeded\s+100 %/m, 'it followed the events to the end');

  const production = await svc.productions.get('default', id);
  assert.equal(production.status, 'succeeded');
  assert.deepEqual(production.metadata, { source: 'quickstart' });
  const mp4 = production.outputs.find((o) => o.name === 'video.mp4');
  assert.ok(mp4);
  assert.match(run.stdout(), new RegExp(`^saved video\\.mp4 \\(${mp4.bytes} bytes`, 'm'));
  const saved = join(dir, 'video.mp4');
  assert.equal(statSync(saved).size, mp4.bytes, 'the whole file was downloaded');
  const media = await probeMedia(saved);
  assert.equal(media.video?.codec, 'h264');
  assert.equal(media.audio?.codec, 'aac');
  assert.ok(Math.abs(media.durationSec - (production.durationSec ?? 0)) < 0.5, `duration ${media.durationSec} vs ${production.durationSec}`);

  // The webhook of that production reached the receiver, verified, once.
  await pollUntil('the production.succeeded delivery', () => hook.stdout().includes(`production.succeeded ${id} succeeded`), 60_000, 100);
  assert.equal(hook.stdout().split(`production.succeeded ${id}`).length - 1, 1, hook.output());
});

test('every ```js block of the guide parses', async () => {
  const blocks = fencedBlocks(guide, 'js');
  assert.ok(blocks.length >= 8, `${blocks.length} js blocks`);
  const dir = scratch('api-guide-js');
  for (const [i, block] of blocks.entries()) {
    const file = join(dir, `block-${i}.mjs`);
    writeFileSync(file, block);
    await promisify(execFile)(process.execPath, ['--check', file]).catch((error: Error & { stderr?: string }) => {
      assert.fail(`js block ${i} (${block.split('\n')[0]}) does not parse:\n${error.stderr ?? error.message}`);
    });
  }
});

interface CurlCall {
  method: string;
  path: string;
  line: string;
}

/** Every curl in the ```sh blocks of `markdown`: its method and the path after $AIPROD_URL. */
function curlCalls(markdown: string): { calls: CurlCall[]; variablePaths: string[]; withoutBase: string[] } {
  const calls: CurlCall[] = [];
  const variablePaths: string[] = [];
  const withoutBase: string[] = [];
  for (const block of fencedBlocks(markdown, 'sh')) {
    for (const line of block.replace(/\\\n/g, ' ').split('\n')) {
      for (const segment of segments(line)) {
        const argv = words(segment);
        if (argv[0] !== 'curl') continue;
        const url = argv.find((w) => w.startsWith('$AIPROD_URL') || w.startsWith('${AIPROD_URL}'));
        if (!url) {
          withoutBase.push(segment);
          continue;
        }
        const path = (url.replace(/^\$\{?AIPROD_URL\}?/, '').split('?')[0] ?? '').trim();
        if (path.startsWith('$')) {
          variablePaths.push(segment);
          continue;
        }
        const x = argv.findIndex((w) => w === '-X' || w === '--request');
        const sendsData = argv.some((w) => ['-d', '--data', '--data-binary', '--data-raw', '--data-urlencode', '-F', '--form'].includes(w));
        const method = x >= 0 ? (argv[x + 1] ?? '').toUpperCase() : sendsData && !argv.includes('-G') ? 'POST' : 'GET';
        calls.push({ method, path, line: segment });
      }
    }
  }
  return { calls, variablePaths, withoutBase };
}

/** Whether `path` (with $VARIABLE segments) fits the OpenAPI template `template` ({param} segments). */
function fits(path: string, template: string): boolean {
  const a = path.split('/');
  const b = template.split('/');
  return a.length === b.length && a.every((seg, i) => /^\{.+\}$/.test(b[i] as string) || seg === b[i] || (seg.startsWith('$') && /^\{.+\}$/.test(b[i] as string)));
}

test('every curl in the guide calls a route that openapi.json has, with that method', () => {
  const openapi = JSON.parse(readFileSync(join(ROOT, 'openapi.json'), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
  const { calls, variablePaths, withoutBase } = curlCalls(guide);
  assert.deepEqual(withoutBase, [], 'every curl in the guide goes to "$AIPROD_URL…"');
  assert.ok(calls.length >= 30, `${calls.length} curl calls found`);
  // The one download through the signed link a production gave out ("$AIPROD_URL$URL").
  assert.ok(variablePaths.every((s) => /"\$AIPROD_URL\$URL"/.test(s)), variablePaths.join('\n'));
  const missing = calls.filter((c) => !Object.entries(openapi.paths).some(([template, ops]) => fits(c.path, template) && Object.hasOwn(ops, c.method.toLowerCase())));
  assert.deepEqual(missing.map((c) => `${c.method} ${c.path}   (${c.line})`), [], 'curl calls with no such route in openapi.json');
});
