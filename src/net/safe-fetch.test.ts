/**
 * The media fetcher against real local servers on 127.0.0.1, reachable only through the explicit
 * allow-list; an injected lookup makes test names (media.example.test) resolve where a case needs.
 * Refusals are checked one by one, each also asserting that nothing reached the server and no file
 * (not even a .part) was left behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { LookupAddress } from 'node:dns';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { AppError } from '../contract/errors.js';
import { loadEnv } from '../config/env.js';
import { resolveBinaries } from '../media/binaries.js';
import { runProcess } from '../media/ffmpeg.js';
import { encodePng } from '../media/png.js';
import { classifyAddress, describeAddress, inAnyNetwork, parseCidr, type AddressKind } from './ip-address.js';
import { MediaFetchError, type MediaFetchErrorKind } from './media-fetch-error.js';
import { decideKind, sniffMedia } from './media-sniff.js';
import { fetchMedia, type FetchMediaOptions, type LookupAll } from './safe-fetch.js';

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

interface Seen {
  path: string;
  host: string | undefined;
  servername?: string | false;
}

interface TestServer {
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(server: http.Server | https.Server, seen: Seen[]): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function record(seen: Seen[], handler: Handler): Handler {
  return (req, res) => {
    const socket = req.socket as { servername?: string | false };
    seen.push({ path: req.url ?? '', host: req.headers.host, servername: socket.servername });
    handler(req, res);
  };
}

function startServer(handler: Handler): Promise<TestServer> {
  const seen: Seen[] = [];
  return listen(http.createServer(record(seen, handler)), seen);
}

/** A lookup that knows only `names`; records every call so tests can count resolutions. */
function fakeLookup(names: Record<string, string[]>): LookupAll & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string): Promise<LookupAddress[]> => {
    calls.push(hostname);
    const addresses = names[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}

async function assertRefused(work: Promise<unknown>, kind: MediaFetchErrorKind, message: RegExp): Promise<MediaFetchError> {
  let caught: unknown;
  await work.then(
    () => assert.fail(`expected a ${kind} refusal`),
    (error: unknown) => {
      caught = error;
    },
  );
  assert.ok(caught instanceof MediaFetchError, `expected MediaFetchError, got ${String(caught)}`);
  assert.equal(caught.kind, kind);
  assert.match(caught.message, message);
  const status = { unsafe_url: 422, media_too_large: 413, media_type_refused: 415, media_fetch_failed: 502 }[kind];
  assert.equal(caught.status, status);
  return caught;
}

const PNG = encodePng(4, 3, new Uint8Array(4 * 3 * 3).fill(200));
const HTML = Buffer.from('<!doctype html><html><head><title>Not an image</title></head><body>hello</body></html>');

let dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aiprod-safe-fetch-'));
  dirs.push(dir);
  return dir;
}

async function assertEmpty(dir: string): Promise<void> {
  assert.deepEqual(await readdir(dir).catch(() => []), []);
}

after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

// ── the address classifier ───────────────────────────────────────────────────────────────────

