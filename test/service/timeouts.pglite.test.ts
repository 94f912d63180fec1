/**
 * Errors the HTTP server raises before fastify routes anything — a request over the time limit
 * (408), headers over the size limit (431), a malformed request (400) — in the API's error shape,
 * over real sockets; and a slow body is cut at REQUEST_TIMEOUT_SEC, not at Node's own check interval.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { startTestService, type TestService } from './harness.js';

let svc: TestService;
let port: number;
before(async () => {
  svc = await startTestService({ role: 'api', env: { REQUEST_TIMEOUT_SEC: '2' } });
  const address = await svc.app!.listen({ port: 0, host: '127.0.0.1' });
  port = Number(new URL(address).port);
});
after(async () => {
  await svc?.stop();
});

/** Everything the server sends until it closes the connection. */
function collect(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
  });
}

/** Status, headers and parsed JSON body of a raw HTTP/1.1 answer. */
function parse(raw: string): { status: number; headers: Record<string, string>; body: { error?: { code: string; message: string } } } {
  const [head = '', body = ''] = raw.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) };
}

test('a body sent too slowly is cut at REQUEST_TIMEOUT_SEC with a 408 in the API error shape', async () => {
  const socket = connect(port, '127.0.0.1');
  const answer = collect(socket);
  socket.write(`POST /v1/productions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${svc.key}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"prompt":"`);
  // One byte every 250 ms for at most 20 s: the request can never complete, so only the server's
  // timeout can end it, and with a 2 s limit it must do so long before the client stops.
  let sent = 0;
  let closed = false;
  void answer.then(() => (closed = true));
  while (!closed && sent < 80) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (!closed && socket.writable) socket.write('a');
    sent++;
  }
  socket.destroy();
  const raw = await answer;
  assert.ok(sent < 80, `the server was still reading the body after ${sent} dribbles (${raw.length} bytes of answer)`);
  const res = parse(raw);
  assert.equal(res.status, 408, raw);
  assert.equal(res.body.error?.code, 'request_timeout');
  assert.match(res.body.error?.message ?? '', /2 s/);
  assert.ok(res.headers['x-request-id']);
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
});

test('headers over the size limit answer 431 in the API error shape', async () => {
  const socket = connect(port, '127.0.0.1');
  const answer = collect(socket);
  socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  const res = parse(await answer);
  assert.equal(res.status, 431);
  assert.equal(res.body.error?.code, 'headers_too_large');
  assert.ok(res.headers['x-request-id']);
});

test('a malformed request answers 400 in the API error shape', async () => {
  const socket = connect(port, '127.0.0.1');
  const answer = collect(socket);
  socket.write('NOT-HTTP\r\n\r\n');
  const res = parse(await answer);
  assert.equal(res.status, 400);
  assert.equal(res.body.error?.code, 'invalid_request');
});

test('on a kept-alive connection, a second request sent too slowly still gets its 408', async () => {
  const socket = connect(port, '127.0.0.1');
  const answer = collect(socket);
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
  while (!received.includes('"ok"')) await new Promise((resolve) => setTimeout(resolve, 50));
  socket.write(`POST /v1/productions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${svc.key}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"prompt":"`);
  let closed = false;
  void answer.then(() => (closed = true));
  for (let sent = 0; !closed && sent < 80; sent++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (!closed && socket.writable) socket.write('a');
  }
  socket.destroy();
  const raw = await answer;
  const second = raw.slice(raw.indexOf('HTTP/1.1', 1));
  assert.ok(raw.indexOf('HTTP/1.1', 1) > 0, `no second answer: ${raw}`);
  const res = parse(second);
  assert.equal(res.status, 408, second);
  assert.equal(res.body.error?.code, 'request_timeout');
});
