/** postWebhook against a real local server: what is sent, what is kept, and what is refused. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { compileAllowList } from '../net/url-policy.js';
import { postWebhook } from './sender.js';

let server: http.Server;
let port: number;
const seen: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const path = (req.url ?? '').split('?')[0];
      if (path === '/long') res.end('x'.repeat(2000));
      else if (path === '/nul') res.end('a\u0000b');
      else if (path === '/redirect') res.writeHead(302, { location: '/long' }).end();
      else if (path === '/slow') setTimeout(() => res.end('late'), 1000).unref();
      else res.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const local = { timeoutMs: 2000, allow: compileAllowList([], ['127.0.0.1']) };
const post = (path: string, host = '127.0.0.1') => ({ url: `http://${host}:${port}${path}`, body: '{"a":1}', headers: { 'Content-Type': 'application/json', 'AIPROD-Event-Id': 'evt_1' } });

test('POSTs the body with its headers and keeps the first 512 bytes of the answer', async () => {
  const result = await postWebhook(post('/long?x=1'), local);
  assert.equal(result.statusCode, 200);
  assert.equal(result.error, null);
  assert.equal(result.responseStart, 'x'.repeat(512));
  assert.ok(result.latencyMs >= 0);
  const got = seen.find((s) => s.path === '/long?x=1');
  assert.equal(got?.body, '{"a":1}');
  assert.equal(got?.headers['aiprod-event-id'], 'evt_1');
  assert.equal(got?.headers['content-length'], '7');
  assert.equal((await postWebhook(post('/nul'), local)).responseStart, 'ab', 'NUL bytes are dropped (PostgreSQL text refuses them)');
});

test('a redirect is an answer, not followed', async () => {
  const before = seen.length;
  const result = await postWebhook(post('/redirect'), local);
  assert.equal(result.statusCode, 302);
  assert.equal(seen.length, before + 1, 'the Location was not requested');
});

test('no answer within the timeout is an error without a status', async () => {
  const result = await postWebhook(post('/slow'), { ...local, timeoutMs: 200 });
  assert.equal(result.statusCode, null);
  assert.match(result.error ?? '', /timeout: no answer within 200 ms/);
  assert.ok(result.latencyMs >= 190, `${result.latencyMs} ms: the receiver answered after 200 ms`);
});

test('private addresses are refused unless allow-listed, also when a name resolves to one', async () => {
  const strict = { timeoutMs: 2000, allow: compileAllowList() };
  const before = seen.length;
  assert.match((await postWebhook(post('/'), strict)).error ?? '', /^unsafe_url: .*loopback address 127\.0\.0\.1/);
  assert.match((await postWebhook({ ...post('/'), url: 'http://10.0.0.1/x' }, strict)).error ?? '', /private address 10\.0\.0\.1/);
  const lookup = async () => [{ address: '127.0.0.1', family: 4 }];
  assert.match((await postWebhook(post('/', 'hooks.example.com'), { ...strict, lookup })).error ?? '', /hooks\.example\.com.* resolves to a loopback address/);
  assert.equal(seen.length, before, 'nothing reached the server');
  const byName = await postWebhook(post('/', 'hooks.example.com'), { timeoutMs: 2000, allow: compileAllowList(['hooks.example.com']), lookup });
  assert.equal(byName.statusCode, 204, 'an allow-listed host name');
  assert.equal(seen.at(-1)?.headers.host, `hooks.example.com:${port}`, 'Host keeps the name; the socket went to the checked address');
});

test('a refused connection is recorded with its code', async () => {
  const closed = http.createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const free = (closed.address() as AddressInfo).port;
  closed.close();
  const result = await postWebhook({ ...post('/'), url: `http://127.0.0.1:${free}/` }, local);
  assert.equal(result.statusCode, null);
  assert.match(result.error ?? '', /ECONNREFUSED/);
});