describe('classifyAddress', () => {
  const table: [string, AddressKind][] = [
    ['8.8.8.8', 'public'],
    ['93.184.215.14', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::808:808', 'public'],
    ['2002:808:808::1', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'reserved'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link_local'],
    ['169.254.1.1', 'link_local'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'link_local'],
    ['::ffff:0:7f00:1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['::7f00:1', 'loopback'],
    ['::8.8.8.8', 'reserved'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b:1::1', 'reserved'],
    ['2002:a00:1::', 'private'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:a9fe:a9fe::', 'link_local'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'tunnel'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['100::1', 'reserved'],
    ['4000::1', 'reserved'],
    ['[::1]', 'loopback'],
    ['localhost', 'invalid'],
    ['1.2.3', 'invalid'],
    ['127.1', 'invalid'],
  ];
  for (const [ip, kind] of table) {
    test(`${ip} is ${kind}`, () => assert.equal(classifyAddress(ip).kind, kind));
  }

  test('describes embedded IPv4 with the form that carried it', () => {
    assert.equal(describeAddress('::ffff:7f00:1'), 'a loopback address ::ffff:7f00:1 (IPv4-mapped IPv6 for 127.0.0.1)');
    assert.equal(describeAddress('169.254.169.254'), 'a link-local address (the cloud metadata service) 169.254.169.254');
  });

  test('allow-list blocks match, IPv4 blocks also match IPv4-mapped IPv6', () => {
    const nets = ['10.1.0.0/16', 'fd00::/8', '127.0.0.1'].map(parseCidr);
    assert.ok(inAnyNetwork('10.1.200.3', nets));
    assert.ok(!inAnyNetwork('10.2.0.1', nets));
    assert.ok(inAnyNetwork('fd00:1::5', nets));
    assert.ok(inAnyNetwork('::ffff:127.0.0.1', nets));
    assert.ok(!inAnyNetwork('127.0.0.2', nets));
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'example.com', '10.0.0.0/x', '']) assert.throws(() => parseCidr(bad), /not an IP address or CIDR/);
  });
});

// ── sniffing ─────────────────────────────────────────────────────────────────────────────────

describe('sniffMedia', () => {
  const hex = (h: string): Buffer => Buffer.from(h.replace(/\s/g, ''), 'hex');
  const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc(64 - b.length)]);
  const table: [string, Buffer, string | undefined][] = [
    ['PNG', PNG, 'image/png'],
    ['JPEG', hex('ffd8ffe000104a464946'), 'image/jpeg'],
    ['GIF', Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'), 'image/gif'],
    ['WebP', Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8 ', 'latin1'), 'image/webp'],
    ['BMP', pad(Buffer.concat([Buffer.from('BM', 'latin1'), hex('460000000000000036000000'), hex('28000000')])), 'image/bmp'],
    ['text starting BM', Buffer.from('BMW owners club newsletter, issue 4'), undefined],
    ['MP4', pad(Buffer.concat([hex('00000020'), Buffer.from('ftypisom', 'latin1')])), 'video/mp4'],
    ['MOV', pad(Buffer.concat([hex('00000014'), Buffer.from('ftypqt  ', 'latin1')])), 'video/quicktime'],
    ['M4A', pad(Buffer.concat([hex('0000001c'), Buffer.from('ftypM4A ', 'latin1')])), 'audio/mp4'],
    ['AVIF', pad(Buffer.concat([hex('0000001c'), Buffer.from('ftypavif', 'latin1')])), 'image/avif'],
    ['WebM', pad(Buffer.concat([hex('1a45dfa39f4286810142f7810142f2810442f381084282847765626d'), Buffer.alloc(4)])), 'video/webm'],
    ['Matroska', pad(Buffer.concat([hex('1a45dfa3a34286810142f7810142f2810442f381084282886d6174726f736b61')])), 'video/x-matroska'],
    ['MP3 (ID3)', Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'), 'audio/mpeg'],
    ['MP3 (frame sync)', hex('fffb9000'), 'audio/mpeg'],
    ['AAC (ADTS)', hex('fff15080'), 'audio/aac'],
    ['WAV', Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'), 'audio/wav'],
    ['Ogg Vorbis', pad(Buffer.from('OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1e\x01vorbis', 'latin1')), 'audio/ogg'],
    ['Ogg Theora', pad(Buffer.from('OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x2a\x80theora', 'latin1')), 'video/ogg'],
    ['FLAC', Buffer.from('fLaC\x00\x00\x00\x22', 'latin1'), 'audio/flac'],
    ['HTML', HTML, undefined],
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), undefined],
    ['empty', Buffer.alloc(0), undefined],
  ];
  for (const [name, bytes, mime] of table) {
    test(`${name} → ${mime ?? 'refused'}`, () => assert.equal(sniffMedia(bytes)?.mime, mime));
  }

  test('the declared type picks among what the bytes allow, and may not contradict them', () => {
    const mp4 = sniffMedia(pad(Buffer.concat([hex('00000020'), Buffer.from('ftypisom', 'latin1')])));
    assert.ok(mp4);
    assert.deepEqual(decideKind(mp4, 'audio/mp4', ['audio']), { kind: 'audio', allowed: true });
    assert.deepEqual(decideKind(mp4, 'application/octet-stream', ['audio']), { kind: 'audio', allowed: true });
    assert.deepEqual(decideKind(mp4, undefined, ['image']), { kind: 'video', allowed: false });
    assert.deepEqual(decideKind(mp4, 'image/png', ['image', 'video']), { contradicts: 'image' });
    const png = sniffMedia(PNG);
    assert.ok(png);
    assert.deepEqual(decideKind(png, 'text/html; charset=utf-8', ['image']), { contradicts: 'text' });
    assert.deepEqual(decideKind(png, 'IMAGE/PNG', ['image']), { kind: 'image', allowed: true });
  });
});

// ── refusals before any connection ───────────────────────────────────────────────────────────

describe('fetchMedia refuses unsafe URLs', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
  });
  after(() => server.close());

  const refusal = async (url: string, message: RegExp, extra: Partial<FetchMediaOptions> = {}): Promise<MediaFetchError> => {
    const dir = await freshDir();
    const lookup = fakeLookup({});
    const error = await assertRefused(fetchMedia(url, { dir, allowedKinds: ['image'], lookup, field: 'scenes.0.visual.src', ...extra }), 'unsafe_url', message);
    assert.deepEqual(server.seen, [], 'nothing may reach the server');
    await assertEmpty(dir);
    return error;
  };
  const refuse = async (url: string, message: RegExp, extra: Partial<FetchMediaOptions> = {}): Promise<void> => {
    await refusal(url, message, extra);
  };

  test('127.0.0.1 (the test server itself, not on the allow-list)', () =>
    refuse(`http://127.0.0.1:${server.port}/a.png`, /^scenes\.0\.visual\.src: http:\/\/127\.0\.0\.1:\d+\/a\.png points to a loopback address 127\.0\.0\.1$/));
  test('10.0.0.1', () => refuse('http://10.0.0.1/a.png', /points to a private address 10\.0\.0\.1/));
  test('169.254.169.254 (cloud metadata)', () =>
    refuse('http://169.254.169.254/latest/meta-data/', /points to a link-local address \(the cloud metadata service\) 169\.254\.169\.254/));
  test('[::1]', () => refuse(`http://[::1]:${server.port}/a.png`, /points to a loopback address ::1/));
  test('[::ffff:127.0.0.1]', () => refuse(`http://[::ffff:127.0.0.1]:${server.port}/`, /loopback address ::ffff:7f00:1 \(IPv4-mapped IPv6 for 127\.0\.0\.1\)/));
  test('[64:ff9b::10.0.0.1] (NAT64) and [2002:a00:1::] (6to4)', async () => {
    await refuse('http://[64:ff9b::10.0.0.1]/', /private address 64:ff9b::a00:1 \(NAT64 for 10\.0\.0\.1\)/);
    await refuse('http://[2002:a00:1::]/', /private address 2002:a00:1:: \(6to4 for 10\.0\.0\.1\)/);
  });
  test('0.0.0.0 and [::]', async () => {
    await refuse(`http://0.0.0.0:${server.port}/`, /unspecified address 0\.0\.0\.0/);
    await refuse(`http://[::]:${server.port}/`, /unspecified address ::/);
  });
  for (const form of ['2130706433', '0x7f.1', '0x7f000001', '017700000001', '127.1', '0177.0.0.1', '127.0.0.1.']) {
    test(`http://${form}/ (an IPv4 literal in another spelling)`, () => refuse(`http://${form}:${server.port}/`, /loopback address 127\.0\.0\.1/));
  }
  test('file:// and ftp://', async () => {
    await refuse('file:///etc/passwd', /uses the file: scheme; only http and https/);
    await refuse('ftp://media.example.test/a.png', /uses the ftp: scheme/);
    await refuse('gopher://media.example.test/', /uses the gopher: scheme/);
  });
  test('a user name or password in the URL', async () => {
    const allowed = { allowHosts: ['media.example.test'], lookup: fakeLookup({ 'media.example.test': ['127.0.0.1'] }) };
    const error = await refusal(`http://user:secret@media.example.test:${server.port}/a.png`, /contains a user name or password/, allowed);
    assert.doesNotMatch(error.message, /secret/);
    await refuse(`http://user@media.example.test:${server.port}/a.png`, /contains a user name or password/, allowed);
    await refuse(`http://@media.example.test:${server.port}/a.png`, /contains a user name or password/, allowed);
  });
  test('localhost by name, before any lookup', () => refuse(`http://localhost:${server.port}/`, /names this machine/));
  test('not a URL', () => refuse('not a url', /not a url is not a valid URL/));

  test('a name that resolves to a private address', async () => {
    const lookup = fakeLookup({ 'evil.example.test': ['10.0.0.1'] });
    await refuse('http://evil.example.test/a.png', /http:\/\/evil\.example\.test\/a\.png resolves to a private address 10\.0\.0\.1/, { lookup });
    assert.deepEqual(lookup.calls, ['evil.example.test']);
  });
  test('a name that resolves to a public and a private address', async () => {
    const lookup = fakeLookup({ 'mixed.example.test': ['93.184.215.14', '169.254.169.254'] });
    await refuse('http://mixed.example.test/a.png', /resolves to a link-local address \(the cloud metadata service\) 169\.254\.169\.254/, { lookup });
  });
  test('a name that resolves to an IPv4-mapped loopback', async () => {
    const lookup = fakeLookup({ 'sneaky.example.test': ['2606:4700::1', '::ffff:127.0.0.1'] });
    await refuse('https://sneaky.example.test/a.png', /resolves to a loopback address ::ffff:127\.0\.0\.1/, { lookup });
  });
  test('the query string (which may hold a signature) stays out of the message', async () => {
    const error = await assertRefused(
      fetchMedia('http://10.0.0.1/a.png?X-Amz-Signature=secret', { dir: await freshDir(), allowedKinds: ['image'] }),
      'unsafe_url',
      /http:\/\/10\.0\.0\.1\/a\.png\?… points to/,
    );
    assert.doesNotMatch(error.message, /secret/);
    assert.equal(error.details[0]?.path, 'url');
  });
});

