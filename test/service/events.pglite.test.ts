/**
 * The event streams (SSE and WebSocket) at their edges: a final status that lands between a
 * stream's start and its first read is not lost (the stream subscribes first, then reads), and a
 * SIGTERMed `aiprod serve` with a stream open ends the stream (an `event: shutdown`) and exits
 * instead of waiting for the client to leave.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type WebSocket from 'ws';
import type { Production } from '../../src/contract/production.js';
import { EVENTS_CHANNEL } from '../../src/db/channels.js';
import { startTestService, type TestService } from './harness.js';
import { killAll, readSse, startCli, tempDir, type SseEvent } from './processes.js';

let svc: TestService;
let base: string;
before(async () => {
  svc = await startTestService({ role: 'api' });
  base = await svc.app!.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await killAll();
  await svc?.stop();
});

const brief = { scenes: [{ narration: 'Followed to the end.', durationSec: 2, visual: { type: 'gradient', colors: ['#1e3a8a', '#111827'] } }], resolution: '480p', fps: 24 };

/**
 * Makes the `nth` read of production `id` race a final status: it reads the production, then
 * cancels it and waits until the change notification has been delivered in this process, and only
 * then returns what it read (still queued). A stream that subscribes after its read misses it.
 */
function raceOnRead(id: string, nth: number): () => void {
  const original = svc.productions.get.bind(svc.productions);
  let calls = 0;
  svc.productions.get = async (tenantId: string, wanted: string): Promise<Production> => {
    const read = await original(tenantId, wanted);
    if (wanted !== id || ++calls !== nth) return read;
    let delivered: () => void = () => undefined;
    const notified = new Promise<void>((resolve) => (delivered = resolve));
    const unlisten = await svc.database.listen(EVENTS_CHANNEL, (payload) => {
      if (payload.includes(id)) delivered();
    });
    await svc.productions.cancel(tenantId, id);
    await notified;
    await unlisten();
    return read;
  };
  return () => {
    svc.productions.get = original;
  };
}

test('SSE: a final status written between the stream opening and its first read ends the stream', async () => {
  const { id } = await svc.productions.create('default', brief);
  const restore = raceOnRead(id, 1);
  let events: SseEvent[];
  try {
    events = await readSse(`${base}/v1/productions/${id}/events`, svc.auth, 20_000);
  } finally {
    restore();
  }
  const statuses = events.map((e) => (JSON.parse(e.data) as { status: string }).status);
  assert.equal(statuses.at(-1), 'canceled', JSON.stringify(statuses));
  assert.deepEqual(statuses, ['queued', 'canceled'], 'one event per change, the stale read first');
});

test('WebSocket: the same race ends the stream with code 1000 after the final status', async () => {
  const { id } = await svc.productions.create('default', brief);
  // The first read is the 404 check before the upgrade; the stream's own read is the second.
  const restore = raceOnRead(id, 2);
  const messages: { status: string }[] = [];
  let ws: WebSocket | undefined;
  try {
    const closed = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the WebSocket did not close; got ${JSON.stringify(messages)}`)), 20_000);
      void svc.app!.injectWS(`/v1/productions/${id}/ws`, { headers: svc.auth }, {
        onInit: (socket) => {
          socket.on('message', (data) => messages.push(JSON.parse(String(data)) as { status: string }));
          socket.on('close', (code) => {
            clearTimeout(timer);
            resolve(code);
          });
        },
      }).then((socket) => (ws = socket), reject);
    });
    assert.equal(await closed, 1000);
  } finally {
    restore();
    ws?.terminate();
  }
  assert.equal(messages.at(-1)?.status, 'canceled', JSON.stringify(messages));
});

test('aiprod serve with an SSE stream open: SIGTERM ends the stream with a shutdown event and the process exits', { timeout: 180_000 }, async () => {
  const dataDir = tempDir('events-shutdown');
  const GRACE_SEC = 30;
  try {
    const server = startCli(['serve', '--role', 'api', '--port', '0'], {
      AIPROD_DATA_DIR: dataDir,
      AIPROD_CACHE_DIR: join(dataDir, 'cache'),
      DATABASE_URL: '',
      STORAGE_URL: '',
      ADMIN_API_KEY: '',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_SEC: String(GRACE_SEC),
    });
    const [, address] = await server.waitForStdout(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 90_000);
    const key = /^ {2}(aiprod_\S+)$/m.exec(server.stdout())?.[1];
    assert.ok(key, server.output());
    const auth = { authorization: `Bearer ${key}` };
    // An API without a worker: the production stays queued and its stream stays open.
    const created = await fetch(`${address}/v1/productions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(brief) });
    const { id } = (await created.json()) as { id: string };
    assert.equal(created.status, 202);
    let opened: () => void = () => undefined;
    const first = new Promise<void>((resolve) => (opened = resolve));
    const stream = readSse(`${address}/v1/productions/${id}/events`, auth, (GRACE_SEC + 60) * 1000, () => opened());
    await first;
    server.killGroup('SIGTERM');
    const exit = await server.exitWithin((GRACE_SEC + 15) * 1000);
    assert.ok(exit, `still running ${GRACE_SEC + 15} s after SIGTERM with a stream open\n${server.output()}`);
    assert.equal(exit.code, 0, server.output());
    const events = await stream;
    assert.deepEqual(events.map((e) => e.event), ['production', 'shutdown'], 'the client is told why the stream ended');
  } finally {
    await killAll();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a service stopping with a WebSocket stream open closes it with 1001 (going away)', async () => {
  const other = await startTestService({ role: 'api' });
  let stopped = false;
  try {
    await other.app!.ready();
    const { id } = await other.productions.create('default', brief);
    let opened: () => void = () => undefined;
    const first = new Promise<void>((resolve) => (opened = resolve));
    let closed: (code: number) => void = () => undefined;
    const code = new Promise<number>((resolve) => (closed = resolve));
    await other.app!.injectWS(`/v1/productions/${id}/ws`, { headers: other.auth }, {
      onInit: (socket) => {
        socket.on('message', () => opened());
        socket.on('close', (c) => closed(c));
      },
    });
    await first;
    await other.stop();
    stopped = true;
    assert.equal(await code, 1001);
  } finally {
    if (!stopped) await other.stop();
  }
});