// ── through real local servers ───────────────────────────────────────────────────────────────

describe('fetchMedia over HTTP', () => {
  let server: TestServer;
  let mp4: Buffer;
  let hang: IncomingMessage[] = [];
  const big = Buffer.concat([PNG, Buffer.alloc(20_000, 7)]);

  before(async () => {
    const dir = await freshDir();
    const env = loadEnv();
    const { ffmpeg } = resolveBinaries(env, env.PATH);
    const file = join(dir, 'clip.mp4');
    await runProcess(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=10:d=0.5', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file]);
    mp4 = await readFile(file);

    server = await startServer((req, res) => {
      const [path = '', query = ''] = (req.url ?? '').split('?');
      const hop = Number(new URLSearchParams(query).get('n') ?? 0);
      switch (path) {
        case '/logo.png':
          return void res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length }).end(PNG);
        case '/clip':
          return void res.writeHead(302, { location: '/files/clip.mp4' }).end();
        case '/files/clip.mp4':
          return void res.writeHead(200, { 'content-type': 'video/mp4' }).end(mp4);
        case '/page.png':
          return void res.writeHead(200, { 'content-type': 'image/png' }).end(HTML);
        case '/disguised':
          return void res.writeHead(200, { 'content-type': 'text/html' }).end(PNG);
        case '/big-declared':
          return void res.writeHead(200, { 'content-type': 'image/png', 'content-length': big.length }).end(big);
        case '/big-chunked': {
          res.writeHead(200, { 'content-type': 'image/png' });
          for (let i = 0; i < big.length; i += 1000) res.write(big.subarray(i, i + 1000));
          return void res.end();
        }
        case '/to-metadata':
          return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/' }).end();
        case '/to-loopback-ip':
          return void res.writeHead(301, { location: `http://127.0.0.1:${server.port}/logo.png` }).end();
        case '/to-internal-name':
          return void res.writeHead(307, { location: '//internal.example.test/logo.png' }).end();
        case '/to-ftp':
          return void res.writeHead(302, { location: 'ftp://media.example.test/logo.png' }).end();
        case '/loop':
          return void res.writeHead(302, { location: `/loop?n=${hop + 1}` }).end();
        case '/missing':
          return void res.writeHead(404).end('no');
        case '/broken':
          return void res.writeHead(503).end('later');
        case '/hang':
          return void hang.push(req);
        default:
          return void res.writeHead(500).end();
      }
    });
  });
  after(async () => {
    hang = [];
    await server.close();
  });

  /** media.example.test → the test server, allowed by name: the one way in. */
  const viaName = async (path: string, extra: Partial<FetchMediaOptions> = {}) => {
    const lookup = fakeLookup({ 'media.example.test': ['127.0.0.1'], 'internal.example.test': ['10.20.30.40'] });
    const dir = await freshDir();
    const seenBefore = server.seen.length;
    const work = fetchMedia(`http://media.example.test:${server.port}${path}`, {
      dir,
      allowedKinds: ['image'],
      allowHosts: ['media.example.test'],
      lookup,
      ...extra,
    });
    return { work, dir, lookup, seen: () => server.seen.slice(seenBefore) };
  };

  test('a PNG via a fake name: connects to the pinned address, sends the original Host', async () => {
    const { work, dir, lookup, seen } = await viaName('/logo.png?v=1');
    const media = await work;
    assert.equal(media.contentType, 'image/png');
    assert.equal(media.kind, 'image');
    assert.equal(media.bytes, PNG.length);
    assert.equal(media.finalUrl, `http://media.example.test:${server.port}/logo.png?v=1`);
    assert.equal(media.path.startsWith(dir) && media.path.endsWith('.png'), true);
    assert.deepEqual(await readFile(media.path), PNG);
    // The OS cannot resolve media.example.test: reaching the server at all proves the pin was used.
    assert.deepEqual(seen(), [{ path: '/logo.png?v=1', host: `media.example.test:${server.port}`, servername: undefined }]);
    assert.deepEqual(lookup.calls, ['media.example.test'], 'resolved exactly once');
    assert.deepEqual(await readdir(dir), [media.path.slice(dir.length + 1)]);
  });

  test('an MP4 behind a relative redirect: one lookup per hop, fileName honoured', async () => {
    const { work, dir, lookup, seen } = await viaName('/clip', { allowedKinds: ['video'], fileName: 'scene-2' });
    const media = await work;
    assert.equal(media.contentType, 'video/mp4');
    assert.equal(media.kind, 'video');
    assert.equal(media.path, join(dir, 'scene-2.mp4'));
    assert.deepEqual(await readFile(media.path), mp4);
    assert.equal(media.finalUrl, `http://media.example.test:${server.port}/files/clip.mp4`);
    assert.deepEqual(seen().map((s) => s.host), [`media.example.test:${server.port}`, `media.example.test:${server.port}`]);
    assert.deepEqual(lookup.calls, ['media.example.test', 'media.example.test']);
  });

  test('127.0.0.1 by address when its block is on allowCidrs', async () => {
    const media = await fetchMedia(`http://127.0.0.1:${server.port}/logo.png`, { dir: await freshDir(), allowedKinds: ['image'], allowCidrs: ['127.0.0.0/8'] });
    assert.equal(media.contentType, 'image/png');
  });

  test('a redirect from the allowed host to the metadata address', async () => {
    const { work, dir, seen } = await viaName('/to-metadata');
    await assertRefused(work, 'unsafe_url', /\/to-metadata redirects to http:\/\/169\.254\.169\.254\/latest\/meta-data\/iam\/, which points to a link-local address/);
    assert.equal(seen().length, 1);
    await assertEmpty(dir);
  });

  test('a redirect from the allowed host to its own IP, which is not allowed', async () => {
    const { work, seen } = await viaName('/to-loopback-ip');
    await assertRefused(work, 'unsafe_url', /redirects to http:\/\/127\.0\.0\.1:\d+\/logo\.png, which points to a loopback address 127\.0\.0\.1/);
    assert.equal(seen().length, 1);
  });

  test('a redirect to a name that resolves to a private address', async () => {
    const { work, lookup } = await viaName('/to-internal-name');
    await assertRefused(work, 'unsafe_url', /redirects to http:\/\/internal\.example\.test\/logo\.png, which resolves to a private address 10\.20\.30\.40/);
    assert.deepEqual(lookup.calls, ['media.example.test', 'internal.example.test']);
  });

  test('a redirect to ftp://', async () => {
    const { work } = await viaName('/to-ftp');
    await assertRefused(work, 'unsafe_url', /redirects to ftp:\/\/media\.example\.test\/logo\.png, which uses the ftp: scheme/);
  });

  test('too many redirects', async () => {
    const { work, seen } = await viaName('/loop', { maxRedirects: 3 });
    const error = await assertRefused(work, 'media_fetch_failed', /redirects more than 3 times/);
    assert.equal(error.retryable, false);
    assert.equal(seen().length, 4, 'the first request and three redirects');
  });

  test('an oversized file with a declared length is refused before reading', async () => {
    const { work, dir } = await viaName('/big-declared', { maxBytes: 10_000 });
    await assertRefused(work, 'media_too_large', /is 20\d{3} bytes, over the limit of 10000 bytes/);
    await assertEmpty(dir);
  });

  test('an oversized file without a declared length is cut off while streaming, the partial file deleted', async () => {
    const { work, dir } = await viaName('/big-chunked', { maxBytes: 10_000 });
    await assertRefused(work, 'media_too_large', /sends more than that without declaring its length/);
    await assertEmpty(dir);
  });

  test('HTML served as image/png', async () => {
    const { work, dir } = await viaName('/page.png');
    await assertRefused(work, 'media_type_refused', /is not an image, video or audio file we read \(served as image\/png\)/);
    await assertEmpty(dir);
  });

  test('a PNG served as text/html contradicts its declared type', async () => {
    const { work, dir } = await viaName('/disguised');
    await assertRefused(work, 'media_type_refused', /is served as text\/html, but its bytes are image\/png/);
    await assertEmpty(dir);
  });

  test('a video where only images are accepted', async () => {
    const { work, dir } = await viaName('/files/clip.mp4', { field: 'logo.src' });
    await assertRefused(work, 'media_type_refused', /^logo\.src: .* is video \(video\/mp4\); logo\.src accepts image$/);
    await assertEmpty(dir);
  });

  test('HTTP errors: 404 is final, 503 retryable', async () => {
    const missing = await assertRefused((await viaName('/missing')).work, 'media_fetch_failed', /answered HTTP 404/);
    assert.equal(missing.retryable, false);
    const broken = await assertRefused((await viaName('/broken')).work, 'media_fetch_failed', /answered HTTP 503/);
    assert.equal(broken.retryable, true);
  });

  test('a server that never answers times out, retryably', async () => {
    const { work, dir } = await viaName('/hang', { timeoutMs: 300 });
    const error = await assertRefused(work, 'media_fetch_failed', /did not finish downloading within 300 ms/);
    assert.equal(error.retryable, true);
    await assertEmpty(dir);
  });

  test('a cancelled signal aborts the download', async () => {
    const controller = new AbortController();
    const { work } = await viaName('/hang', { signal: controller.signal });
    setImmediate(() => controller.abort());
    await assert.rejects(work, (error: unknown) => error instanceof AppError && error.code === 'aborted');
  });

  test('a refused connection is retryable', async () => {
    const closed = await startServer(() => undefined);
    await closed.close();
    const lookup = fakeLookup({ 'media.example.test': ['127.0.0.1'] });
    const error = await assertRefused(
      fetchMedia(`http://media.example.test:${closed.port}/a.png`, { dir: await freshDir(), allowedKinds: ['image'], allowHosts: ['media.example.test'], lookup }),
      'media_fetch_failed',
      /ECONNREFUSED/,
    );
    assert.equal(error.retryable, true);
  });

  test('a name that does not exist is final', async () => {
    const error = await assertRefused(
      fetchMedia('http://nowhere.example.test/a.png', { dir: await freshDir(), allowedKinds: ['image'], lookup: fakeLookup({}) }),
      'media_fetch_failed',
      /names a host that does not exist \(nowhere\.example\.test\)/,
    );
    assert.equal(error.retryable, false);
  });
});

// ── HTTPS: SNI and certificate checked against the original name ─────────────────────────────

function selfSignedCert(dir: string): { key: Buffer; cert: Buffer } | undefined {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const made = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=media.example.test', '-addext', 'subjectAltName=DNS:media.example.test', '-keyout', key, '-out', cert,
  ]);
  if (made.status !== 0) return undefined;
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

describe('fetchMedia over HTTPS', () => {
  let tls: { key: Buffer; cert: Buffer } | undefined;
  let server: TestServer | undefined;
  let plain: TestServer | undefined;

  before(async () => {
    tls = selfSignedCert(await freshDir());
    if (!tls) return;
    plain = await startServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
    const seen: Seen[] = [];
    const plainPort = plain.port;
    server = await listen(
      https.createServer(
        { key: tls.key, cert: tls.cert },
        record(seen, (req, res) => {
          if (req.url === '/downgrade') return void res.writeHead(302, { location: `http://media.example.test:${plainPort}/logo.png` }).end();
          res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
        }),
      ),
      seen,
    );
  });
  after(async () => {
    await server?.close();
    await plain?.close();
  });

  const options = (extra: Partial<FetchMediaOptions> = {}): FetchMediaOptions => ({
    dir: '',
    allowedKinds: ['image'],
    allowHosts: ['media.example.test'],
    lookup: fakeLookup({ 'media.example.test': ['127.0.0.1'] }),
    ca: tls?.cert,
    ...extra,
  });

  test('pins the address while SNI, Host and the certificate check use the name', async (t) => {
    if (!server) return t.skip('openssl is not available');
    const media = await fetchMedia(`https://media.example.test:${server.port}/logo.png`, options({ dir: await freshDir() }));
    assert.equal(media.contentType, 'image/png');
    assert.deepEqual(server.seen.at(-1), { path: '/logo.png', host: `media.example.test:${server.port}`, servername: 'media.example.test' });
  });

  test('an untrusted certificate fails, not retryably', async (t) => {
    if (!server) return t.skip('openssl is not available');
    const error = await assertRefused(
      fetchMedia(`https://media.example.test:${server.port}/logo.png`, options({ dir: await freshDir(), ca: undefined })),
      'media_fetch_failed',
      /self[- ]signed certificate/,
    );
    assert.equal(error.retryable, false);
  });

  test('a redirect from https to http is refused', async (t) => {
    if (!server || !plain) return t.skip('openssl is not available');
    const dir = await freshDir();
    await assertRefused(fetchMedia(`https://media.example.test:${server.port}/downgrade`, options({ dir })), 'unsafe_url', /redirects from https to plain http/);
    assert.deepEqual(plain.seen, []);
    await assertEmpty(dir);
  });
});
